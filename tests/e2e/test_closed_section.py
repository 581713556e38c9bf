"""A section closed with its term, in a real browser: the student's path reads, its forms are disabled and a
sentence says why (in English and in Spanish); a change sent anyway is refused with why."""

from __future__ import annotations

from datetime import date, timedelta

from gradebook.extensions import db
from gradebook.models import Term
from gradebook.services.terms import rollover
from tests.builders import PASSWORD, make_evidence, make_section
from tests.e2e.conftest import log_in, screenshot
from tests.path_builders import make_path, make_way


def test_a_closed_sections_path_reads_with_its_forms_disabled_in_both_languages(page) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=4, name="Science 7")
    student = world.students[0]
    student.name = "Maya Lopez"
    term = db.session.get(Term, world.section.term_id)
    term.starts_on, term.ends_on = date.today() - timedelta(days=60), date.today() + timedelta(days=30)
    db.session.commit()
    make_path(world, per_unit=2)
    make_way(world, world.standards[0], "Conversation")
    make_evidence(world, student, world.standards[0], 2, on=date.today() - timedelta(days=3),
                  feedback="Check your units.")
    rollover(db.session, None, term=term, next_name="Spring")
    db.session.commit()

    log_in(page, student.email, PASSWORD)
    page.goto(f"/portfolio/sections/{world.section.id}/path")
    page.get_by_text("This class ended with its term on").wait_for()
    assert page.get_by_role("button", name="Pick this").first.is_disabled()
    assert page.locator("form.ready-form").count() == 0 and page.locator("form.choose-focus").count() == 0
    screenshot(page, "closed-section-student-path-en")

    page.get_by_role("button", name="Español").click()
    page.get_by_text("Esta clase terminó con su periodo").wait_for()
    assert page.get_by_role("button", name="Escoger esta").first.is_disabled()
    screenshot(page, "closed-section-student-path-es")
    assert page.js_errors == []
