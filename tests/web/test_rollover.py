"""Terms end and begin without losing anything: the rollover keeps every row, makes the old term's sections
read-only (writes refused with a clear message, pages still readable) and opens the next term."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import Base, Enrollment, Evidence, Section, SectionStandard, SectionTeacher, Term
from gradebook.services import ServiceError
from gradebook.services.evidence import CellValue, record_evidence, set_override
from gradebook.services.terms import rollover
from tests.builders import make_assessment, make_evidence, make_section, make_user

SKIP = {"audit_log"}  # the rollover writes its own audit row


def _counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables if table.name not in SKIP}


@pytest.fixture
def fall(app: Flask):  # type: ignore[no-untyped-def]
    world = make_section(students=3, standards=2, name="Science 7")
    quiz = make_assessment(world, title="Forces quiz")
    for i, student in enumerate(world.students):
        make_evidence(world, student, world.standards[0], 1 + i, assessment=quiz, feedback="Good start.")
    return world, quiz


def test_the_rollover_keeps_every_row_and_makes_the_old_term_read_only(fall) -> None:  # type: ignore[no-untyped-def]
    world, quiz = fall
    before = _counts()
    report = rollover(db.session, make_user("admin"), term=db.session.get(Term, world.section.term_id),
                      next_name="Spring 2027")
    db.session.commit()
    after = _counts()
    assert after == {**before, "users": before["users"] + 1, "terms": before["terms"] + 1}
    assert report.sections_closed == ["Science 7"] and report.next_created
    section = db.session.get(Section, world.section.id)
    assert section.closed_at is not None and db.session.get(Term, section.term_id).closed_at is not None
    spring = db.session.scalar(select(Term).where(Term.name == "Spring 2027"))
    assert spring.starts_on == date(2026, 12, 19) and spring.closed_at is None
    with pytest.raises(ServiceError, match="read-only"):
        record_evidence(db.session, world.teacher, section=section, student_id=world.students[0].id,
                        competency_id=world.standards[0].id, value=CellValue("scored", 4),
                        observed_on=date(2026, 12, 1), assessment=quiz)
    with pytest.raises(ServiceError, match="read-only"):
        set_override(db.session, world.teacher, section=section, student_id=world.students[0].id,
                     competency_id=world.standards[0].id, level_points=4, reason="Shown in class")


def test_a_closed_sections_pages_still_read_and_its_writes_are_refused_with_why(
        client: FlaskClient, login_as, fall) -> None:  # type: ignore[no-untyped-def]
    world, quiz = fall
    rollover(db.session, None, term=db.session.get(Term, world.section.term_id), next_name="Spring 2027")
    db.session.commit()
    login_as(world.teacher)
    sid, student, standard = world.section.id, world.students[0], world.standards[0]
    for url in (f"/sections/{sid}", f"/sections/{sid}/assessments/{quiz.id}",
                f"/sections/{sid}/students/{student.id}/standards/{standard.id}", f"/sections/{sid}/reteach"):
        assert client.get(url).status_code == 200, url
    response = client.post(f"/sections/{sid}/assessments/{quiz.id}/cells/{student.id}/{standard.id}",
                           data={f"cell-{student.id}-{standard.id}": "4"}, headers={"HX-Request": "true"})
    assert response.status_code == 423
    assert "closed" in response.get_data(as_text=True) and "read-only" in response.get_data(as_text=True)
    assert db.session.query(Evidence).filter_by(section_id=sid, student_id=student.id).one().score == 1


def test_the_rollover_can_carry_sections_into_the_next_term(fall) -> None:  # type: ignore[no-untyped-def]
    world, _quiz = fall
    term = db.session.get(Term, world.section.term_id)
    report = rollover(db.session, None, term=term, next_name="Spring 2027", copy_sections=True)
    db.session.commit()
    new = db.session.scalar(select(Section).where(Section.term_id == report.next_term.id))
    assert new.name == "Science 7" and new.closed_at is None
    assert db.session.query(SectionTeacher).filter_by(section_id=new.id).one().teacher_id == world.teacher.id
    assert db.session.query(SectionStandard).filter_by(section_id=new.id).count() == 2
    assert db.session.query(Enrollment).filter_by(section_id=new.id).count() == 3
    again = rollover(db.session, None, term=term, next_name="Spring 2027", copy_sections=True)  # changes nothing
    assert again.sections_closed == [] and again.sections_copied == []


def test_the_next_term_must_come_after(fall) -> None:  # type: ignore[no-untyped-def]
    world, _quiz = fall
    term = db.session.get(Term, world.section.term_id)
    with pytest.raises(ServiceError, match="another term"):
        rollover(db.session, None, term=term, next_name=term.name)
    with pytest.raises(ServiceError, match="start after"):
        rollover(db.session, None, term=term, next_name="Before", next_starts=date(2026, 1, 1))


def test_the_rollover_command(app: Flask, fall) -> None:  # type: ignore[no-untyped-def]
    world, _quiz = fall
    term_name = db.session.get(Term, world.section.term_id).name
    runner = app.test_cli_runner()
    result = runner.invoke(args=["gradebook", "rollover", "--term", term_name, "--next", "Spring 2027",
                                 "--copy-sections"])
    assert result.exit_code == 0, result.output
    assert "Fall is closed: 1 section(s) made read-only" in result.output and "Nothing was deleted." in result.output
    db.session.expire_all()
    assert db.session.get(Section, world.section.id).closed_at is not None
    missing = runner.invoke(args=["gradebook", "rollover", "--term", "Nope", "--next", "X"])
    assert missing.exit_code != 0 and "No term named" in missing.output


def test_an_admin_ends_the_term_with_the_button(client: FlaskClient, login_as, fall) -> None:  # type: ignore[no-untyped-def]
    world, _quiz = fall
    login_as(make_user("admin"))
    term_id = world.section.term_id
    assert "End this term" in client.get("/admin/sections").get_data(as_text=True)
    refused = client.post(f"/admin/terms/{term_id}/rollover", data={"next_name": ""}, follow_redirects=True)
    assert "Name the next term" in refused.get_data(as_text=True)
    assert db.session.get(Section, world.section.id).closed_at is None
    done = client.post(f"/admin/terms/{term_id}/rollover", data={"next_name": "Spring 2027", "copy_sections": "1"},
                       follow_redirects=True)
    assert "Fall is closed" in done.get_data(as_text=True)
    assert db.session.get(Section, world.section.id).closed_at is not None
    assert db.session.query(Section).count() == 2


def test_an_admin_sets_the_records_rule(client: FlaskClient, login_as, fall) -> None:  # type: ignore[no-untyped-def]
    from gradebook.models import School

    login_as(make_user("admin"))
    assert "The overall level is" in client.get("/admin/policy").get_data(as_text=True)
    client.post("/admin/record-rule", data={"rule": "highest"})
    assert db.session.query(School).one().record_rule == "highest"
    page = client.post("/admin/record-rule", data={"rule": "best"}, follow_redirects=True).get_data(as_text=True)
    assert "Choose one of" in page and db.session.query(School).one().record_rule == "highest"


def test_after_the_rollover_no_one_changes_the_closed_section(client: FlaskClient, login_as, fall) -> None:  # type: ignore[no-untyped-def]
    """Every table counted before and after: the teacher's, the student's and the admin's changes are all 423."""
    from gradebook.models import Evidence
    from tests.path_builders import make_activity, make_way

    world, quiz = fall
    activity, way = make_activity(world, world.standards[0]), make_way(world, world.standards[0])
    rollover(db.session, None, term=db.session.get(Term, world.section.term_id), next_name="Spring 2027")
    db.session.commit()
    before = _counts()
    sid, student, standard = world.section.id, world.students[0], world.standards[0]
    evidence = db.session.scalar(select(Evidence).where(Evidence.section_id == sid, Evidence.student_id == student.id))
    login_as(world.teacher)
    assert client.post(f"/sections/{sid}/path/units", data={"unit-title": "New"}).status_code == 423
    login_as(student)
    for url, data in ((f"/portfolio/sections/{sid}/path/focus", {"competency_id": standard.id}),
                      (f"/portfolio/sections/{sid}/path/activities/{activity.id}", {"status": "chosen"}),
                      (f"/portfolio/sections/{sid}/path/ready", {"way_id": way.id, "note": "Ready."}),
                      (f"/portfolio/feedback/{evidence.id}/reply", {"body": "Thanks."}),
                      (f"/portfolio/sections/{sid}/standards/{standard.id}/reassessment", {"note": "Again."})):
        assert client.post(url, data=data).status_code == 423, url
    login_as(make_user("admin"))
    assert client.post(f"/admin/sections/{sid}", data={"action": "unenrol", "enrollment_id": 1}).status_code == 423
    assert _counts() == {**before, "users": before["users"] + 1}


