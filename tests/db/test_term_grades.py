"""Term grades from the proficiency cache (issue 17, part 3): a teacher's judgement counts as the level, a
cleared one does not, and a preview writes nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import GradeBridgeChange, GradeBridgeTable, Override, utcnow
from gradebook.proficiency.grade_bridge import DEFAULT_BRIDGE, Condition, GradeBridge, Rule
from gradebook.services import StaleWrite
from gradebook.services.term_grades import (
    preview_bridge,
    save_bridge,
    section_levels,
    section_term_grades,
    the_school,
)
from tests.builders import make_evidence, make_section, make_user


def test_a_teachers_judgement_is_the_level_the_grade_counts(app: Flask) -> None:
    world = make_section(students=1, standards=2)
    student = world.students[0]
    make_evidence(world, student, world.standards[0], 3)
    make_evidence(world, student, world.standards[1], 2)
    assert section_term_grades(db.session, world.section)[student.id].result.grade == "D"
    override = Override(student_id=student.id, competency_id=world.standards[1].id, section_id=world.section.id,
                        level_points=4, reason="Shown in the project", created_by_id=world.teacher.id)
    db.session.add(override)
    db.session.commit()
    assert section_levels(db.session, [world.section.id])[(world.section.id, student.id)] == [3.0, 4.0]
    assert section_term_grades(db.session, world.section)[student.id].result.grade == "A"
    override.cleared_at = utcnow()
    db.session.commit()
    assert section_term_grades(db.session, world.section)[student.id].result.grade == "D"


def test_a_preview_writes_nothing_and_a_save_is_attributed(app: Flask) -> None:
    world = make_section(students=2, standards=1)
    make_evidence(world, world.students[0], world.standards[0], 3)
    school, admin = the_school(db.session), make_user("admin")
    strict = GradeBridge((Rule("P", (Condition(100, 4),)),), "NY")
    preview = preview_bridge(db.session, school, strict)
    assert [(row.now, row.proposed) for row in preview.rows] == [("B", "NY"), ("I", "NY")]
    assert db.session.scalar(select(func.count()).select_from(GradeBridgeTable)) == 0
    save_bridge(db.session, admin, school, strict, expected_version=0, summary=preview.summary)
    db.session.commit()
    change = db.session.scalar(select(GradeBridgeChange))
    assert (change.changed_by_id, change.old, change.new) == (admin.id, None, strict.to_dict())
    assert section_term_grades(db.session, world.section)[world.students[0].id].result.grade == "NY"


def test_a_save_from_a_stale_page_is_refused(app: Flask) -> None:
    make_section(students=1, standards=1)
    school, admin = the_school(db.session), make_user("admin")
    save_bridge(db.session, admin, school, DEFAULT_BRIDGE, expected_version=0)
    db.session.commit()
    try:
        save_bridge(db.session, admin, school, DEFAULT_BRIDGE, expected_version=0)
    except StaleWrite:
        db.session.rollback()
    else:
        raise AssertionError("a stale save was accepted")
    assert db.session.scalar(select(func.count()).select_from(GradeBridgeChange)) == 1
