"""The comment bank grows as the teacher writes feedback, and is offered again with the next steps."""

from __future__ import annotations

from flask.testing import FlaskClient

from gradebook.extensions import db
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import make_assessment, make_section


def test_feedback_joins_the_bank_and_is_offered_on_the_next_assessment(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    first = make_assessment(world, standards=world.standards, title="First")
    record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                    competency_id=world.standards[0].id, value=CellValue("scored", 2.0),
                    observed_on=first.assessed_on, assessment=first)
    db.session.commit()
    login_as(world.teacher)
    client.post(f"/sections/{world.section.id}/assessments/{first.id}/feedback/{world.students[0].id}",
                data={f"feedback-{world.students[0].id}": "Label your axes before you plot."})
    second = make_assessment(world, standards=world.standards, title="Second")
    page = client.get(f"/sections/{world.section.id}/assessments/{second.id}").get_data(as_text=True)
    assert '<option value="Label your axes before you plot.">' in page


def test_the_entry_page_offers_each_standards_next_step(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    assessment = make_assessment(world, standards=world.standards)
    login_as(world.teacher)
    page = client.get(f"/sections/{world.section.id}/assessments/{assessment.id}").get_data(as_text=True)
    assert "Next step: Level 3 on skill 1." in page
