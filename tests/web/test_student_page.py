"""A teacher's page for one student: narrative, notes beside the student's words, comments, links to evidence."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import AuditEvent, Comment, Goal, Narrative, PortfolioEntry, PortfolioEntryEvidence
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import make_section


def test_a_teacher_writes_the_narrative_shown_at_the_conference(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    login_as(world.teacher)
    url = f"/sections/{world.section.id}/students/{world.students[0].id}"
    assert client.post(url, data={"action": "narrative", "body": "Curious and careful."}).status_code == 303
    assert db.session.scalar(select(Narrative.body)) == "Curious and careful."
    conference = client.get(f"/students/{world.students[0].id}/conference").get_data(as_text=True)
    assert "Curious and careful." in conference


def test_a_teacher_comments_on_a_shared_entry_but_not_a_private_one(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    shared = PortfolioEntry(student_id=world.students[0].id, title="Shared", visibility="teachers")
    private = PortfolioEntry(student_id=world.students[0].id, title="Mine", visibility="private")
    db.session.add_all([shared, private])
    db.session.commit()
    login_as(world.teacher)
    url = f"/sections/{world.section.id}/students/{world.students[0].id}"
    assert client.post(url, data={"action": "comment_entry", "subject_id": shared.id, "body": "Great"}).status_code == 303
    assert client.post(url, data={"action": "comment_entry", "subject_id": private.id, "body": "x"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1


def test_an_empty_comment_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    goal = Goal(student_id=world.students[0].id, title="Goal")
    db.session.add(goal)
    db.session.commit()
    login_as(world.teacher)
    response = client.post(f"/sections/{world.section.id}/students/{world.students[0].id}",
                           data={"action": "comment_goal", "subject_id": goal.id, "body": "  "})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_a_teacher_links_an_entry_to_evidence(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    entry = PortfolioEntry(student_id=world.students[0].id, title="Lab", visibility="family")
    db.session.add(entry)
    evidence = record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                               competency_id=world.standards[0].id, value=CellValue("scored", 3.0),
                               observed_on=date(2026, 10, 1))
    db.session.commit()
    login_as(world.teacher)
    client.post(f"/sections/{world.section.id}/students/{world.students[0].id}",
                data={"action": "link", "entry_id": entry.id, "evidence_id": evidence.id})
    assert db.session.scalar(select(func.count()).select_from(PortfolioEntryEvidence)) == 1


def test_the_teachers_view_of_a_student_is_audited(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    login_as(world.teacher)
    client.get(f"/sections/{world.section.id}/students/{world.students[0].id}")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.student_id == world.students[0].id)) == 1


def test_evidence_to_link_is_named_by_date_assessment_standard_and_result(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from tests.builders import make_assessment

    world = make_section(students=1)
    student, standard = world.students[0], world.standards[0]
    db.session.add(PortfolioEntry(student_id=student.id, title="Lab", visibility="teachers"))
    quiz = make_assessment(world, standards=[standard], title="Forces quiz", on=date(2026, 10, 5))
    record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                    competency_id=standard.id, value=CellValue("scored", 3.0), observed_on=quiz.assessed_on,
                    assessment=quiz)
    record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                    competency_id=standard.id, value=CellValue("not_yet", None), observed_on=date(2026, 10, 6))
    db.session.commit()
    login_as(world.teacher)
    html = client.get(f"/sections/{world.section.id}/students/{student.id}").get_data(as_text=True)
    assert f"5 Oct · Forces quiz · {standard.code} · 3</option>" in html
    assert f"6 Oct · Observation · {standard.code} · not yet</option>" in html
