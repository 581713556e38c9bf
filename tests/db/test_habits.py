"""Habits of work: recorded on their own scale and method, and never part of achievement."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import HabitEvidence, HabitRevision, Override, ProficiencyRecord
from gradebook.proficiency import HABIT_SCALE
from gradebook.services import ServiceError, StaleWrite
from gradebook.services.gradebook import load_gradebook
from gradebook.services.habits import habit_levels_for, parse_habit, record_habit
from gradebook.services.proficiency import recompute
from tests.builders import make_assessment, make_evidence, make_habit, make_habits, make_section, make_user


def test_habit_levels_for_gives_each_tracked_habit_its_level_by_the_frameworks_method(app: Flask) -> None:
    world = make_section(students=2, standards=2)
    responsibility, persistence, collaboration = make_habits(world)
    student = world.students[0]
    for day, value in ((1, "2"), (2, "3"), (3, "3"), (4, "M"), (5, "L")):
        make_habit(world, student, responsibility, value, on=date(2026, 9, day))
    make_habit(world, student, persistence, "Consistently")
    levels = habit_levels_for(db.session, student.id)
    by_habit = {row.competency_id: row for row in levels}
    assert [row.name for row in levels] == ["Responsibility", "Persistence", "Collaboration"]
    assert by_habit[responsibility.id].level.label == "Usually"
    assert (by_habit[responsibility.id].count, by_habit[responsibility.id].missing,
            by_habit[responsibility.id].late) == (3, 1, 1)
    assert by_habit[persistence.id].level.label == "Consistently"
    assert by_habit[collaboration.id].level is None
    assert {row.section_id for row in levels} == {world.section.id}


def test_habit_levels_for_can_be_limited_to_some_sections(app: Flask) -> None:
    world = make_section(students=1, standards=1)
    make_habits(world)
    assert habit_levels_for(db.session, world.students[0].id, section_ids=[world.section.id + 1000]) == []


def test_a_habit_observation_on_an_assessment_is_one_cell_with_revisions(app: Flask) -> None:
    world = make_section(students=1, standards=1)
    habit = make_habits(world)[0]
    quiz = make_assessment(world, standards=world.standards)
    student = world.students[0]
    first = make_habit(world, student, habit, "2", assessment=quiz)
    second = make_habit(world, student, habit, "4", assessment=quiz)
    assert first.id == second.id and second.score == 4
    actions = [r.action for r in db.session.scalars(db.select(HabitRevision).order_by(HabitRevision.id))]
    assert actions == ["create", "update"]


def test_a_stale_habit_save_is_refused(app: Flask) -> None:
    world = make_section(students=1, standards=1)
    habit = make_habits(world)[0]
    quiz = make_assessment(world, standards=world.standards)
    student = world.students[0]
    make_habit(world, student, habit, "2", assessment=quiz)
    with pytest.raises(StaleWrite):
        record_habit(db.session, world.teacher, section=world.section, student_id=student.id,
                     competency_id=habit.id, value=parse_habit("3", HABIT_SCALE), observed_on=date(2026, 10, 5),
                     assessment=quiz, expected_version=0)


@pytest.mark.parametrize("typed", ["5", "2.5", "great", "0"])
def test_a_habit_is_recorded_only_on_a_level_of_its_scale(typed: str) -> None:
    with pytest.raises(ServiceError):
        parse_habit(typed, HABIT_SCALE)


def test_only_a_teacher_of_the_section_records_its_habits(app: Flask) -> None:
    world = make_section(students=1, standards=1)
    habit = make_habits(world)[0]
    with pytest.raises(ServiceError):
        record_habit(db.session, make_user("teacher"), section=world.section, student_id=world.students[0].id,
                     competency_id=habit.id, value=parse_habit("3", HABIT_SCALE), observed_on=date(2026, 10, 5))
    assert db.session.scalar(db.select(db.func.count()).select_from(HabitEvidence)) == 0


# ---------------------------------------------------------------- habits never touch achievement

HABIT_ACTIONS = st.lists(st.tuples(
    st.integers(0, 2),  # which student
    st.integers(0, 2),  # which habit
    st.sampled_from(["1", "2", "3", "4", "Consistently", "rarely", "M", "L", "E", ""]),
    st.booleans(),  # on the assessment (one cell) or as a loose observation
    st.integers(1, 28),  # day of October
), min_size=1, max_size=12)


def _achievement() -> list[tuple]:
    """Every achievement cache row (standards and their roll-ups), every live override: what habits must not touch."""
    records = [tuple(row) for row in db.session.execute(
        select(ProficiencyRecord.id, ProficiencyRecord.student_id, ProficiencyRecord.competency_id,
               ProficiencyRecord.section_id, ProficiencyRecord.score, ProficiencyRecord.level_points,
               ProficiencyRecord.evidence_count, ProficiencyRecord.needed, ProficiencyRecord.method,
               ProficiencyRecord.trend, ProficiencyRecord.last_observed_on, ProficiencyRecord.computed_at)
        .order_by(ProficiencyRecord.id))]
    overrides = [tuple(row) for row in db.session.execute(select(Override.id, Override.level_points))]
    return records + overrides


def test_recording_habits_never_changes_an_achievement_cache_row_or_roll_up(app: Flask) -> None:
    world = make_section(students=3, standards=4)  # two parents of two standards: roll-ups are cached too
    habits = make_habits(world)
    quiz = make_assessment(world, standards=world.standards)
    for i, student in enumerate(world.students):
        for j, standard in enumerate(world.standards):
            make_evidence(world, student, standard, 1 + (i + j) % 4, assessment=quiz)
    make_evidence(world, world.students[0], world.standards[1], status="missing")
    before = _achievement()
    assert {s.parent_id for s in world.standards} <= {row[2] for row in before}  # the roll-ups are cached too
    section_id = world.section.id

    @settings(max_examples=15, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(actions=HABIT_ACTIONS)
    def record_habits(actions: list[tuple[int, int, str, bool, int]]) -> None:
        for student_index, habit_index, typed, on_quiz, day in actions:
            try:
                record_habit(db.session, world.teacher, section=world.section,
                             student_id=world.students[student_index].id, competency_id=habits[habit_index].id,
                             value=parse_habit(typed, HABIT_SCALE), observed_on=date(2026, 10, day),
                             assessment=quiz if on_quiz else None)
            except ServiceError:
                db.session.rollback()
        db.session.commit()
        assert _achievement() == before
        book = load_gradebook(db.session, world.section)
        assert all(key[1] not in {h.id for h in habits} for key in book.cells)  # habits never among the levels
        assert recompute(db.session, [section_id]).changed == []  # and the cache is what evidence alone gives

    record_habits()
