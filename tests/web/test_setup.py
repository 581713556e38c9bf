"""Admin setup pages and a section's own policy: preview before apply, bad input refused, nothing lost."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import (
    Evidence,
    LevelDescriptor,
    PolicyChange,
    ProficiencyRecord,
    ScaleLevel,
    School,
    Section,
)
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import make_assessment, make_section, make_user

POLICY = {"method": "average", "weight": "0.65", "n": "2", "min_evidence": "1", "rollup": "average"}


def _world_with_scores():  # type: ignore[no-untyped-def]
    world = make_section(students=2, standards=1)
    for i, score in enumerate((1, 2, 3, 4)):
        assessment = make_assessment(world, standards=world.standards, title=f"T{i}", on=date(2026, 9, 1 + i))
        for student in world.students:
            record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                            competency_id=world.standards[0].id, value=CellValue("scored", score),
                            observed_on=assessment.assessed_on, assessment=assessment)
    db.session.commit()
    return world


def test_school_policy_preview_changes_nothing(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    _world_with_scores()
    login_as(make_user("admin"))
    response = client.post("/admin/policy", data={**POLICY, "apply": "0"})
    assert response.status_code == 200
    assert b"levels would go up" in response.data
    assert db.session.scalar(select(School.default_policy))["method"] == "decaying_average"


def test_applying_the_school_policy_recomputes_and_records_the_change(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = _world_with_scores()
    login_as(make_user("admin"))
    evidence_before = db.session.scalar(select(func.count()).select_from(Evidence))
    response = client.post("/admin/policy", data={**POLICY, "apply": "1"})
    assert response.status_code == 303
    score = db.session.scalar(select(ProficiencyRecord.score).where(
        ProficiencyRecord.competency_id == world.standards[0].id))
    assert score == 2.5
    assert db.session.scalar(select(func.count()).select_from(PolicyChange)) == 1
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == evidence_before


def test_a_bad_policy_gets_a_clear_message_and_changes_nothing(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    _world_with_scores()
    login_as(make_user("admin"))
    for bad in ({"weight": "1.5"}, {"weight": "abc"}, {"method": "median"}, {"min_evidence": "0"}, {"n": "x"}):
        response = client.post("/admin/policy", data={**POLICY, **bad, "apply": "1"})
        assert response.status_code == 422, bad
    assert db.session.scalar(select(func.count()).select_from(PolicyChange)) == 0


def test_a_teacher_gives_their_section_its_own_policy_after_a_preview(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = _world_with_scores()
    login_as(world.teacher)
    preview = client.post(f"/sections/{world.section.id}/policy", data={**POLICY, "apply": "0"})
    assert b"levels would go up" in preview.data
    applied = client.post(f"/sections/{world.section.id}/policy",
                          data={**POLICY, "apply": "1", "version": world.section.version})
    assert applied.status_code == 303
    assert db.session.get(Section, world.section.id).policy["method"] == "average"


def test_a_stale_section_policy_form_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = _world_with_scores()
    login_as(world.teacher)
    response = client.post(f"/sections/{world.section.id}/policy", data={**POLICY, "apply": "1", "version": 99})
    assert response.status_code == 422
    assert b"Someone else changed" in response.data


def test_the_scale_needs_exactly_one_mastery_level_and_distinct_labels(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    make_section()
    login_as(make_user("admin"))
    levels = db.session.scalars(select(ScaleLevel)).all()
    data = {f"label_{lv.points:g}": "Same" for lv in levels}
    data.update({f"colour_{lv.points:g}": lv.colour for lv in levels})
    assert client.post("/admin/scale", data=data).status_code == 422
    data.update({f"label_{lv.points:g}": f"L{lv.points:g}" for lv in levels})
    data["colour_3"] = "blue"
    data["mastery"] = "3"
    response = client.post("/admin/scale", data=data)
    assert response.status_code == 422
    assert b"colour" in response.data


def test_an_admin_edits_a_statement_and_its_level_descriptors(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(standards=1)
    login_as(make_user("admin"))
    standard = world.standards[0]
    response = client.post(f"/admin/competencies/{standard.id}", data={
        "statement": "Explain it clearly.", "short_name": "Explain", "level_3": "Explains it clearly alone.",
        "level_4": "", "level_2": "With help.", "level_1": "Starting."})
    assert response.status_code == 303
    descriptors = {d.points: d.description for d in db.session.scalars(
        select(LevelDescriptor).where(LevelDescriptor.competency_id == standard.id))}
    assert descriptors == {3: "Explains it clearly alone.", 2: "With help.", 1: "Starting."}


def test_an_empty_statement_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(standards=1)
    login_as(make_user("admin"))
    response = client.post(f"/admin/competencies/{world.standards[0].id}", data={"statement": ""})
    assert response.status_code == 422
    assert b"cannot be empty" in response.data


def test_the_framework_tree_lists_every_competency(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(standards=3)
    login_as(make_user("admin"))
    page = client.get(f"/admin/frameworks/{world.standards[0].framework_id}").get_data(as_text=True)
    assert all(s.code in page for s in world.standards)
