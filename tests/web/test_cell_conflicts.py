"""Two tabs (or two teachers) on the same evidence: the later save is refused with both values and a choice,
and nothing typed is lost (score, date and feedback), in the cell detail as on the entry sheet."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import Evidence, EvidenceRevision
from gradebook.services.evidence import CellValue, record_evidence, remove_evidence
from tests.builders import SectionWorld, make_assessment, make_section

HTMX = {"HX-Request": "true"}
ON = date(2026, 10, 5)


@pytest.fixture
def world(app, login_as) -> SectionWorld:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    login_as(world.teacher)
    return world


def _observation(world: SectionWorld, score: float, feedback: str = "") -> Evidence:
    evidence = record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                               competency_id=world.standards[0].id, value=CellValue("scored", score),
                               observed_on=ON, feedback=feedback)
    db.session.commit()
    return evidence


def _edit(client: FlaskClient, world: SectionWorld, evidence_id: int, *, value: str, feedback: str,
          version: int, observed_on: str = ON.isoformat(), htmx: bool = True):  # type: ignore[no-untyped-def]
    """What the cell detail's edit form sends."""
    return client.post(f"/sections/{world.section.id}/evidence/{evidence_id}/edit", headers=HTMX if htmx else {},
                       data={"value": value, "observed_on": observed_on, "feedback": feedback, "version": version})


def _form_version(body: str, evidence_id: int) -> int:
    form = body[body.index(f"/evidence/{evidence_id}/edit"):]
    return int(re.search(r'name="version" value="(\d+)"', form).group(1))  # type: ignore[union-attr]


def _stored(evidence_id: int) -> tuple[float | None, str, int]:
    db.session.rollback()
    evidence = db.session.get(Evidence, evidence_id)
    assert evidence is not None
    return evidence.score, evidence.feedback, evidence.version


def test_the_second_tab_is_refused_with_both_values_and_keeps_what_was_typed(client: FlaskClient,
                                                                             world: SectionWorld) -> None:
    evidence = _observation(world, 1, "First try.")
    seen = evidence.version  # both tabs opened the cell detail now
    assert _edit(client, world, evidence.id, value="2", feedback="Better.", version=seen).status_code == 200

    refused = _edit(client, world, evidence.id, value="3.5", feedback="Check your units.", version=seen)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "They saved <strong>2</strong>" in body and "you typed <strong>3.5</strong>" in body
    assert "Use mine" in body and "Keep theirs" in body
    assert "Their feedback: “Better.” Yours: “Check your units.”" in body
    # What this tab typed is still in its form, which now carries the version it has seen.
    assert 'name="value" size="4" maxlength="10" value="3.5"' in body
    assert ">Check your units.</textarea>" in body
    assert _form_version(body, evidence.id) == seen + 1
    assert _stored(evidence.id) == (2.0, "Better.", seen + 1)


def test_use_mine_after_the_conflict_saves_the_typed_score_and_feedback(client: FlaskClient,
                                                                        world: SectionWorld) -> None:
    evidence = _observation(world, 1)
    seen = evidence.version
    _edit(client, world, evidence.id, value="2", feedback="Better.", version=seen)
    refused = _edit(client, world, evidence.id, value="3.5", feedback="Check your units.", version=seen)
    mine = _edit(client, world, evidence.id, value="3.5", feedback="Check your units.",
                 version=_form_version(refused.get_data(as_text=True), evidence.id))
    assert mine.status_code == 200
    assert _stored(evidence.id) == (3.5, "Check your units.", seen + 2)
    assert [r.action for r in db.session.scalars(select(EvidenceRevision).where(
        EvidenceRevision.evidence_id == evidence.id).order_by(EvidenceRevision.id))] == ["create", "update", "update"]


def test_keep_theirs_shows_the_cell_detail_as_saved_now(client: FlaskClient, world: SectionWorld) -> None:
    evidence = _observation(world, 1)
    _edit(client, world, evidence.id, value="2", feedback="Better.", version=evidence.version)
    refused = _edit(client, world, evidence.id, value="3.5", feedback="Mine.", version=1).get_data(as_text=True)
    keep = re.search(r'href="([^"]+)"[^>]*class="button">Keep theirs', refused)
    assert keep
    body = client.get(keep.group(1), headers=HTMX).get_data(as_text=True)
    assert "They saved" not in body and "“Better.”" in body


def test_without_javascript_the_conflict_is_a_page_not_a_redirect_that_loses_the_typing(client: FlaskClient,
                                                                                          world: SectionWorld) -> None:
    evidence = _observation(world, 1)
    _edit(client, world, evidence.id, value="2", feedback="", version=1, htmx=False)
    refused = _edit(client, world, evidence.id, value="3.5", feedback="Check your units.", version=1, htmx=False)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "<html" in body and "you typed <strong>3.5</strong>" in body and ">Check your units.</textarea>" in body


def test_a_bad_value_in_an_edit_keeps_the_typed_feedback(client: FlaskClient, world: SectionWorld) -> None:
    evidence = _observation(world, 1, "Old.")
    refused = _edit(client, world, evidence.id, value="seven", feedback="A long comment I typed.", version=1)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "is not a score" in body and ">A long comment I typed.</textarea>" in body and 'value="seven"' in body
    assert _form_version(body, evidence.id) == 1  # still the version this tab saw: a later conflict is caught
    assert _stored(evidence.id) == (1.0, "Old.", 1)


def test_an_edit_of_evidence_removed_in_another_tab_keeps_what_was_typed(client: FlaskClient,
                                                                          world: SectionWorld) -> None:
    evidence = _observation(world, 1)
    remove_evidence(db.session, world.teacher, evidence)
    db.session.commit()
    refused = _edit(client, world, evidence.id, value="3.5", feedback="Check your units.", version=1)
    body = refused.get_data(as_text=True)
    assert refused.status_code in (409, 422)
    assert "3.5" in body and "Check your units." in body and "Restore" in body


# ---------------------------------------------------------------- the entry sheet: a retry is not a conflict

def test_sending_a_saved_cell_again_is_not_a_conflict(client: FlaskClient, world: SectionWorld) -> None:
    """A retry of a save whose answer was lost (the network failed on the way back) sends the same value with
    the old version: it is saved already, so the answer is "saved", with no second revision."""
    quiz = make_assessment(world, standards=world.standards, on=ON)
    student, standard = world.students[0], world.standards[0]
    url = f"/sections/{world.section.id}/assessments/{quiz.id}/cells/{student.id}/{standard.id}"
    data = {f"cell-{student.id}-{standard.id}": "3", f"v-{student.id}-{standard.id}": "0"}
    assert client.post(url, headers=HTMX, data=data).status_code == 200
    again = client.post(url, headers=HTMX, data=data)
    assert again.status_code == 200 and "saved" in again.get_data(as_text=True)
    assert db.session.scalar(select(EvidenceRevision.action)) == "create"
    other = client.post(url, headers=HTMX, data={**data, f"cell-{student.id}-{standard.id}": "4"})
    assert other.status_code == 409  # a different value against the old version is still a conflict
