"""The record follows a student into next year, in a real browser: the new term's teacher sees last year's
mastery on the grid cell and in its detail, and accepts it with one click; the student's record page shows
both years (screenshots in test-artifacts/screens/)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import Evidence
from tests.builders import PASSWORD, make_evidence
from tests.e2e.conftest import log_in, screenshot
from tests.record_builders import close, make_term, make_years, section_in


def test_the_next_terms_teacher_sees_last_years_mastery_on_the_cell_and_accepts_it(page) -> None:  # type: ignore[no-untyped-def]
    years = make_years(1, standards=3, scores=[3])
    student, standard, last_year = years.student, years.standards[0], years.years[0]
    close(last_year.section)
    new = section_in(make_term("Year 2031", 2031), years.standards, [student], name="Science 8")
    make_evidence(new, student, years.standards[1], 2, on=date(2026, 9, 10))
    teacher_email, student_email = new.teacher.email, student.email
    grid_url, record_url = f"/sections/{new.section.id}", f"/students/{student.id}/record"

    log_in(page, teacher_email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    page.goto(grid_url)
    cell = page.locator("td.cell a").first
    assert "shown last year at Meets" in (cell.get_attribute("title") or "")
    assert page.locator("td.cell .earlier-mark").count() == 3
    screenshot(page, "record-grid-shown-last-year", full_page=False)
    cell.click()  # opens in the panel beside the grid
    panel = page.locator("#panel")
    panel.get_by_role("heading", name="Shown last year").wait_for()
    assert "Science 2020" in panel.inner_text()
    panel.get_by_role("button", name="Accept as evidence here").click()
    panel.get_by_text("Accepted: the level shown last year is now evidence here").wait_for()
    assert "Accepted as evidence here" in panel.inner_text()
    screenshot(page, "record-cell-accepted", full_page=False)
    db.session.rollback()
    carried = db.session.scalar(select(Evidence).where(Evidence.section_id == new.section.id,
                                                       Evidence.competency_id == standard.id))
    assert carried is not None and carried.carried_from_section_id == last_year.section.id and carried.score == 3

    page.goto(record_url)
    page.get_by_role("heading", name="Maya's skills over the years").wait_for()
    assert "Science 2020" in page.inner_text("main") and "Science 8" in page.inner_text("main")
    screenshot(page, "record-page-teacher")
    page.context.clear_cookies()
    log_in(page, student_email, PASSWORD)
    page.wait_for_url(re.compile("/portfolio$"))
    page.get_by_role("link", name="My skills over the years").click()
    page.get_by_role("heading", name="Your skills over the years").wait_for()
    screenshot(page, "record-page-student")
    assert page.js_errors == []
