"""The comment bank picker on the entry sheet, keyboard first, in a real browser: type to filter, ↓ + Enter to
pick, Esc to close, and half-typed text left with Tab is a search, not feedback."""

from __future__ import annotations

import re

from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import CommentBankEntry, Evidence
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import PASSWORD, make_assessment, make_section
from tests.e2e.conftest import log_in, screenshot

AXES = "Label your axes before you plot."
UNITS = "Check your units on every line."


def _sheet(page):  # type: ignore[no-untyped-def]
    world = make_section(students=2, standards=1)
    assessment = make_assessment(world, standards=world.standards)
    for student in world.students:
        record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                        competency_id=world.standards[0].id, value=CellValue("scored", 3.0),
                        observed_on=assessment.assessed_on, assessment=assessment)
    for body in (AXES, UNITS):
        db.session.add(CommentBankEntry(teacher_id=world.teacher.id, competency_id=world.standards[0].id,
                                        body=body, uses=2))
    db.session.commit()
    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    page.goto(f"/sections/{world.section.id}/assessments/{assessment.id}")
    return world


def _feedback(student_id: int) -> str:
    db.session.rollback()  # see what the server committed
    return db.session.scalars(select(Evidence.feedback).where(Evidence.student_id == student_id)).first() or ""


def test_typing_filters_down_moves_and_enter_picks_then_leaving_saves(page) -> None:  # type: ignore[no-untyped-def]
    world = _sheet(page)
    first = world.students[0]
    box = page.get_by_role("combobox", name=f"Feedback for {first.name}")
    box.click()
    box.press_sequentially("axes")
    listbox = page.get_by_role("listbox")
    assert box.get_attribute("aria-expanded") == "true"
    assert listbox.get_by_role("option").all_inner_texts() == [AXES]
    screenshot(page, "comment-bank-picker", full_page=False)
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == listbox.get_by_role("option").first.get_attribute("id")
    box.press("Enter")
    assert box.input_value() == AXES and box.get_attribute("aria-expanded") == "false"
    box.press("Tab")
    page.locator(f"#feedback-{first.id} ~ .feedback-status.saved").wait_for()
    assert _feedback(first.id) == AXES
    assert not page.js_errors


def test_half_typed_text_left_with_tab_is_not_saved_until_enter(page) -> None:  # type: ignore[no-untyped-def]
    world = _sheet(page)
    first = world.students[0]
    box = page.get_by_role("combobox", name=f"Feedback for {first.name}")
    box.click()
    box.press_sequentially("Lab")
    box.press("Tab")
    status = page.locator(f"#feedback-{first.id} ~ .feedback-status")
    status.filter(has_text="Not saved").wait_for()
    page.wait_for_timeout(300)
    assert _feedback(first.id) == "" and box.input_value() == "Lab"
    screenshot(page, "comment-bank-half-typed", full_page=False)
    box.focus()
    box.press("Enter")  # "Lab" as it is, deliberately: saved, and the sheet moves on to the next student
    page.locator(f"#feedback-{first.id} ~ .feedback-status.saved").wait_for()
    assert _feedback(first.id) == "Lab"


def test_escape_closes_the_list_and_text_of_ones_own_saves_on_tab(page) -> None:  # type: ignore[no-untyped-def]
    world = _sheet(page)
    first, second = world.students
    box = page.get_by_role("combobox", name=f"Feedback for {first.name}")
    box.click()
    box.press("Alt+ArrowDown")
    assert page.get_by_role("listbox").get_by_role("option").count() >= 2  # the whole bank, and the next step
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("Great graph")  # matches nothing in the bank: the teacher's own words
    assert box.get_attribute("aria-expanded") == "false"
    box.press("Tab")
    page.locator(f"#feedback-{first.id} ~ .feedback-status.saved").wait_for()
    assert _feedback(first.id) == "Great graph"
    other = page.get_by_role("combobox", name=f"Feedback for {second.name}")
    other.click()
    other.press_sequentially("unit")
    other.press("Escape")  # closing the list says the text is meant as it is
    other.press("Tab")
    page.locator(f"#feedback-{second.id} ~ .feedback-status.saved").wait_for()
    assert _feedback(second.id) == "unit"


def test_save_to_bank_offers_the_comment_at_once(page) -> None:  # type: ignore[no-untyped-def]
    world = _sheet(page)
    first, second = world.students
    box = page.get_by_role("combobox", name=f"Feedback for {first.name}")
    box.fill("Explain why the pattern continues.")
    page.get_by_role("button", name=f"Save the feedback for {first.name} to your comment bank").click()
    # (Leaving the box saved it as feedback too, which already keeps it in the bank.)
    page.get_by_text(re.compile(r"(Saved to|Already in) your comment bank\.")).wait_for()
    other = page.get_by_role("combobox", name=f"Feedback for {second.name}")
    other.click()
    other.press_sequentially("pattern")
    assert page.get_by_role("listbox").get_by_role("option").all_inner_texts() == ["Explain why the pattern continues."]
    db.session.rollback()
    assert db.session.scalar(select(CommentBankEntry.id).where(
        CommentBankEntry.body == "Explain why the pattern continues.")) is not None
    assert not page.js_errors


def test_the_open_picker_has_no_accessibility_violations(page) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.test_accessibility import violations

    world = _sheet(page)
    box = page.get_by_role("combobox", name=f"Feedback for {world.students[0].name}")
    box.click()
    box.press("Alt+ArrowDown")
    box.press("ArrowDown")
    assert box.get_attribute("aria-expanded") == "true"
    assert violations(page) == []


def test_the_section_standards_picker_opens_a_framework_and_searches_with_no_violations(page) -> None:  # type: ignore[no-untyped-def]
    from tests.builders import make_framework, make_user
    from tests.e2e.test_accessibility import violations

    world = make_section(students=1, standards=2)
    make_framework(standards=6, code="MA")  # "MA framework …" comes first, none of it chosen
    admin = make_user("admin")
    log_in(page, admin.email, PASSWORD)
    page.wait_for_url(re.compile("/admin/?$"))
    page.goto(f"/admin/sections/{world.section.id}")
    framework = page.locator("details.framework-pick").first
    framework.locator("summary").click()
    framework.get_by_role("checkbox").first.wait_for()  # loaded when opened
    page.get_by_label("Find a standard by its code or words").fill("skill")
    page.locator("#standards-found fieldset").wait_for()
    screenshot(page, "section-standards-picker")
    assert violations(page) == []
    assert not page.js_errors


def test_on_the_cell_detail_a_picked_comment_fills_the_feedback(page) -> None:  # type: ignore[no-untyped-def]
    world = _sheet(page)
    student, standard = world.students[0], world.standards[0]
    page.goto(f"/sections/{world.section.id}/students/{student.id}/standards/{standard.id}")
    picker = page.get_by_role("combobox", name="From your comment bank")
    picker.click()
    picker.press_sequentially("units")
    picker.press("ArrowDown")
    picker.press("Enter")
    add = page.locator("form[action$='/observations']")
    assert add.get_by_label("Feedback").input_value() == UNITS
    assert "/observations" not in page.url  # Enter picked; it did not send the form
    screenshot(page, "comment-bank-cell-detail", full_page=False)
    assert not page.js_errors
