"""A section closed with its term refuses every change, whoever sends it: a student's path (focus, activity,
"I'm ready to show", withdraw), their reply to feedback and their request to show a skill again, and the admin's
class list and standards. 423 with why (in Spanish for a Spanish reader), nothing written; the pages still read,
with the forms hidden or disabled and a sentence saying the term is closed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import Base, ReassessmentRequest, Term
from gradebook.models.paths import ActivityChoice, ReadyToShow
from gradebook.services import path_views
from gradebook.services.terms import rollover
from tests.builders import SectionWorld, make_evidence, make_section, make_user
from tests.path_builders import make_path, make_way

SKIP = {"audit_log"}


def _counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables if table.name not in SKIP}


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(path_views, "today", lambda: date(2026, 10, 1))


@pytest.fixture
def world(app) -> SectionWorld:  # type: ignore[no-untyped-def]
    world = make_section(students=2, standards=4, guardians=True, name="Science 7")
    make_path(world, per_unit=2)
    make_way(world, world.standards[0], "Conversation")
    make_evidence(world, world.students[0], world.standards[0], 2, feedback="Check your units.")
    return world


def _activity(world: SectionWorld):  # type: ignore[no-untyped-def]
    from gradebook.models.paths import Activity

    return db.session.scalar(select(Activity).where(Activity.competency_id == world.standards[0].id)
                             .order_by(Activity.id))


def _close(world: SectionWorld) -> None:
    rollover(db.session, None, term=db.session.get(Term, world.section.term_id), next_name="Spring 2027")
    db.session.commit()


def _student_posts(world: SectionWorld) -> list[tuple[str, dict[str, str]]]:
    from gradebook.models import Evidence

    sid, standard = world.section.id, world.standards[0]
    evidence = db.session.scalar(select(Evidence).where(Evidence.section_id == sid))
    return [
        (f"/portfolio/sections/{sid}/path/focus", {"competency_id": str(world.standards[1].id)}),
        (f"/portfolio/sections/{sid}/path/activities/{_activity(world).id}", {"status": "chosen"}),
        (f"/portfolio/sections/{sid}/path/ready", {"way_id": str(_way_id(world)), "note": "I can explain it.",
                                                   "competency_id": str(standard.id)}),
        (f"/portfolio/feedback/{evidence.id}/reply", {"body": "I fixed the units."}),
        (f"/portfolio/sections/{sid}/standards/{standard.id}/reassessment", {"note": "I practised."}),
    ]


def _way_id(world: SectionWorld) -> int:
    from gradebook.models.paths import WayToShow

    return db.session.scalar(select(WayToShow.id).where(WayToShow.section_id == world.section.id))


@pytest.mark.parametrize("kind", ["focus", "activity", "ready", "reply", "reassessment"])
def test_a_students_change_to_a_closed_section_is_refused_with_why_and_writes_nothing(
        client, login_as, world, kind) -> None:  # type: ignore[no-untyped-def]
    student = world.students[0]
    posts = dict(zip(["focus", "activity", "ready", "reply", "reassessment"], _student_posts(world), strict=True))
    url, data = posts[kind]
    _close(world)
    before = _counts()
    login_as(student)
    response = client.post(url, data=data)
    assert response.status_code == 423, (url, response.status_code)
    text = response.get_data(as_text=True)
    assert "This class is closed" in text and "Science 7 ended with its term" in text and "Nothing was saved" in text
    assert _counts() == before


def test_the_same_changes_pass_while_the_section_is_open(client, login_as, world) -> None:  # type: ignore[no-untyped-def]
    login_as(world.students[0])
    for url, data in _student_posts(world):
            assert client.post(url, data=data).status_code == 303, url
    assert db.session.scalar(select(func.count()).select_from(ActivityChoice)) == 1
    assert db.session.scalar(select(func.count()).select_from(ReassessmentRequest)) == 1


def test_withdrawing_a_ready_request_of_a_closed_section_is_refused(client, login_as, world) -> None:  # type: ignore[no-untyped-def]
    login_as(world.students[0])
    client.post(f"/portfolio/sections/{world.section.id}/path/ready",
                data={"way_id": str(_way_id(world)), "note": "Ready.", "competency_id": str(world.standards[0].id)})
    request = db.session.scalar(select(ReadyToShow))
    assert request is not None and request.status == "open"
    _close(world)
    response = client.post(f"/portfolio/sections/{world.section.id}/path/ready/{request.id}/withdraw")
    assert response.status_code == 423
    db.session.expire_all()
    assert db.session.get(ReadyToShow, request.id).status == "open"


def test_another_sections_closed_path_still_answers_404_not_423(client, login_as, world) -> None:  # type: ignore[no-untyped-def]
    other = make_section(students=1, standards=1, name="Other")
    _close(world)
    login_as(other.students[0])
    assert client.post(f"/portfolio/sections/{world.section.id}/path/focus",
                       data={"competency_id": str(world.standards[0].id)}).status_code == 404


def test_a_closed_sections_student_pages_read_with_the_forms_disabled_and_a_sentence(
        client, login_as, world) -> None:  # type: ignore[no-untyped-def]
    _close(world)
    student = world.students[0]
    login_as(student)
    path = client.get(f"/portfolio/sections/{world.section.id}/path")
    assert path.status_code == 200
    html = path.get_data(as_text=True)
    assert "This class ended with its term on" in html and '<fieldset class="closed-term" disabled>' in html
    why = client.get(f"/portfolio/sections/{world.section.id}/standards/{world.standards[0].id}")
    assert why.status_code == 200
    html = why.get_data(as_text=True)
    assert "you cannot reply or ask to show it again now" in html
    assert "/reassessment" not in html and "/reply" not in html


def test_a_spanish_student_is_told_in_spanish(client, login_as, world) -> None:  # type: ignore[no-untyped-def]
    student = world.students[0]
    student.language = "es"
    db.session.commit()
    _close(world)
    login_as(student)
    html = client.get(f"/portfolio/sections/{world.section.id}/path").get_data(as_text=True)
    assert "Esta clase terminó con su periodo" in html
    response = client.post(f"/portfolio/sections/{world.section.id}/path/focus",
                           data={"competency_id": str(world.standards[1].id)})
    assert response.status_code == 423
    text = response.get_data(as_text=True)
    assert "Esta clase está cerrada" in text and "No se guardó nada" in text


def test_an_admin_cannot_change_a_closed_sections_class_list(client, login_as, world) -> None:  # type: ignore[no-untyped-def]
    _close(world)
    login_as(make_user("admin"))
    page = client.get(f"/admin/sections/{world.section.id}")
    assert page.status_code == 200 and "this class is read-only" in page.get_data(as_text=True)
    before = _counts()
    response = client.post(f"/admin/sections/{world.section.id}", data={"action": "enrol", "emails": "x@example.org"})
    assert response.status_code == 423 and "read-only" in response.get_data(as_text=True)
    assert _counts() == before
