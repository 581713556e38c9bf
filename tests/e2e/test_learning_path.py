"""A learning path in a real browser, end to end: the teacher builds a two-unit path with a prerequisite and a
playlist of three activities in different bands; the student sees the right next skill, picks an activity,
marks it done and says "I'm ready to show" with a chosen way; the teacher scores it from the queue; the
student's level, next skill and pace update; the guardian sees the pace and what is next."""

from __future__ import annotations

import re
from datetime import date, timedelta

from gradebook.extensions import db
from tests.builders import PASSWORD, make_evidence, make_section
from tests.e2e.conftest import log_in, screenshot

TODAY = date.today()


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile("/login$"))


def label(standard) -> str:  # type: ignore[no-untyped-def]
    return f"{standard.code} · {standard.short_name}"


def add_unit(page, title: str, standards, starts: date, target: date) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("#new-unit")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.get_by_label("Unit title").fill(title)
    form.get_by_label("Starts").fill(starts.isoformat())
    form.get_by_label("Target date").fill(target.isoformat())
    for standard in standards:
        form.get_by_label(label(standard)).check()
    form.get_by_role("button", name="Add unit").click()
    page.get_by_text(f"Unit “{title}” added to the path.").wait_for()


def add_activity(page, title: str, band: str, kind: str, home: bool = False) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("#new-activity")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.get_by_label("Title").fill(title)
    form.get_by_label("What to do").fill(f"{title}: follow the sheet, then check your answers.")
    form.get_by_label("Link (http or https)").fill("https://example.org/" + title.lower().replace(" ", "-"))
    form.get_by_label("Kind").select_option(label=kind)
    form.get_by_label("About how long (minutes)").fill("20")
    form.get_by_label("Suits", exact=True).select_option(label=band)
    if home:
        form.get_by_label("Suits home").check()
    form.get_by_role("button", name="Add to playlist").click()
    page.get_by_text(f"“{title}” added to the playlist.").wait_for()


