"""A calculation policy is previewed, then applied: the preview writes nothing, so the version the page
carries is the stored one and "Apply and recompute" goes through; a real change saved in between is refused."""

from __future__ import annotations

import re
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from gradebook.extensions import db
from gradebook.models import PolicyChange, School, Section
from gradebook.services import ServiceError
from gradebook.services.evidence import CellValue, record_evidence
from gradebook.services.policy import change_section_policy
from tests.builders import make_assessment, make_section, make_user

HIGHEST = {"method": "highest", "weight": "0.65", "n": "2", "min_evidence": "1", "rollup": "average"}
AVERAGE = {**HIGHEST, "method": "average"}


def _world():  # type: ignore[no-untyped-def]
    world = make_section(students=2, standards=1)
    for i, score in enumerate((4, 1, 2)):
        assessment = make_assessment(world, standards=world.standards, title=f"T{i}", on=date(2026, 9, 1 + i))
        for student in world.students:
            record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                            competency_id=world.standards[0].id, value=CellValue("scored", score),
                            observed_on=assessment.assessed_on, assessment=assessment)
    db.session.commit()
    return world


def _page_version(html: bytes) -> int:
    found = re.search(rb'name="version" value="(\d+)"', html)
    assert found, "the form carries the version it was rendered from"
    return int(found.group(1))


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]


def _end_request_transaction() -> None:
    """A real request's session ends with its request; the test client's shares the test's, so end it here."""
    db.session.rollback()


def test_preview_then_apply_a_section_policy(client: FlaskClient, login_as, count_queries) -> None:  # type: ignore[no-untyped-def]
    world = _world()
    login_as(world.teacher)
    url = f"/sections/{world.section.id}/policy"
    page = client.get(url)
    with count_queries() as q:
        preview = client.post(url, data={**HIGHEST, "apply": "0", "version": _page_version(page.data)})
    assert preview.status_code == 200
    assert b"levels would go up" in preview.data
    assert _writes(q.statements) == [], "a preview writes nothing"
    _end_request_transaction()
    stored = db.session.scalar(select(Section.version).where(Section.id == world.section.id))
    assert _page_version(preview.data) == stored

    applied = client.post(url, data={**HIGHEST, "apply": "1", "version": _page_version(preview.data)})
    assert applied.status_code == 303, applied.data
    assert db.session.get(Section, world.section.id).policy["method"] == "highest"
    assert b"Policy applied" in client.get(url).data


def test_a_change_saved_between_preview_and_apply_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = _world()
    co_teacher = make_user("teacher")
    login_as(world.teacher)
    url = f"/sections/{world.section.id}/policy"
    preview = client.post(url, data={**HIGHEST, "apply": "0", "version": _page_version(client.get(url).data)})
    _end_request_transaction()
    # A co-teacher applies another policy meanwhile.
    change_section_policy(db.session, co_teacher, db.session.get(Section, world.section.id), {"method": "average"})
    db.session.commit()

    refused = client.post(url, data={**HIGHEST, "apply": "1", "version": _page_version(preview.data)})
    assert refused.status_code == 422
    assert b"Someone else changed this section" in refused.data
    assert db.session.get(Section, world.section.id).policy["method"] == "average"
    assert db.session.scalar(select(func.count()).select_from(PolicyChange)) == 1


def test_a_change_committed_after_the_version_check_is_refused_not_a_crash(app) -> None:  # type: ignore[no-untyped-def]
    world = _world()
    section = db.session.get(Section, world.section.id)
    seen = section.version
    # Another transaction bumps the row after we loaded it (our in-memory copy still says `seen`).
    db.session.execute(text("UPDATE sections SET version = version + 1 WHERE id = :id"), {"id": section.id})
    try:
        change_section_policy(db.session, world.teacher, section, {"method": "average"}, expected_version=seen)
    except ServiceError as error:
        assert "Someone else changed" in error.message
    else:
        raise AssertionError("the UPDATE based on a stale version must be refused")
    db.session.rollback()


def test_the_school_policy_preview_writes_nothing_and_apply_follows(client: FlaskClient, login_as,  # type: ignore[no-untyped-def]
                                                                     count_queries) -> None:
    world = _world()
    login_as(make_user("admin"))
    sections_before = db.session.scalar(select(Section.version).where(Section.id == world.section.id))
    page = client.get("/admin/policy")
    with count_queries() as q:
        preview = client.post("/admin/policy", data={**AVERAGE, "apply": "0", "version": _page_version(page.data)})
    assert b"levels would go up" in preview.data
    assert _writes(q.statements) == [], "the school preview writes nothing"
    _end_request_transaction()
    assert db.session.scalar(select(Section.version).where(Section.id == world.section.id)) == sections_before
    applied = client.post("/admin/policy", data={**AVERAGE, "apply": "1", "version": _page_version(preview.data)})
    assert applied.status_code == 303
    assert db.session.scalar(select(School.default_policy))["method"] == "average"


def test_a_stale_school_policy_form_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    _world()
    login_as(make_user("admin"))
    page = client.get("/admin/policy")
    assert client.post("/admin/policy", data={**AVERAGE, "apply": "1", "version": _page_version(page.data)}
                       ).status_code == 303
    # A second admin's form, opened before that change:
    refused = client.post("/admin/policy", data={**HIGHEST, "apply": "1", "version": _page_version(page.data)})
    assert refused.status_code == 422
    assert b"Someone else changed the school" in refused.data
    assert db.session.scalar(select(School.default_policy))["method"] == "average"


def _scale_form(page: bytes, **labels: str) -> dict[str, str]:
    from gradebook.models import ScaleLevel

    levels = db.session.scalars(select(ScaleLevel)).all()
    data = {f"label_{lv.points:g}": labels.get(f"l{lv.points:g}", lv.label) for lv in levels}
    data.update({f"colour_{lv.points:g}": lv.colour for lv in levels})
    data.update({f"description_{lv.points:g}": lv.description for lv in levels})
    data["mastery"] = next(f"{lv.points:g}" for lv in levels if lv.is_mastery)
    data["version"] = str(_page_version(page))
    return data


def test_a_second_admin_saving_the_scale_from_an_older_page_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from gradebook.models import ScaleLevel

    make_section()
    login_as(make_user("admin"))
    page = client.get("/admin/scale").data  # both admins open the scale page
    assert client.post("/admin/scale", data=_scale_form(page, l1="Starting")).status_code == 303
    refused = client.post("/admin/scale", data=_scale_form(page, l1="Emerging"))
    assert refused.status_code == 422
    assert b"Someone else changed the scale" in refused.data and b'value="Emerging"' in refused.data
    assert db.session.scalar(select(ScaleLevel.label).where(ScaleLevel.points == 1)) == "Starting"
