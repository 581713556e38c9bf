"""The teacher's gradebook through HTTP: assessments, fast entry, the mastery grid, cell detail, export."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from gradebook.extensions import db
from gradebook.models import (
    Assessment,
    AssessmentStandard,
    AuditEvent,
    Competency,
    Evidence,
    EvidenceRevision,
    Override,
    User,
)
from gradebook.services.evidence import CellValue, record_evidence, remove_evidence, set_override
from gradebook.services.proficiency import scale_row_for
from tests.builders import SectionWorld, make_assessment, make_habit, make_habits, make_section, make_user
from tests.conftest import is_postgres

HTMX = {"HX-Request": "true"}
ON = date(2026, 10, 5)


# ---------------------------------------------------------------- helpers that say what the teacher does

def _record(world: SectionWorld, assessment: Assessment | None, student: User, standard: Competency,
            value: float | str, on: date = ON) -> Evidence:
    """Record evidence through the service, as an earlier save would have."""
    cell = CellValue("scored", float(value)) if not isinstance(value, str) else CellValue(value, None)
    evidence = record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                               competency_id=standard.id, value=cell, observed_on=on, assessment=assessment)
    db.session.commit()
    return evidence


def _cell_url(world: SectionWorld, assessment: Assessment, student: User, standard: Competency) -> str:
    return f"/sections/{world.section.id}/assessments/{assessment.id}/cells/{student.id}/{standard.id}"


def _type_in_cell(client: FlaskClient, world: SectionWorld, assessment: Assessment, student: User,
                  standard: Competency, text: str, seen_version: int = 0):  # type: ignore[no-untyped-def]
    """What htmx sends when a teacher types in one entry cell and leaves it."""
    return client.post(_cell_url(world, assessment, student, standard), headers=HTMX,
                       data={f"cell-{student.id}-{standard.id}": text, f"v-{student.id}-{standard.id}": seen_version})


def _detail_url(world: SectionWorld, student: User, standard: Competency) -> str:
    return f"/sections/{world.section.id}/students/{student.id}/standards/{standard.id}"


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _live_evidence() -> list[Evidence]:
    return list(db.session.scalars(select(Evidence).where(Evidence.deleted_at.is_(None)).order_by(Evidence.id)))


@pytest.fixture
def world(app, login_as) -> SectionWorld:  # type: ignore[no-untyped-def]
    """A section of three students and four standards, its teacher logged in."""
    world = make_section(students=3, standards=4)
    login_as(world.teacher)
    return world


@pytest.fixture
def quiz(world: SectionWorld) -> Assessment:
    return make_assessment(world, standards=world.standards[:2], title="Forces quiz", on=ON)


# ---------------------------------------------------------------- creating an assessment

def _assessment_form(world: SectionWorld, **changes) -> dict:  # type: ignore[no-untyped-def]
    form = {"title": "Lab report", "kind": "project", "assessed_on": "2026-10-01", "counts": "y",
            "standards": [str(world.standards[0].id), str(world.standards[2].id)]}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_creating_an_assessment_takes_the_teacher_to_its_entry_page(client: FlaskClient, world: SectionWorld) -> None:
    response = client.post(f"/sections/{world.section.id}/assessments/new", data=_assessment_form(world))
    assessment = db.session.scalar(select(Assessment))
    assert (response.status_code, response.headers["Location"]) == \
        (303, f"/sections/{world.section.id}/assessments/{assessment.id}")


def test_a_new_assessment_is_aligned_to_the_chosen_standards(client: FlaskClient, world: SectionWorld) -> None:
    client.post(f"/sections/{world.section.id}/assessments/new", data=_assessment_form(world))
    aligned = set(db.session.scalars(select(AssessmentStandard.competency_id)))
    assert aligned == {world.standards[0].id, world.standards[2].id}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, b"Give the assessment a title."),
        ({"standards": None}, b"Choose at least one standard."),
        ({"assessed_on": "2026-13-45"}, b"Give a valid date."),
        ({"assessed_on": "2099-01-01"}, b"more than a year away"),
    ],
    ids=["empty-title", "no-standards", "invalid-date", "far-future-date"],
)
def test_bad_assessment_input_gets_a_message_and_writes_nothing(client: FlaskClient, world: SectionWorld,
                                                                 changes: dict, message: bytes) -> None:
    response = client.post(f"/sections/{world.section.id}/assessments/new", data=_assessment_form(world, **changes))
    assert (response.status_code, message in response.data, _count(Assessment)) == (422, True, 0)


def test_an_assessment_cannot_be_aligned_to_a_standard_outside_the_section(client: FlaskClient,
                                                                          world: SectionWorld) -> None:
    elsewhere = make_section(students=1, standards=1).standards[0]
    response = client.post(f"/sections/{world.section.id}/assessments/new",
                           data=_assessment_form(world, standards=[str(elsewhere.id)]))
    assert (response.status_code, _count(Assessment)) == (422, 0)


# ---------------------------------------------------------------- editing an assessment

def _edit(client: FlaskClient, world: SectionWorld, assessment: Assessment, **changes):  # type: ignore[no-untyped-def]
    form = _assessment_form(world, title=assessment.title, kind=assessment.kind,
                            assessed_on=assessment.assessed_on.isoformat(), counts="y" if assessment.counts else None,
                            standards=[str(s.id) for s in world.standards[:2]])
    form.update({k: v for k, v in changes.items() if v is not None})
    for k in [k for k, v in changes.items() if v is None]:
        form.pop(k, None)
    return client.post(f"/sections/{world.section.id}/assessments/{assessment.id}/edit", data=form)


def _cached_score(world: SectionWorld, student: User, standard: Competency) -> float | None:
    from gradebook.models import ProficiencyRecord

    return db.session.scalar(select(ProficiencyRecord.score).where(
        ProficiencyRecord.section_id == world.section.id, ProficiencyRecord.student_id == student.id,
        ProficiencyRecord.competency_id == standard.id))


def test_moving_an_assessments_date_moves_its_evidence_with_revisions_and_recomputes(
        client: FlaskClient, world: SectionWorld) -> None:
    student, standard = world.students[0], world.standards[0]
    early = make_assessment(world, standards=world.standards[:2], title="Early", on=date(2026, 10, 1))
    late = make_assessment(world, standards=world.standards[:2], title="Late", on=date(2026, 10, 8))
    _record(world, early, student, standard, 1, on=early.assessed_on)
    _record(world, late, student, standard, 4, on=late.assessed_on)
    before = _cached_score(world, student, standard)  # decaying average: the 4 is latest
    revisions = _count(EvidenceRevision)
    response = _edit(client, world, early, assessed_on="2026-10-15")  # "Early" was really given after "Late"
    assert response.status_code == 303
    moved = db.session.scalar(select(Evidence).where(Evidence.assessment_id == early.id))
    assert moved.observed_on == date(2026, 10, 15)
    assert _count(EvidenceRevision) == revisions + 1
    assert _cached_score(world, student, standard) < before  # now the 1 is latest
    assert "1 piece of its evidence moved" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_assessment_edit_keeps_evidence_a_teacher_dated_differently(client: FlaskClient,
                                                                       world: SectionWorld, quiz: Assessment) -> None:
    _record(world, quiz, world.students[0], world.standards[0], 3, on=date(2026, 10, 2))  # handed in early
    _record(world, quiz, world.students[1], world.standards[0], 2, on=quiz.assessed_on)
    _edit(client, world, quiz, assessed_on="2026-10-07")
    dates = dict(db.session.execute(select(Evidence.student_id, Evidence.observed_on)).all())
    assert dates == {world.students[0].id: date(2026, 10, 2), world.students[1].id: date(2026, 10, 7)}


def test_setting_an_assessment_not_to_count_recomputes_the_levels(client: FlaskClient, world: SectionWorld) -> None:
    student, standard = world.students[0], world.standards[0]
    counted = make_assessment(world, standards=world.standards[:2], title="Test", on=date(2026, 10, 1))
    warmup = make_assessment(world, standards=world.standards[:2], title="Warm-up", kind="practice",
                             on=date(2026, 10, 8))
    _record(world, counted, student, standard, 3, on=counted.assessed_on)
    _record(world, warmup, student, standard, 1, on=warmup.assessed_on)
    assert _cached_score(world, student, standard) != 3.0
    assert _edit(client, world, warmup, counts=None).status_code == 303
    assert _cached_score(world, student, standard) == 3.0


def test_an_assessment_edit_with_a_far_future_date_changes_nothing(client: FlaskClient, world: SectionWorld,
                                                                   quiz: Assessment) -> None:
    _record(world, quiz, world.students[0], world.standards[0], 3, on=quiz.assessed_on)
    response = _edit(client, world, quiz, assessed_on="2099-01-01", title="Renamed")
    db.session.expire_all()
    assert (response.status_code, b"more than a year away" in response.data) == (422, True)
    assert (quiz.title, quiz.assessed_on) == ("Forces quiz", ON)
    assert db.session.scalar(select(Evidence.observed_on)) == ON


# ---------------------------------------------------------------- typing into a cell

def test_saving_a_cell_returns_it_marked_saved(client: FlaskClient, world: SectionWorld, quiz: Assessment) -> None:
    student, standard = world.students[0], world.standards[0]
    response = _type_in_cell(client, world, quiz, student, standard, "3")
    assert (response.status_code, b'class="cell-state saved"' in response.data,
            f'id="cell-{student.id}-{standard.id}"'.encode() in response.data) == (200, True, True)


def test_saving_a_cell_updates_the_students_proficiency_badge_out_of_band(client: FlaskClient, world: SectionWorld,
                                                                          quiz: Assessment) -> None:
    student, standard = world.students[0], world.standards[0]
    body = _type_in_cell(client, world, quiz, student, standard, "3").get_data(as_text=True)
    oob = body[body.index("</td>"):]  # after the cell itself
    assert f'id="prof-{student.id}-{standard.id}" hx-swap-oob="true"' in oob and "Meets" in oob


def test_a_saved_cell_is_stored_as_evidence_with_the_assessment_date(client: FlaskClient, world: SectionWorld,
                                                                     quiz: Assessment) -> None:
    _type_in_cell(client, world, quiz, world.students[0], world.standards[0], "3")
    assert [(e.status, e.score, e.observed_on, e.assessment_id) for e in _live_evidence()] == \
        [("scored", 3.0, ON, quiz.id)]


@pytest.mark.parametrize(("letter", "status"), [("M", "missing"), ("e", "excused"), ("N", "not_yet")])
def test_a_letter_in_a_cell_records_a_status_not_a_score(client: FlaskClient, world: SectionWorld, quiz: Assessment,
                                                         letter: str, status: str) -> None:
    _type_in_cell(client, world, quiz, world.students[0], world.standards[0], letter)
    assert [(e.status, e.score) for e in _live_evidence()] == [(status, None)]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("7", b"7 is off the scale"),
        ("-1", b"-1 is off the scale"),
        ("X", b"is not a score"),
        ("nan", b"off the scale"),
    ],
)
def test_bad_cell_input_gets_a_clear_message_and_writes_nothing(client: FlaskClient, world: SectionWorld,
                                                                quiz: Assessment, typed: str, message: bytes) -> None:
    response = _type_in_cell(client, world, quiz, world.students[0], world.standards[0], typed)
    assert (response.status_code, message in response.data, _count(Evidence), _count(EvidenceRevision)) == \
        (422, True, 0, 0)


def test_a_whole_number_scale_refuses_a_decimal_score(client: FlaskClient, world: SectionWorld,
                                                      quiz: Assessment) -> None:
    scale_row_for(db.session, world.section).allow_decimals = False
    db.session.commit()
    response = _type_in_cell(client, world, quiz, world.students[0], world.standards[0], "3.5")
    assert (response.status_code, b"whole numbers only" in response.data, _count(Evidence)) == (422, True, 0)


def test_bad_cell_input_keeps_what_the_teacher_typed(client: FlaskClient, world: SectionWorld,
                                                     quiz: Assessment) -> None:
    response = _type_in_cell(client, world, quiz, world.students[0], world.standards[0], "X")
    assert b'value="X"' in response.data and b'aria-invalid="true"' in response.data


def test_a_cell_for_a_student_not_in_the_section_is_not_found(client: FlaskClient, world: SectionWorld,
                                                             quiz: Assessment) -> None:
    stranger = make_section(students=1).students[0]
    response = _type_in_cell(client, world, quiz, stranger, world.standards[0], "3")
    assert (response.status_code, _count(Evidence)) == (404, 0)


def test_a_cell_for_a_standard_not_in_the_section_is_not_found(client: FlaskClient, world: SectionWorld,
                                                              quiz: Assessment) -> None:
    elsewhere = make_section(students=1, standards=1).standards[0]
    response = _type_in_cell(client, world, quiz, world.students[0], elsewhere, "3")
    assert (response.status_code, _count(Evidence)) == (404, 0)


def test_a_cell_for_a_standard_the_assessment_does_not_assess_is_refused(client: FlaskClient, world: SectionWorld,
                                                                        quiz: Assessment) -> None:
    response = _type_in_cell(client, world, quiz, world.students[0], world.standards[3], "3")
    assert (response.status_code, b"not aligned to this standard" in response.data, _count(Evidence)) == \
        (422, True, 0)


def test_emptying_a_saved_cell_removes_its_evidence_undoably(client: FlaskClient, world: SectionWorld,
                                                             quiz: Assessment) -> None:
    evidence = _record(world, quiz, world.students[0], world.standards[0], 3)
    _type_in_cell(client, world, quiz, world.students[0], world.standards[0], "", seen_version=1)
    assert (_live_evidence(), db.session.get(Evidence, evidence.id).deleted_at is not None) == ([], True)


# ---------------------------------------------------------------- two people on the same cell

def test_a_stale_cell_is_refused_with_both_values_and_a_choice(client: FlaskClient, world: SectionWorld,
                                                              quiz: Assessment) -> None:
    student, standard = world.students[0], world.standards[0]
    _record(world, quiz, student, standard, 2)
    _record(world, quiz, student, standard, 3)  # a colleague's save: now at version 2
    response = _type_in_cell(client, world, quiz, student, standard, "4", seen_version=1)
    body = response.get_data(as_text=True)
    assert (response.status_code, "They saved <strong>3</strong>" in body, "you typed <strong>4</strong>" in body,
            "Use mine" in body, "Keep theirs" in body) == (409, True, True, True, True)


def test_a_stale_cell_keeps_the_other_persons_value(client: FlaskClient, world: SectionWorld,
                                                    quiz: Assessment) -> None:
    student, standard = world.students[0], world.standards[0]
    _record(world, quiz, student, standard, 2)
    _record(world, quiz, student, standard, 3)
    _type_in_cell(client, world, quiz, student, standard, "4", seen_version=1)
    assert [e.score for e in _live_evidence()] == [3.0]


def test_use_mine_after_a_conflict_saves_the_teachers_value(client: FlaskClient, world: SectionWorld,
                                                            quiz: Assessment) -> None:
    student, standard = world.students[0], world.standards[0]
    _record(world, quiz, student, standard, 2)
    _record(world, quiz, student, standard, 3)
    conflict = _type_in_cell(client, world, quiz, student, standard, "4", seen_version=1)
    # The refused cell carries the version the teacher has now seen, so sending it again goes through.
    assert f'name="v-{student.id}-{standard.id}" value="2"'.encode() in conflict.data
    assert _type_in_cell(client, world, quiz, student, standard, "4", seen_version=2).status_code == 200


# ---------------------------------------------------------------- the whole sheet without JavaScript

def test_save_all_without_javascript_saves_every_changed_cell_and_redirects(client: FlaskClient, world: SectionWorld,
                                                                            quiz: Assessment) -> None:
    first, second = world.standards[:2]
    form = {f"cell-{s.id}-{c.id}": text for s, c, text in
            [(world.students[0], first, "3"), (world.students[1], first, "M"), (world.students[2], second, "4")]}
    form |= {f"v-{s.id}-{c.id}": "0" for s in world.students for c in (first, second)}
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}", data=form)
    assert (response.status_code, response.headers["Location"]) == \
        (303, f"/sections/{world.section.id}/assessments/{quiz.id}")
    assert sorted((e.student_id, e.competency_id, e.status, e.score) for e in _live_evidence()) == sorted([
        (world.students[0].id, first.id, "scored", 3.0), (world.students[1].id, first.id, "missing", None),
        (world.students[2].id, second.id, "scored", 4.0)])


def test_save_all_with_one_bad_cell_saves_nothing_marks_it_and_keeps_what_was_typed(
        client: FlaskClient, world: SectionWorld, quiz: Assessment) -> None:
    good, bad = world.students[0], world.students[1]
    standard = world.standards[0]
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}", data={
        f"cell-{good.id}-{standard.id}": "3", f"cell-{bad.id}-{standard.id}": "9"})
    page = response.get_data(as_text=True)
    assert (response.status_code, "9 is off the scale" in page, _live_evidence()) == (422, True, [])
    assert (f'name="cell-{good.id}-{standard.id}"' in page, 'value="3"' in page, 'value="9"' in page) == \
        (True, True, True)


def test_fill_column_fills_only_the_empty_cells(client: FlaskClient, world: SectionWorld, quiz: Assessment) -> None:
    standard = world.standards[0]
    _record(world, quiz, world.students[0], standard, 1)
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}/fill",
                           data={"competency_id": standard.id, "value": "3"})
    assert response.status_code == 303
    assert {e.student_id: e.score for e in _live_evidence()} == \
        {world.students[0].id: 1.0, world.students[1].id: 3.0, world.students[2].id: 3.0}


def test_fill_column_with_a_bad_value_writes_nothing(client: FlaskClient, world: SectionWorld,
                                                     quiz: Assessment) -> None:
    response = client.post(f"/sections/{world.section.id}/assessments/{quiz.id}/fill",
                           data={"competency_id": world.standards[0].id, "value": "12"}, follow_redirects=True)
    assert (b"12 is off the scale" in response.data, _count(Evidence)) == (True, 0)


# ---------------------------------------------------------------- the mastery grid

@pytest.fixture
def strong_and_struggling(world: SectionWorld, quiz: Assessment) -> tuple[User, User]:
    """Student 01 exceeds on the first standard, Student 02 is beginning, Student 03 has no evidence."""
    strong, struggling = world.students[0], world.students[1]
    _record(world, quiz, strong, world.standards[0], 4)
    _record(world, quiz, struggling, world.standards[0], 1)
    return strong, struggling


def test_the_grid_can_show_only_students_below_mastery(client: FlaskClient, world: SectionWorld,
                                                       strong_and_struggling: tuple[User, User]) -> None:
    body = client.get(f"/sections/{world.section.id}?below=1", headers=HTMX).get_data(as_text=True)
    shown = [s.name for s in world.students if f">{s.name}</a></th>" in body]
    assert shown == [strong_and_struggling[1].name]


def test_the_grid_sorts_by_level_lowest_first(client: FlaskClient, world: SectionWorld,
                                              strong_and_struggling: tuple[User, User]) -> None:
    strong, struggling = strong_and_struggling
    body = client.get(f"/sections/{world.section.id}?sort=level", headers=HTMX).get_data(as_text=True)
    assert body.index(f">{struggling.name}</a></th>") < body.index(f">{strong.name}</a></th>")


def test_the_grid_fragment_is_just_the_grid(client: FlaskClient, world: SectionWorld) -> None:
    response = client.get(f"/sections/{world.section.id}", headers=HTMX)
    assert (response.get_data(as_text=True).lstrip().startswith('<div id="grid"'), "HX-Request" in response.vary) == \
        (True, True)


def test_csv_export_has_a_header_and_one_row_per_student(client: FlaskClient, world: SectionWorld,
                                                         strong_and_struggling: tuple[User, User]) -> None:
    response = client.get(f"/sections/{world.section.id}/export.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert (response.mimetype, rows[0][:3], [r[0] for r in rows[1:]]) == \
        ("text/csv", ["student", "email", f"{world.standards[0].code} level"], [s.name for s in world.students])


def test_csv_export_writes_levels_and_scores(client: FlaskClient, world: SectionWorld,
                                             strong_and_struggling: tuple[User, User]) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get(f"/sections/{world.section.id}/export.csv").get_data(
        as_text=True))))
    code = world.standards[0].code
    assert [(r[f"{code} level"], r[f"{code} score"]) for r in rows] == \
        [("Exceeds", "4.00"), ("Beginning", "1.00"), ("", "")]


# ---------------------------------------------------------------- cell detail

def test_cell_detail_shows_the_evidence_history_and_why_this_level(client: FlaskClient, world: SectionWorld,
                                                                  quiz: Assessment) -> None:
    student, standard = world.students[0], world.standards[0]
    retake = make_assessment(world, standards=[standard], title="Forces retake", on=date(2026, 10, 9))
    _record(world, quiz, student, standard, 2)
    _record(world, retake, student, standard, 4, on=date(2026, 10, 9))
    body = client.get(_detail_url(world, student, standard)).get_data(as_text=True)
    assert all(text in body for text in ("Forces quiz", "Forces retake", "Why this level?",
                                         "2 × 0.35 + 4 × 0.65 = 3.30", "2 recorded changes"))


def test_adding_an_observation_dated_in_the_future_is_refused(client: FlaskClient, world: SectionWorld) -> None:
    response = client.post(_detail_url(world, world.students[0], world.standards[0]) + "/observations",
                           headers=HTMX, data={"value": "3", "observed_on": "2099-01-01"})
    assert (response.status_code, b"is in the future" in response.data, _count(Evidence)) == (422, True, 0)


def test_adding_an_observation_records_evidence_without_an_assessment(client: FlaskClient,
                                                                      world: SectionWorld) -> None:
    response = client.post(_detail_url(world, world.students[0], world.standards[0]) + "/observations",
                           headers=HTMX, data={"value": "3", "observed_on": "2026-10-02", "feedback": "Clear model."})
    assert (response.status_code, response.headers.get("HX-Trigger"),
            [(e.score, e.assessment_id, e.feedback) for e in _live_evidence()]) == \
        (200, "proficiencyChanged", [(3.0, None, "Clear model.")])


@pytest.mark.parametrize("who", ["student", "standard"])
def test_an_observation_outside_the_section_is_not_found(client: FlaskClient, world: SectionWorld, who: str) -> None:
    other = make_section(students=1, standards=1)
    student = other.students[0] if who == "student" else world.students[0]
    standard = other.standards[0] if who == "standard" else world.standards[0]
    response = client.post(_detail_url(world, student, standard) + "/observations",
                           data={"value": "3", "observed_on": "2026-10-02"})
    assert (response.status_code, _count(Evidence)) == (404, 0)


def test_removing_evidence_from_cell_detail_keeps_it_as_removed(client: FlaskClient, world: SectionWorld,
                                                                quiz: Assessment) -> None:
    evidence = _record(world, quiz, world.students[0], world.standards[0], 3)
    response = client.post(f"/sections/{world.section.id}/evidence/{evidence.id}/remove", headers=HTMX,
                           data={"version": evidence.version})
    assert (response.status_code, b"Restore" in response.data, _live_evidence(), _count(Evidence)) == \
        (200, True, [], 1)


def test_restoring_removed_evidence_from_cell_detail_brings_it_back(client: FlaskClient, world: SectionWorld,
                                                                    quiz: Assessment) -> None:
    evidence = _record(world, quiz, world.students[0], world.standards[0], 3)
    remove_evidence(db.session, world.teacher, evidence)
    db.session.commit()
    response = client.post(f"/sections/{world.section.id}/evidence/{evidence.id}/restore", headers=HTMX)
    assert (response.status_code, [e.id for e in _live_evidence()]) == (200, [evidence.id])


def test_an_override_without_a_reason_is_refused(client: FlaskClient, world: SectionWorld) -> None:
    response = client.post(_detail_url(world, world.students[0], world.standards[0]) + "/override", headers=HTMX,
                           data={"level": "3", "reason": ""})
    assert (response.status_code, b"Give the reason for your judgement" in response.data, _count(Override)) == \
        (422, True, 0)


def test_an_override_with_a_reason_is_shown_as_teacher_judgement(client: FlaskClient, world: SectionWorld,
                                                                 quiz: Assessment) -> None:
    _record(world, quiz, world.students[0], world.standards[0], 1)
    response = client.post(_detail_url(world, world.students[0], world.standards[0]) + "/override", headers=HTMX,
                           data={"level": "3", "reason": "Explained it well in conference."})
    assert (response.status_code, b"Teacher judgement" in response.data,
            b"Explained it well in conference." in response.data) == (200, True, True)


# ---------------------------------------------------------------- a fixed number of queries whatever the class size

def _section_with_evidence(students: int, teacher: User) -> tuple[SectionWorld, Assessment]:
    world = make_section(students=students, standards=4, teacher=teacher)
    assessment = make_assessment(world, standards=world.standards[:2], title="Forces quiz", on=ON)
    for i, student in enumerate(world.students):
        _record(world, assessment, student, world.standards[0], 1 + i % 4)
        _record(world, assessment, student, world.standards[1], "missing" if i % 3 == 0 else 3)
    set_override(db.session, teacher, section=world.section, student_id=world.students[-1].id,
                 competency_id=world.standards[0].id, level_points=3, reason="Showed it in class.")
    db.session.commit()
    habits = make_habits(world)  # habits of work ride in the grid's statements: the budgets include them
    for i, student in enumerate(world.students):
        make_habit(world, student, habits[0], "3", assessment=assessment)
        make_habit(world, student, habits[1], "L" if i % 2 else "2")
    return world, assessment


@pytest.fixture
def small_and_large(app, login_as):  # type: ignore[no-untyped-def]
    """Two sections of one teacher, of 1 and 35 students, with scores, missing work and an override."""
    teacher = make_user("teacher")
    small, large = _section_with_evidence(1, teacher), _section_with_evidence(35, teacher)
    login_as(teacher)
    return small, large


@pytest.mark.parametrize("page", ["grid", "entry", "reteach"])
def test_teacher_pages_issue_the_same_number_of_queries_for_1_and_35_students(
        client: FlaskClient, count_queries, small_and_large, page: str) -> None:  # type: ignore[no-untyped-def]
    counts = []
    for world, assessment in small_and_large:
        url = f"/sections/{world.section.id}" + {"grid": "", "entry": f"/assessments/{assessment.id}",
                                                 "reteach": "/reteach"}[page]
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1], counts


# ---------------------------------------------------------------- missing and not-yet work

def test_missing_and_not_yet_work_is_listed_by_student_with_a_link_to_the_assessment(
        client: FlaskClient, world: SectionWorld, quiz: Assessment) -> None:
    first, second, done = world.students
    _record(world, quiz, first, world.standards[0], "missing")
    _record(world, quiz, second, world.standards[1], "not_yet")
    _record(world, quiz, done, world.standards[0], 3)
    _record(world, quiz, done, world.standards[1], "excused")
    html = client.get(f"/sections/{world.section.id}/reteach").get_data(as_text=True)
    outstanding = html.split('id="outstanding"', 1)[1]
    assert first.name in outstanding and second.name in outstanding
    assert done.name not in outstanding  # a score and an excused piece are not outstanding
    assert "missing" in outstanding and "not yet" in outstanding
    assert f'/sections/{world.section.id}/assessments/{quiz.id}"' in outstanding


def test_when_all_work_is_in_the_list_says_so(client: FlaskClient, world: SectionWorld, quiz: Assessment) -> None:
    _record(world, quiz, world.students[0], world.standards[0], 2)
    html = client.get(f"/sections/{world.section.id}/reteach").get_data(as_text=True)
    assert "Nothing missing" in html


def test_the_landing_page_links_the_missing_count_to_the_list(client: FlaskClient, world: SectionWorld,
                                                              quiz: Assessment) -> None:
    _record(world, quiz, world.students[0], world.standards[0], "missing")
    html = client.get("/sections").get_data(as_text=True)
    assert f'href="/sections/{world.section.id}/reteach#outstanding">1 missing or not-yet piece of work</a>' in html


def test_a_student_reply_on_the_landing_page_opens_that_cell(client: FlaskClient, world: SectionWorld,
                                                            quiz: Assessment) -> None:
    from gradebook.models import FeedbackReply

    student, standard = world.students[0], world.standards[0]
    evidence = _record(world, quiz, student, standard, 2)
    db.session.add(FeedbackReply(evidence_id=evidence.id, author_id=student.id, body="I will try again"))
    db.session.commit()
    html = client.get("/sections").get_data(as_text=True)
    assert f'href="{_detail_url(world, student, standard)}"><strong>{student.name}</strong>' in html


@pytest.mark.parametrize(("headers", "fragment"), [
    ({"HX-Request": "true"}, True),  # hx-get into the panel
    ({"HX-Request": "true", "HX-Boosted": "true", "HX-Request-Type": "partial"}, True),  # a boosted grid cell
    ({"HX-Request": "true", "HX-Boosted": "true", "HX-Request-Type": "full"}, False),  # boosted navigation
    ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    ({}, False),
])
def test_cell_detail_is_a_fragment_only_when_htmx_aims_it_at_part_of_the_page(
        client: FlaskClient, world: SectionWorld, headers: dict[str, str], fragment: bool) -> None:
    html = client.get(_detail_url(world, world.students[0], world.standards[0]), headers=headers).get_data(as_text=True)
    assert ("<html" not in html) is fragment
    assert world.students[0].name in html


def test_grid_cells_open_in_the_panel_without_repeating_the_address_on_every_cell(client: FlaskClient,
                                                                                 world: SectionWorld) -> None:
    html = client.get(f"/sections/{world.section.id}").get_data(as_text=True)
    assert 'hx-boost:inherited="true" hx-target:inherited="#panel"' in html
    assert html.count(f'href="{_detail_url(world, world.students[0], world.standards[0])}"') == 1
    assert "hx-get=\"/sections/" not in html.split("<tbody", 1)[1]


@pytest.mark.parametrize("value", ["4", "2", "M"])
def test_a_score_save_takes_at_most_eight_statements(client: FlaskClient, count_queries,  # type: ignore[no-untyped-def]
                                                     small_and_large, value: str) -> None:
    """Scope, lock and everything the save reads in one statement; the write, its revision, the cache of the
    standard and its parent in one more, the audit row: the user and the section are the other two."""
    _small, (world, assessment) = small_and_large
    student, standard = world.students[1], world.standards[0]
    url = f"/sections/{world.section.id}/assessments/{assessment.id}/cells/{student.id}/{standard.id}"
    with count_queries() as queries:
        response = client.post(url, data={f"cell-{student.id}-{standard.id}": value}, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert queries.count <= 8, queries.count
    db.session.expire_all()
    from gradebook.services.proficiency import recompute

    assert recompute(db.session, [world.section.id]).changed == []  # the rows the save wrote are right
    shown = response.get_data(as_text=True)
    assert f'value="{value}"' in shown and "saved" in shown


def test_a_score_save_takes_the_students_lock_in_the_sections_own_statement(  # type: ignore[no-untyped-def]
        client: FlaskClient, count_queries, small_and_large) -> None:
    """PostgreSQL: the lock a save takes (the section FOR SHARE, the student's enrolment FOR UPDATE) rides in
    the statement that loads the section for the request, not in a round trip of its own; SQLite: none."""
    _small, (world, assessment) = small_and_large
    student, standard = world.students[2], world.standards[0]
    url = f"/sections/{world.section.id}/assessments/{assessment.id}/cells/{student.id}/{standard.id}"
    with count_queries() as queries:
        response = client.post(url, data={f"cell-{student.id}-{standard.id}": "3"}, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)
    locking = [s for s in queries.statements if "FOR UPDATE" in s.upper() or "FOR SHARE" in s.upper()]
    if is_postgres():
        assert len(locking) == 1 and "FOR SHARE OF sections FOR UPDATE OF enrollments" in locking[0], locking
        assert "scale_levels" in locking[0]  # the section's settings' statement
    else:
        assert locking == []
    other = make_user("student")  # not enrolled: refused as before (the section is then loaded without a lock)
    url = f"/sections/{world.section.id}/assessments/{assessment.id}/cells/{other.id}/{standard.id}"
    assert client.post(url, data={f"cell-{other.id}-{standard.id}": "3"}, headers={"HX-Request": "true"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Evidence).where(Evidence.student_id == other.id)) == 0


def test_a_page_writes_its_audit_rows_in_its_own_reading_transaction_on_postgresql(  # type: ignore[no-untyped-def]
        client: FlaskClient, small_and_large) -> None:
    """PostgreSQL: the grid's disclosure rows go into the transaction that read the grid (one COMMIT, no
    COMMIT and BEGIN between); SQLite: the read ends first, so the write begins IMMEDIATE on its own."""
    _small, (world, _assessment) = small_and_large
    commits: list[int] = []

    def _count(_conn) -> None:  # type: ignore[no-untyped-def]
        commits.append(1)

    event.listen(db.engine, "commit", _count)
    try:
        assert client.get(f"/sections/{world.section.id}").status_code == 200
    finally:
        event.remove(db.engine, "commit", _count)
    assert len(commits) == (1 if is_postgres() else 2), commits
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "view.grid")) == len(world.students)


def test_the_grid_takes_at_most_eight_statements_from_1_to_100_students(
        client: FlaskClient, count_queries, login_as) -> None:  # type: ignore[no-untyped-def]
    teacher = make_user("teacher")
    worlds = [_section_with_evidence(n, teacher) for n in (1, 100)]
    login_as(teacher)
    counts = []
    for world, _assessment in worlds:
        url = f"/sections/{world.section.id}"
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1] <= 8, counts