def test_a_path_from_the_teachers_editor_to_the_students_choice_the_queue_and_the_family(page) -> None:
    world = make_section(students=1, standards=3, guardians=True, name="Science 7")
    world.section.subject = "Science"
    student, guardian = world.students[0], world.guardians[0]
    student.name, guardian.name = "Maya Lopez", "Ana Lopez"
    skill1, skill2, skill3 = world.standards
    make_evidence(world, student, skill1, 3, on=TODAY - timedelta(days=12))  # skill 1 at Meets already
    make_evidence(world, student, skill2, 2, on=TODAY - timedelta(days=10))  # skill 2 Approaching
    db.session.commit()

    # The teacher lays out two units, a prerequisite, a playlist in three bands and a way to show.
    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    page.goto(f"/sections/{world.section.id}/path")
    add_unit(page, "Forces", [skill1, skill2], TODAY - timedelta(days=20), TODAY + timedelta(days=10))
    add_unit(page, "Energy", [skill3], TODAY + timedelta(days=11), TODAY + timedelta(days=40))
    prerequisites = page.locator("#prerequisites")
    prerequisites.get_by_label("This standard").select_option(label=label(skill2))
    prerequisites.get_by_label("needs first").select_option(label=label(skill1))
    prerequisites.get_by_role("button", name="Add prerequisite").click()
    page.get_by_text("Prerequisite added.").wait_for()
    screenshot(page, "path-editor-e2e")
    page.goto(f"/sections/{world.section.id}/path/standards/{skill2.id}")
    add_activity(page, "Watch the forces intro", "Getting started", "Watch")
    add_activity(page, "Practice set on forces", "To reach mastery", "Practice", home=True)
    add_activity(page, "Design your own test", "Going beyond", "Make")
    ways = page.locator("#ways")
    ways.get_by_label("Way to show").fill("Conversation")
    ways.get_by_label("What it involves (optional)").fill("Explain it to me in your own words.")
    ways.get_by_role("button", name="Add way to show").click()
    page.get_by_text("“Conversation” is now a way to show it.").wait_for()
    log_out(page)

    # The student: skill 2 is next (its prerequisite, skill 1, is at mastery); skill 3 waits for it.
    log_in(page, student.email, PASSWORD)
    page.wait_for_url(re.compile("/portfolio$"))
    page.get_by_role("link", name="My path in Science 7").click()
    page.wait_for_url(re.compile(r"/path$"))
    focus = page.locator("#focus")
    assert focus.locator("#focus-title").inner_text().startswith("Skill 2")
    assert "working on now" in focus.inner_text().lower()
    assert "Skill 1" not in focus.locator(".next-list").inner_text()  # at mastery already: not next
    pace = page.locator(".pace-card")
    assert "Forces" in pace.inner_text() and "On track" in pace.inner_text()
    assert "1 of 2 skills at Meets" in pace.inner_text()
    # Her band (Approaching: to reach mastery) comes first; the other bands are a tap away.
    playlist = page.locator("#playlist")
    assert playlist.locator("h3").first.inner_text() == "To reach mastery"
    assert not playlist.get_by_role("heading", name="Watch the forces intro").is_visible()
    activity = playlist.locator(".activity", has_text="Practice set on forces")
    activity.get_by_role("button", name="Pick this").click()
    page.get_by_text("Picked. Say when you start working on it.").wait_for()
    assert "#activity-" not in page.url  # htmx swapped the page's main part in place: no navigation
    activity = page.locator("#playlist .activity", has_text="Practice set on forces")
    activity.get_by_label("One line about it").fill("Drawing the arrows first made it easy.")
    activity.get_by_role("button", name="I'm done").click()
    page.get_by_text("Done! Well done.").wait_for()
    assert page.locator(".topbar").count() == 1 and page.locator("#path-main").count() == 1  # htmx swapped a part
    assert "✓ Done" in page.locator("#my-activities").inner_text()
    ready = page.locator("#ready")
    ready.get_by_label("Conversation").check()
    ready.get_by_label("What will you bring or do?").fill("My practice set, and I can explain the arrows.")
    ready.get_by_role("button", name="I'm ready to show").click()
    page.get_by_text("Your teacher has it in their queue.").wait_for()
    assert "In your teacher's queue: Conversation" in page.locator("#ready").inner_text()
    screenshot(page, "student-path-e2e")
    log_out(page)

    # The teacher scores it from the queue.
    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    page.goto(f"/sections/{world.section.id}/path/queue")
    item = page.locator(".queue li", has_text="Maya Lopez")
    assert "Conversation" in item.inner_text() and "I can explain the arrows" in item.inner_text()
    item.get_by_label("Score or state").fill("4")
    item.get_by_label("Observed on").fill(TODAY.isoformat())
    item.get_by_label("Feedback").fill("You explained every force clearly.")
    item.get_by_role("button", name="Score it").click()
    page.get_by_text("Scored: Maya Lopez").wait_for()
    log_out(page)

    # The student's level, next skill and pace have moved on.
    log_in(page, student.email, PASSWORD)
    page.wait_for_url(re.compile("/portfolio$"))
    page.get_by_role("link", name="My path in Science 7").click()
    assert page.locator("#focus #focus-title").inner_text().startswith("Skill 3")
    skill2_row = page.locator("#map .map-skills li", has_text="Skill 2")
    assert "Meets" in skill2_row.inner_text()
    forces = page.locator("#map .unit", has_text="Forces")
    assert "Done" in forces.locator(".pace").inner_text() and "All 2 skills at Meets." in forces.inner_text()
    assert "Energy" in page.locator(".pace-card").inner_text()
    log_out(page)

    # The guardian sees the pace and what is next, in family words.
    log_in(page, guardian.email, PASSWORD)
    page.wait_for_url(re.compile("/family$"))
    assert "On track in Science." in page.locator(".cards").inner_text()  # unit 1 done, unit 2 not begun
    page.goto(f"/family/children/{student.id}")
    paths = page.locator("#paths")
    text = paths.inner_text()
    assert "Where Maya is on each path" in text and "Not started" in text
    assert "Working on next: Do skill 3 well." in text
    screenshot(page, "family-child-e2e")
    assert page.js_errors == []
