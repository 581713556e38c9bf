"""The feedback loop in a real browser: a teacher's feedback reaches the student, the student answers and asks
for a reassessment, the teacher sees both, and the family sees the new level and the feedback."""

from __future__ import annotations

import re
from datetime import date, timedelta

from gradebook.extensions import db
from tests.builders import PASSWORD, make_evidence, make_section
from tests.e2e.conftest import log_in, screenshot

FEEDBACK = "Your diagram now labels every force; next, add the units."
REPLY = "Thank you! I added units to my lab notebook too."
NOTE = "I redid the force diagrams with units and checked them with a partner."


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile("/login$"))


def test_feedback_travels_from_teacher_to_student_and_back_and_reaches_the_family(page) -> None:
    world = make_section(students=1, standards=2, guardians=True)
    student, guardian, standard = world.students[0], world.guardians[0], world.standards[0]
    student.name, guardian.name = "Maya Lopez", "Ana Lopez"
    make_evidence(world, student, standard, 2, on=date.today() - timedelta(days=14))  # Approaching, to begin with
    db.session.commit()

    # The teacher records a 4 with feedback on the cell-detail page.
    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    page.goto(f"/sections/{world.section.id}/students/{student.id}/standards/{standard.id}")
    add = page.locator("form[action$='/observations']")
    add.get_by_label("Score or state").fill("4")
    add.get_by_label("Observed on").fill(date.today().isoformat())
    add.get_by_label("Feedback").fill(FEEDBACK)
    add.get_by_role("button", name="Add").click()
    page.get_by_text("Evidence added.").wait_for()
    log_out(page)

    # The student sees it as new, opens "Why this level?", replies and asks for a reassessment.
    log_in(page, student.email, PASSWORD)
    page.wait_for_url(re.compile("/portfolio$"))
    feedback = page.locator("#feedback .feedback-item", has_text=FEEDBACK)
    assert feedback.locator(".tag.new").inner_text() == "new"
    screenshot(page, "student-home")
    page.get_by_role("link", name="Skill 1", exact=True).click()
    page.get_by_role("heading", name="Why this level?", level=1).wait_for()
    page.get_by_label("Reply or reflect").fill(REPLY)
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your reply is sent. Your teacher and your family can read it.").wait_for()
    page.get_by_label("What have you done since to learn this?").fill(NOTE)
    page.get_by_role("button", name="Ask to show it again").click()
    page.get_by_text("Your request to show it again is with your teacher.").wait_for()
    assert page.get_by_text(REPLY).is_visible()
    screenshot(page, "why-page")
    page.goto("/portfolio")
    assert page.locator("#feedback .tag.new").count() == 0
    log_out(page)

    # The teacher sees the reply on My sections and the request on the reteach page.
    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    replies = page.locator("section", has=page.get_by_role("heading", name="Replies from students"))
    assert REPLY in replies.inner_text()
    page.get_by_role("link", name="1 reassessment request").click()
    page.get_by_role("heading", name="Waiting for reassessment").wait_for()
    assert page.get_by_role("row", name=re.compile("Maya Lopez")).filter(has_text=NOTE).count() == 1
    log_out(page)

    # The family sees the new level and the feedback on the child's page.
    log_in(page, guardian.email, PASSWORD)
    page.wait_for_url(re.compile("/family$"))
    page.get_by_role("link", name="See how Maya is doing").click()
    page.get_by_role("heading", name="How Maya is doing").wait_for()
    mastered = page.locator("section", has=page.get_by_role("heading", name="What is going well for Maya"))
    assert "Meets" in mastered.locator(".standard-row", has_text="Do skill 1 well.").inner_text()
    assert page.locator(".feedback-item", has_text=FEEDBACK).is_visible()
    screenshot(page, "family-child")
    assert page.js_errors == []
