"""Two tabs on the same evidence in the cell detail, in a real browser: the later save shows both values and
the choice, keeps the typed score and feedback, and "Use mine" saves them."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import Evidence
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import PASSWORD, make_section
from tests.e2e.conftest import log_in


def _edit(tab, score: str, feedback: str) -> None:  # type: ignore[no-untyped-def]
    tab.get_by_text("Edit or remove").click()
    form = tab.locator("details.edit-evidence form").first
    form.get_by_label("Score or state").fill(score)
    form.get_by_label("Feedback").fill(feedback)
    form.get_by_role("button", name="Save").click()


def test_two_tabs_on_the_same_evidence_the_second_sees_both_values_and_loses_nothing(page) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                    competency_id=world.standards[0].id, value=CellValue("scored", 1.0),
                    observed_on=date(2026, 10, 5), feedback="First try.")
    url = f"/sections/{world.section.id}/students/{world.students[0].id}/standards/{world.standards[0].id}"
    db.session.commit()
    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    first = page
    second = page.context.new_page()
    first.goto(url)
    second.goto(url)

    _edit(first, "2", "Better.")
    first.get_by_text("Evidence updated").wait_for()
    _edit(second, "3.5", "Check your units.")
    second.get_by_text("you typed").wait_for()
    note = second.locator(".cell-error .conflict").inner_text()
    assert "They saved 2" in note and "you typed 3.5" in note
    form = second.locator("details.edit-evidence form").first
    assert form.get_by_label("Score or state").input_value() == "3.5"
    assert form.get_by_label("Feedback").input_value() == "Check your units."
    assert second.get_by_role("link", name="Keep theirs").is_visible()

    form.get_by_role("button", name="Use mine").click()
    second.get_by_text("Evidence updated").wait_for()
    db.session.rollback()
    stored = db.session.scalar(select(Evidence))
    assert (stored.score, stored.feedback) == (3.5, "Check your units.")
    assert first.js_errors == []
