"""Habits of work through HTTP: a section chooses them, the teacher records them in the grid's panel and on
the entry sheet, in their own columns, and they stay apart from every achievement level."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import Competency, HabitEvidence, HabitRevision, ProficiencyRecord, SectionHabit
from tests.builders import SectionWorld, make_assessment, make_habit, make_habits, make_section, make_user

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(app, login_as) -> SectionWorld:  # type: ignore[no-untyped-def]
    world = make_section(students=3, standards=2)
    login_as(world.teacher)
    return world


def _habit_url(world: SectionWorld, assessment_id: int, student_id: int, habit_id: int) -> str:
    return f"/sections/{world.section.id}/assessments/{assessment_id}/habits/{student_id}/{habit_id}"


def test_a_teacher_chooses_the_habits_a_section_tracks(client: FlaskClient, world: SectionWorld) -> None:
    assert "Start one" in client.get(f"/sections/{world.section.id}/habits").get_data(as_text=True)
    assert client.post(f"/sections/{world.section.id}/habits", data={"start": "1"}).status_code == 303
    habits = list(db.session.scalars(select(Competency).where(Competency.code.like("HW.%"))))
    chosen = [h.id for h in habits[:3]]
    assert client.post(f"/sections/{world.section.id}/habits", data={"habits": chosen, "choose": "1"}).status_code == 303
    tracked = db.session.scalars(select(SectionHabit.competency_id).where(
        SectionHabit.section_id == world.section.id).order_by(SectionHabit.position)).all()
    assert tracked == chosen


@pytest.mark.parametrize("bad", ["x", "0", "99999999999", "-1"])
def test_choosing_habits_refuses_what_is_not_a_habit(client: FlaskClient, world: SectionWorld, bad: str) -> None:
    assert client.post(f"/sections/{world.section.id}/habits", data={"habits": [bad], "choose": "1"}).status_code == 422


def test_a_standard_cannot_be_tracked_as_a_habit(client: FlaskClient, world: SectionWorld) -> None:
    response = client.post(f"/sections/{world.section.id}/habits", data={"habits": [world.standards[0].id], "choose": "1"})
    assert response.status_code == 422
    assert "habits framework" in response.get_data(as_text=True)


def test_the_grid_shows_habits_in_their_own_columns_after_the_standards(client: FlaskClient,
                                                                       world: SectionWorld) -> None:
    responsibility, *_ = make_habits(world)
    make_habit(world, world.students[0], responsibility, "4")
    html = client.get(f"/sections/{world.section.id}").get_data(as_text=True)
    head = html.split("mastery-grid", 1)[1].split("<tbody", 1)[0]
    assert "Habits of work" in head and head.index(world.standards[-1].code) < head.index("Responsibility")
    assert 'habit-cell hb-4' in html and 'title="' + world.students[0].name + ' · Responsibility (habit): Consistently' in html


def test_a_teacher_records_a_habit_on_the_entry_sheet_and_no_achievement_row_changes(
        client: FlaskClient, world: SectionWorld) -> None:
    habit = make_habits(world)[1]
    quiz = make_assessment(world, standards=world.standards)
    student = world.students[0]
    html = client.get(f"/sections/{world.section.id}/assessments/{quiz.id}").get_data(as_text=True)
    assert f'name="habit-{student.id}-{habit.id}"' in html and "Habits of work" in html
    before = db.session.scalar(select(func.count()).select_from(ProficiencyRecord))
    response = client.post(_habit_url(world, quiz.id, student.id, habit.id), headers=HTMX,
                           data={f"habit-{student.id}-{habit.id}": "3", f"hv-{student.id}-{habit.id}": "0"})
    assert response.status_code == 200, response.get_data(as_text=True)
    shown = response.get_data(as_text=True)
    assert 'value="3"' in shown and "Usually" in shown and "saved" in shown
    evidence = db.session.scalar(select(HabitEvidence))
    assert (evidence.score, evidence.assessment_id, evidence.status) == (3, quiz.id, "scored")
    assert db.session.scalar(select(func.count()).select_from(ProficiencyRecord)) == before


@pytest.mark.parametrize(("typed", "status"), [("M", "missing"), ("l", "late"), ("E", "excused")])
def test_missing_and_late_work_are_habit_marks(client: FlaskClient, world: SectionWorld, typed: str,
                                               status: str) -> None:
    habit = make_habits(world)[0]
    quiz = make_assessment(world, standards=world.standards)
    student = world.students[0]
    response = client.post(_habit_url(world, quiz.id, student.id, habit.id), headers=HTMX,
                           data={f"habit-{student.id}-{habit.id}": typed})
    assert response.status_code == 200
    assert db.session.scalar(select(HabitEvidence.status)) == status


def test_a_bad_habit_value_is_refused_with_a_message_and_nothing_is_written(client: FlaskClient,
                                                                            world: SectionWorld) -> None:
    habit = make_habits(world)[0]
    quiz = make_assessment(world, standards=world.standards)
    student = world.students[0]
    response = client.post(_habit_url(world, quiz.id, student.id, habit.id), headers=HTMX,
                           data={f"habit-{student.id}-{habit.id}": "7"})
    assert response.status_code == 422
    assert "not a habit level" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(HabitEvidence)) == 0


def test_a_stale_habit_cell_is_a_conflict_that_shows_both_values(client: FlaskClient, world: SectionWorld) -> None:
    habit = make_habits(world)[0]
    quiz = make_assessment(world, standards=world.standards)
    student = world.students[0]
    make_habit(world, student, habit, "2", assessment=quiz)
    response = client.post(_habit_url(world, quiz.id, student.id, habit.id), headers=HTMX,
                           data={f"habit-{student.id}-{habit.id}": "4", f"hv-{student.id}-{habit.id}": "0"})
    assert response.status_code == 409
    assert "They saved <strong>2</strong>" in response.get_data(as_text=True)


def test_emptying_a_habit_cell_removes_the_observation_with_a_revision(client: FlaskClient,
                                                                      world: SectionWorld) -> None:
    habit = make_habits(world)[0]
    quiz = make_assessment(world, standards=world.standards)
    student = world.students[0]
    evidence = make_habit(world, student, habit, "2", assessment=quiz)
    response = client.post(_habit_url(world, quiz.id, student.id, habit.id), headers=HTMX,
                           data={f"habit-{student.id}-{habit.id}": "", f"hv-{student.id}-{habit.id}": "1"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(HabitEvidence, evidence.id).deleted_at is not None
    assert [r.action for r in db.session.scalars(select(HabitRevision).order_by(HabitRevision.id))] == \
        ["create", "delete"]


def test_the_entry_sheet_saved_without_javascript_keeps_habits_too(client: FlaskClient, world: SectionWorld) -> None:
    habit = make_habits(world)[2]
    quiz = make_assessment(world, standards=world.standards[:1])
    student = world.students[1]
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}",
                           data={f"habit-{student.id}-{habit.id}": "Sometimes",
                                 f"cell-{student.id}-{world.standards[0].id}": "3"})
    assert response.status_code == 303
    assert db.session.scalar(select(HabitEvidence.score)) == 2


def test_a_teacher_records_a_habit_in_the_grids_panel(client: FlaskClient, world: SectionWorld) -> None:
    habit = make_habits(world)[0]
    student = world.students[2]
    url = f"/sections/{world.section.id}/students/{student.id}/habits/{habit.id}"
    assert "No observation of this habit yet" in client.get(url, headers=HTMX).get_data(as_text=True)
    response = client.post(url, headers=HTMX, data={"value": "L", "observed_on": "2026-10-01", "note": "Two days late"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["HX-Trigger"] == "proficiencyChanged"
    assert "Two days late" in response.get_data(as_text=True)
    assert db.session.scalar(select(HabitEvidence.status)) == "late"


def test_another_teacher_cannot_open_or_record_a_sections_habits(client: FlaskClient, login_as,  # type: ignore[no-untyped-def]
                                                                 world: SectionWorld) -> None:
    habit = make_habits(world)[0]
    quiz = make_assessment(world, standards=world.standards)
    login_as(make_user("teacher"))
    student = world.students[0]
    assert client.get(f"/sections/{world.section.id}/students/{student.id}/habits/{habit.id}").status_code == 404
    assert client.post(_habit_url(world, quiz.id, student.id, habit.id), headers=HTMX,
                       data={f"habit-{student.id}-{habit.id}": "3"}).status_code == 404


def test_a_habit_save_takes_at_most_eight_statements(client: FlaskClient, world: SectionWorld,  # type: ignore[no-untyped-def]
                                                     count_queries) -> None:
    habit = make_habits(world)[0]
    quiz = make_assessment(world, standards=world.standards)
    student = world.students[0]
    for day in range(1, 6):
        make_habit(world, student, habit, "2", on=date(2026, 9, day))
    url, name = _habit_url(world, quiz.id, student.id, habit.id), f"habit-{student.id}-{habit.id}"
    with count_queries() as queries:
        response = client.post(url, headers=HTMX, data={name: "3"})
    assert response.status_code == 200
    assert queries.count <= 8, '\n'.join(q[:150] for q in queries.statements)


# ---------------------------------------------------------------- shown apart everywhere a student's levels appear

@pytest.fixture
def observed(app):  # type: ignore[no-untyped-def]
    """The first student's Responsibility seen as Consistently (and once late); their guardian."""
    world = make_section(students=2, standards=2, guardians=True)
    habit = make_habits(world)[0]
    make_habit(world, world.students[0], habit, "4")
    make_habit(world, world.students[0], habit, "L")
    return world