def test_the_rollover_carries_the_learning_path_but_nothing_of_the_students(fall) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from gradebook.models import paths as m

    Activity, ActivityChoice, PathUnit, PathUnitStandard = m.Activity, m.ActivityChoice, m.PathUnit, m.PathUnitStandard
    from tests.path_builders import assign, make_activity, make_prerequisite, make_unit, make_way

    world, _quiz = fall
    first, second = world.standards
    unit = make_unit(world, [first, second], title="Forces", starts_on=date(2026, 9, 1),
                     target_on=date(2026, 10, 30))
    make_prerequisite(world, second, first)
    activity = make_activity(world, first, title="Push and pull", url="https://example.org/push")
    removed = make_activity(world, first, title="Old worksheet")
    removed.deleted_at = removed.created_at
    way = make_way(world, second, title="Build a cart")
    assign(world, activity, world.students[0].id, note="Start here.")
    student = world.students[0]
    db.session.add(ActivityChoice(activity_id=activity.id, student_id=student.id, status="working"))
    db.session.add(m.PathFocus(section_id=world.section.id, student_id=student.id, competency_id=first.id))
    db.session.add(m.ReadyToShow(section_id=world.section.id, student_id=student.id, competency_id=second.id,
                               way_id=way.id, note="Ready."))
    db.session.commit()
    old_term = db.session.get(Term, world.section.term_id)
    students_rows = {t: db.session.query(t).count() for t in (m.ActivityAssignment, ActivityChoice, m.PathFocus,
                                                               m.ReadyToShow)}

    report = rollover(db.session, None, term=old_term, next_name="Spring 2027", copy_sections=True)
    db.session.commit()
    new = db.session.scalar(select(Section).where(Section.term_id == report.next_term.id))
    shift = report.next_term.starts_on - old_term.starts_on
    [copied_unit] = db.session.query(PathUnit).filter_by(section_id=new.id).all()
    assert copied_unit.title == "Forces" and copied_unit.id != unit.id
    assert (copied_unit.starts_on, copied_unit.target_on) == (date(2026, 9, 1) + shift, date(2026, 10, 30) + shift)
    assert [r.competency_id for r in db.session.query(PathUnitStandard).filter_by(unit_id=copied_unit.id)
            .order_by(PathUnitStandard.position)] == [first.id, second.id]
    [pre] = db.session.query(m.Prerequisite).filter_by(section_id=new.id).all()
    assert (pre.competency_id, pre.requires_id) == (second.id, first.id)
    [copied] = db.session.query(Activity).filter_by(section_id=new.id).all()  # not the removed one
    assert (copied.title, copied.url, copied.created_by) == ("Push and pull", "https://example.org/push",
                                                             world.teacher.id)
    assert [w.title for w in db.session.query(m.WayToShow).filter_by(section_id=new.id)] == ["Build a cart"]
    assert {t: db.session.query(t).count() for t in students_rows} == students_rows  # none of the students'
    assert db.session.query(ActivityChoice).filter(ActivityChoice.activity_id == copied.id).count() == 0
    assert report.paths_copied == 1 and "1 learning path(s)" in str(report)
    assert db.session.query(PathUnit).filter_by(section_id=world.section.id).one().id == unit.id  # the old one kept
    assert isinstance(shift, timedelta)
