"""Bad input through HTTP: refused with a clear message and a 4xx, nothing written (issue #11, input)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import Assessment, Enrollment, Evidence, ScaleLevel, School, Section, User
from tests.builders import SectionWorld, make_assessment, make_evidence, make_section, make_user

HTMX = {"HX-Request": "true"}
ON = date(2026, 10, 5)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def world(app: Flask, login_as) -> SectionWorld:  # type: ignore[no-untyped-def]
    world = make_section(students=2, standards=2)
    login_as(world.teacher)
    return world


@pytest.fixture
def quiz(world: SectionWorld) -> Assessment:
    return make_assessment(world, standards=world.standards, title="Forces quiz", on=ON)


# ---------------------------------------------------------------- 4. scores lie on the scale

def test_a_score_of_0_on_a_1_to_4_scale_is_refused_in_an_entry_cell(client: FlaskClient, world: SectionWorld,
                                                                     quiz: Assessment) -> None:
    student, standard = world.students[0], world.standards[0]
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}/cells/{student.id}/{standard.id}",
                           headers=HTMX, data={f"cell-{student.id}-{standard.id}": "0"})
    assert (response.status_code, "scores go from 1 to 4" in response.get_data(as_text=True),
            _count(Evidence)) == (422, True, 0)


def test_a_column_cannot_be_filled_with_0(client: FlaskClient, world: SectionWorld, quiz: Assessment) -> None:
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}/fill",
                           data={"competency_id": world.standards[0].id, "value": "0"}, follow_redirects=True)
    assert ("scores go from 1 to 4" in response.get_data(as_text=True), _count(Evidence)) == (True, 0)


def test_an_observation_of_0_is_refused_in_the_cell_detail(client: FlaskClient, world: SectionWorld) -> None:
    student, standard = world.students[0], world.standards[0]
    response = client.post(f"/sections/{world.section.id}/students/{student.id}/standards/{standard.id}/observations",
                           data={"value": "0", "observed_on": ON.isoformat()})
    assert (response.status_code, "scores go from 1 to 4" in response.get_data(as_text=True),
            _count(Evidence)) == (422, True, 0)


# ---------------------------------------------------------------- 5. a displayed score agrees with its level

def test_the_grid_never_shows_a_score_rounded_up_into_the_next_level(client: FlaskClient, world: SectionWorld) -> None:
    make_evidence(world, world.students[0], world.standards[0], 2.96)
    make_evidence(world, world.students[1], world.standards[0], 3.0)
    page = client.get(f"/sections/{world.section.id}").get_data(as_text=True)
    cells = re.findall(r'title="[^"]*: (\w+) \(([\d.]+)\)">\s*<span aria-hidden="true">[^<]*</span>([\d.]+)', page)
    assert sorted(cells) == [("Approaching", "2.96", "2.96"), ("Meets", "3.00", "3.0")]


def test_the_grid_csv_gives_the_score_its_level_was_decided_on(client: FlaskClient, world: SectionWorld) -> None:
    make_evidence(world, world.students[0], world.standards[0], 2.96)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/sections/{world.section.id}/export.csv").get_data(
        as_text=True))))
    code = world.standards[0].code
    assert (rows[0][f"{code} level"], rows[0][f"{code} score"]) == ("Approaching", "2.96")


# ---------------------------------------------------------------- 7. control characters

@pytest.mark.parametrize("text", ["Ann\x00Lee", "Ann\x1bLee", "Ann\x7fLee"])
def test_a_control_character_in_a_form_is_refused_with_422_and_nothing_is_written(
        client: FlaskClient, world: SectionWorld, text: str) -> None:
    response = client.post(f"/sections/{world.section.id}/assessments/new", data={
        "title": text, "kind": "test", "assessed_on": ON.isoformat(), "standards": [world.standards[0].id]})
    assert (response.status_code, "control character" in response.get_data(as_text=True) or
            "NUL" in response.get_data(as_text=True), _count(Assessment)) == (422, True, 0)


def test_feedback_keeps_its_line_breaks_and_tabs(client: FlaskClient, world: SectionWorld, quiz: Assessment) -> None:
    student = world.students[0]
    make_evidence(world, student, world.standards[0], 3, assessment=quiz)
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}/feedback/{student.id}",
                           data={"feedback": "Good work.\r\nNext:\tfractions."})
    assert response.status_code == 303
    assert db.session.scalar(select(Evidence.feedback)) == "Good work.\r\nNext:\tfractions."


def test_a_newline_in_a_single_line_field_is_refused_by_the_models(client: FlaskClient, world: SectionWorld) -> None:
    response = client.post(f"/sections/{world.section.id}/assessments/new", data={
        "title": "Quiz\nTwo", "kind": "test", "assessed_on": ON.isoformat(), "standards": [world.standards[0].id]})
    assert (response.status_code, "The title contains" in response.get_data(as_text=True),
            _count(Assessment)) == (422, True, 0)


# ---------------------------------------------------------------- 8. over-long text

def test_a_scale_label_of_10000_characters_is_refused_with_a_message(app: Flask, client: FlaskClient,
                                                                     login_as) -> None:  # type: ignore[no-untyped-def]
    make_section(students=1, standards=1)
    login_as(make_user("admin"))
    levels = list(db.session.scalars(select(ScaleLevel)))
    data = {f"label_{lv.points:g}": lv.label for lv in levels} | {f"colour_{lv.points:g}": lv.colour for lv in levels}
    data |= {"label_4": "E" * 10_000, "mastery": "3"}
    response = client.post("/admin/scale", data=data)
    assert (response.status_code, "at most 60 fit" in response.get_data(as_text=True)) == (422, True)
    assert db.session.scalar(select(ScaleLevel.label).where(ScaleLevel.points == 4)) == "Exceeds"


# ---------------------------------------------------------------- 9. huge numbers

# Every id in a URL given 2^63 and 10^30: tests/web/test_fuzz.py.

def test_a_huge_competency_id_in_the_fill_form_is_refused_with_422(client: FlaskClient, world: SectionWorld,
                                                                   quiz: Assessment) -> None:
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}/fill",
                           data={"competency_id": str(10**20), "value": "3"})
    assert (response.status_code, _count(Evidence)) == (422, 0)


def test_a_huge_term_id_is_refused_with_422(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    make_section(students=1, standards=1)
    login_as(make_user("admin"))
    teacher = make_user("teacher")
    before = _count(Section)
    response = client.post("/admin/sections", data={"name": "New", "term_id": str(2**63),
                                                     "teacher_email": teacher.email})
    assert (response.status_code, _count(Section)) == (422, before)


@pytest.mark.parametrize("value", [str(10**20), "1000000"])
def test_min_evidence_has_a_sensible_upper_bound(app: Flask, client: FlaskClient, login_as, value: str) -> None:  # type: ignore[no-untyped-def]
    make_section(students=1, standards=1)
    login_as(make_user("admin"))
    policy = db.session.scalar(select(School.default_policy))
    response = client.post("/admin/policy", data={"method": "average", "weight": "0.65", "n": "2",
                                                  "min_evidence": value, "rollup": "average"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.scalar(select(School.default_policy)) == policy


# ---------------------------------------------------------------- 10. students removed from the section

def _remove(world: SectionWorld, student: User) -> None:
    db.session.scalar(select(Enrollment).where(Enrollment.student_id == student.id)).active = False
    db.session.commit()


def test_evidence_cannot_be_saved_for_a_student_removed_from_the_section(client: FlaskClient, world: SectionWorld,
                                                                         quiz: Assessment) -> None:
    student, standard = world.students[0], world.standards[0]
    _remove(world, student)
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}/cells/{student.id}/{standard.id}",
                           headers=HTMX, data={f"cell-{student.id}-{standard.id}": "3"})
    assert (response.status_code, _count(Evidence)) == (404, 0)


def test_a_removed_students_page_no_longer_opens_in_the_section(client: FlaskClient, world: SectionWorld) -> None:
    student = world.students[0]
    _remove(world, student)
    pages = [f"/sections/{world.section.id}/students/{student.id}",
             f"/sections/{world.section.id}/students/{student.id}/standards/{world.standards[0].id}"]
    assert [client.get(page).status_code for page in pages] == [404, 404]


# ---------------------------------------------------------------- 16. CSV formula injection

def test_a_student_named_like_a_formula_is_text_in_the_grid_export(app: Flask, client: FlaskClient,
                                                                   login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    db.session.get(User, world.students[0].id).name = '=HYPERLINK("http://evil.example","x")'
    db.session.commit()
    login_as(world.teacher)
    rows = list(csv.reader(io.StringIO(client.get(f"/sections/{world.section.id}/export.csv").get_data(
        as_text=True))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","x")'