def _habits_part(html: str) -> str:
    assert 'id="habits"' in html
    return html.split('id="habits"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize("viewer", ["student", "guardian", "teacher"])
def test_habits_are_shown_apart_from_the_skills_on_every_page_of_the_student(
        client: FlaskClient, login_as, observed: SectionWorld, viewer: str) -> None:  # type: ignore[no-untyped-def]
    student = observed.students[0]
    user, urls = {
        "student": (student, ["/portfolio"]),
        "guardian": (observed.guardians[0], [f"/family/children/{student.id}", f"/students/{student.id}/conference"]),
        "teacher": (observed.teacher, [f"/sections/{observed.section.id}/students/{student.id}",
                                       f"/students/{student.id}/conference"]),
    }[viewer]
    login_as(user)
    for url in urls:
        html = client.get(url).get_data(as_text=True)
        part = _habits_part(html)
        assert "Responsibility" in part and "Consistently" in part and "late" in part, url
        assert "Responsibility" not in html.replace(part, ""), url  # nowhere among the skills


def test_the_record_file_reports_habits_in_their_own_part(client: FlaskClient, login_as,  # type: ignore[no-untyped-def]
                                                          observed: SectionWorld) -> None:
    student = observed.students[0]
    login_as(observed.guardians[0])
    html = client.get(f"/students/{student.id}/record.html").get_data(as_text=True)
    part = _habits_part(html)
    assert "Work habits" in part and "Consistently" in part and "1 piece of work late" in part


def test_habits_never_join_the_reteach_groups_or_the_grid_csv(client: FlaskClient, world: SectionWorld) -> None:
    habit = make_habits(world)[0]
    make_habit(world, world.students[0], habit, "1")
    csv_text = client.get(f"/sections/{world.section.id}/export.csv").get_data(as_text=True)
    assert "HW.1" not in csv_text and "Responsibility" not in csv_text
    reteach = client.get(f"/sections/{world.section.id}/reteach").get_data(as_text=True)
    assert "Responsibility" not in reteach


def test_the_admin_frameworks_list_marks_habit_frameworks(client: FlaskClient, world: SectionWorld, login_as) -> None:
    make_habits(world)
    login_as(make_user("admin"))
    html = client.get("/admin/frameworks").get_data(as_text=True)
    rows = [row for row in html.split("<tr>") if "admin/frameworks/" in row]
    habits = [row for row in rows if "Habits of work" in row]
    standards = [row for row in rows if "Habits of work" not in row]
    assert habits and all(">Work habits</span>" in row for row in habits)
    assert standards and not any(">Work habits</span>" in row for row in standards)
