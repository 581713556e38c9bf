"""What a column can store, checked before the database sees it (models.base.value_problem, run at every flush);
scores on the scale; evidence only for students in the section. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import Column, String, Text, func, select

from gradebook.extensions import db
from gradebook.models import Base, Competency, Enrollment, Evidence, ProficiencyScale, ScaleLevel, User
from gradebook.models.base import INT32_MAX, value_problem
from gradebook.services import ServiceError
from gradebook.services.accounts import create_user
from gradebook.services.evidence import CellValue, check_score, parse_cell, record_evidence, set_override
from tests.builders import SectionWorld, make_assessment, make_section

ON = date(2026, 10, 5)
TEXT_COLUMNS = [column for table in Base.metadata.sorted_tables for column in table.columns
                if isinstance(column.type, String)]


# ---------------------------------------------------------------- the rule, column by column

@pytest.mark.parametrize("column", TEXT_COLUMNS, ids=lambda c: f"{c.table.name}.{c.name}")
def test_no_text_column_takes_a_nul(column: Column) -> None:
    assert value_problem(column, "a\x00b") is not None


@pytest.mark.parametrize("column", [c for c in TEXT_COLUMNS if c.type.length],
                         ids=lambda c: f"{c.table.name}.{c.name}")
def test_every_sized_column_refuses_text_longer_than_its_length(column: Column) -> None:
    length = column.type.length
    assert (value_problem(column, "x" * length), value_problem(column, "x" * (length + 1)) is not None) == (None, True)


def test_single_line_text_refuses_control_characters_and_multi_line_text_keeps_tabs_and_line_breaks() -> None:
    name, feedback = User.__table__.c.name, Evidence.__table__.c.feedback
    assert isinstance(feedback.type, Text)
    assert [value_problem(name, v) is not None for v in ("Ann\nLee", "Ann\tLee", "Ann\x1bLee", "Ann\x85Lee")] \
        == [True, True, True, True]
    assert [value_problem(feedback, v) for v in ("Good.\r\nNext:\tfractions", "Ünïcödé ✓ 漢字")] == [None, None]
    assert value_problem(feedback, "bell\x07") is not None


def test_an_integer_column_refuses_what_does_not_fit_32_bits() -> None:
    position = Competency.__table__.c.position
    assert [value_problem(position, v) is None for v in (INT32_MAX, INT32_MAX + 1, -(2**31), 2**63)] \
        == [True, False, True, False]


# ---------------------------------------------------------------- the rule at every flush

def _rows(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("name", ["Ann\x00Lee", "Ann\nLee", "Ann\x07Lee"])
def test_a_name_with_a_control_character_is_refused_with_a_message_naming_the_field(app: Flask, name: str) -> None:
    with pytest.raises(ServiceError, match="The name contains") as refused:
        create_user(db.session, email="ann@example.org", name=name, role="teacher")
        db.session.flush()
    db.session.rollback()
    assert (refused.value.field, _rows(User)) == ("name", 0)


def test_the_create_user_command_says_what_is_wrong_with_a_name(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["gradebook", "create-user", "--email", "ann@example.org",
                                                "--name", "Ann\x00Lee", "--role", "teacher", "--password", "x" * 12])
    assert (result.exit_code, "NUL" in result.output, _rows(User)) == (1, True, 0)


def test_a_scale_label_longer_than_its_column_is_refused_before_the_database(app: Flask) -> None:
    scale = ProficiencyScale(name="Long labels")
    db.session.add(scale)
    db.session.flush()
    db.session.add(ScaleLevel(scale_id=scale.id, points=1, label="L" * 10_000, colour="#123456"))
    with pytest.raises(ServiceError, match="The label is 10,000 characters long; at most 60 fit"):
        db.session.flush()
    db.session.rollback()


def test_a_change_to_a_loaded_row_is_checked_too(app: Flask) -> None:
    user = create_user(db.session, email="ann@example.org", name="Ann Lee", role="teacher")
    db.session.commit()
    user.name = "Ann\x00Lee"
    with pytest.raises(ServiceError, match="NUL"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(User, user.id).name == "Ann Lee"


# ---------------------------------------------------------------- scores lie on the scale

@pytest.mark.parametrize("score", [0, 0.5, 4.01, -1, float("inf"), float("nan")])
def test_a_score_off_the_scale_is_refused_however_it_is_recorded(app: Flask, score: float) -> None:
    world = make_section(students=1, standards=1)
    with pytest.raises(ServiceError, match="scores go from 1 to 4"):
        check_score(db.session, world.section, score)
    with pytest.raises(ServiceError, match="scores go from 1 to 4"):
        record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                        competency_id=world.standards[0].id, value=CellValue("scored", score), observed_on=ON)
    db.session.rollback()
    assert _rows(Evidence) == 0


def test_typing_0_on_a_1_to_4_scale_says_where_the_scale_starts(app: Flask) -> None:
    world = make_section(students=1, standards=1)
    with pytest.raises(ServiceError, match="0 is off the scale: scores go from 1 to 4"):
        parse_cell("0", world.section, db.session)


def test_the_ends_of_the_scale_are_scores(app: Flask) -> None:
    world = make_section(students=1, standards=1)
    assert [parse_cell(t, world.section, db.session) for t in ("1", "4")] == \
        [CellValue("scored", 1.0), CellValue("scored", 4.0)]


# ---------------------------------------------------------------- only students in the section

def _remove_from_section(world: SectionWorld) -> None:
    enrolment = db.session.scalar(select(Enrollment).where(Enrollment.student_id == world.students[0].id))
    enrolment.active = False
    db.session.commit()


def test_evidence_cannot_be_recorded_for_a_student_removed_from_the_section(app: Flask) -> None:
    world = make_section(students=1, standards=2)
    assessment = make_assessment(world)
    _remove_from_section(world)
    with pytest.raises(ServiceError, match="not in this section"):
        record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                        competency_id=world.standards[0].id, value=CellValue("scored", 3.0), observed_on=ON,
                        assessment=assessment)
    db.session.rollback()
    assert _rows(Evidence) == 0


def test_a_judgement_cannot_be_recorded_for_a_student_removed_from_the_section(app: Flask) -> None:
    world = make_section(students=1, standards=1)
    _remove_from_section(world)
    with pytest.raises(ServiceError, match="not in this section"):
        set_override(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                     competency_id=world.standards[0].id, level_points=3, reason="Conference.")
