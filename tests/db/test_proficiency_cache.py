"""The proficiency cache: refreshed with every evidence write, rebuilt by recompute, kept by policy changes."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import func, select

from gradebook.demo import seed_demo
from gradebook.extensions import db
from gradebook.models import Evidence, EvidenceRevision, ProficiencyRecord
from gradebook.services.evidence import CellValue, record_evidence
from gradebook.services.policy import change_section_policy, preview_section_policy
from gradebook.services.proficiency import compute_section, recompute
from tests.builders import make_assessment, make_section


def _evidence_snapshot() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(Evidence.id, Evidence.status, Evidence.score, Evidence.observed_on, Evidence.version,
               Evidence.deleted_at).order_by(Evidence.id))]


def _record_scores(world, scores: list[float]) -> None:  # type: ignore[no-untyped-def]
    for i, score in enumerate(scores):
        assessment = make_assessment(world, standards=world.standards[:1], title=f"Task {i}", on=date(2026, 9, 1 + i))
        for student in world.students:
            record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                            competency_id=world.standards[0].id, value=CellValue("scored", score),
                            observed_on=assessment.assessed_on, assessment=assessment)
    db.session.commit()


def _cache() -> dict[tuple[int, int], float | None]:
    return {(r.student_id, r.competency_id): r.score for r in db.session.scalars(select(ProficiencyRecord))}


def test_changing_a_sections_method_recomputes_every_cached_value_and_touches_no_evidence(app: Flask) -> None:
    world = make_section(students=3, standards=2)
    _record_scores(world, [1, 2, 3, 4])
    evidence_before = _evidence_snapshot()
    revisions_before = db.session.scalar(select(func.count()).select_from(EvidenceRevision))
    assert set(_cache().values()) >= {3.48}  # decaying average, the school default here

    change_section_policy(db.session, world.teacher, world.section, {"method": "average"})
    db.session.commit()

    standard = world.standards[0].id
    assert {_cache()[(s.id, standard)] for s in world.students} == {2.5}
    fresh = compute_section(db.session, world.section)
    assert {k: v.score for k, v in fresh.items()} == _cache()
    assert _evidence_snapshot() == evidence_before
    assert db.session.scalar(select(func.count()).select_from(EvidenceRevision)) == revisions_before


def test_a_policy_preview_counts_levels_that_would_move_without_changing_anything(app: Flask) -> None:
    world = make_section(students=2, standards=1)
    _record_scores(world, [1, 2, 3, 4])
    before = _cache()
    preview = preview_section_policy(db.session, world.section, {"method": "average"})
    # 3.48 Meets -> 2.50 Approaching for both students, on the standard and on its parent competency.
    assert (preview.down, preview.up) == (4, 0)
    assert _cache() == before


def test_recompute_on_the_demo_school_reports_zero_differences(app: Flask) -> None:
    seed_demo(db.session)
    db.session.commit()
    report = recompute(db.session)
    assert report.rows > 2000
    assert report.differences == 0, report.changed[:5]


def test_recompute_reports_a_row_that_was_tampered_with(app: Flask) -> None:
    world = make_section(students=1, standards=1)
    _record_scores(world, [2, 3])
    record = db.session.scalar(select(ProficiencyRecord).where(ProficiencyRecord.score.is_not(None)))
    record.score = 1.0
    db.session.commit()
    report = recompute(db.session)
    assert len(report.changed) == 1
    assert recompute(db.session).differences == 0


def test_parent_competency_rolls_up_its_standards(app: Flask) -> None:
    world = make_section(students=1, standards=2)
    for standard, score in zip(world.standards, (2.0, 4.0), strict=True):
        assessment = make_assessment(world, standards=[standard], title=standard.code)
        record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                        competency_id=standard.id, value=CellValue("scored", score),
                        observed_on=assessment.assessed_on, assessment=assessment)
    db.session.commit()
    parent_id = world.standards[0].parent_id
    assert _cache()[(world.students[0].id, parent_id)] == 3.0


def test_practice_set_not_to_count_leaves_the_level_alone_even_when_the_policy_weighs_practice(app: Flask) -> None:
    from gradebook.services import explain

    world = make_section(students=1, standards=1)
    world.section.policy = {"method": "decaying_average", "min_evidence": 1, "kind_weights": {"practice": 1}}
    student, standard = world.students[0], world.standards[0]
    practice = make_assessment(world, standards=[standard], title="Warm-up", kind="practice", on=date(2026, 9, 1),
                               counts=False)
    test = make_assessment(world, standards=[standard], title="Unit test", on=date(2026, 9, 8))
    for assessment, score in ((practice, 1.0), (test, 3.0)):
        record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                        competency_id=standard.id, value=CellValue("scored", score),
                        observed_on=assessment.assessed_on, assessment=assessment)
    db.session.commit()
    assert _cache()[(student.id, standard.id)] == 3.0
    result = explain.for_standard(db.session, world.section, student.id, standard.id)
    assert (result.score, result.count) == (3.0, 1)
    assert "Warm-up: 1 (not counted" in str(result.explanation)
    assert recompute(db.session).differences == 0


def test_every_write_refreshes_only_its_standard_and_parent_and_the_cache_still_matches_a_full_recompute(
        app: Flask) -> None:
    """Saves refresh one standard and its parent, reading the parent's other standards from the cache. A
    long random mix of writes (scores, statuses, removals, restores, overrides, on standards under two
    parents and several roll-up rules) must leave exactly what a rebuild from evidence alone gives."""
    import random

    from gradebook.services.evidence import remove_evidence, restore_evidence, set_override

    rng = random.Random(20261123)
    world = make_section(students=3, standards=8)  # two parents of four standards
    for rollup in ("average", "lowest", "all_at_mastery"):
        world.section.policy = {"method": "decaying_average", "min_evidence": 2, "rollup": rollup}
        recompute(db.session, [world.section.id])
        db.session.commit()
        pieces: list[Evidence] = []
        for step in range(40):
            student = rng.choice(world.students)
            standard = rng.choice(world.standards)
            roll = rng.random()
            if roll < 0.55 or not pieces:
                value = CellValue("scored", float(rng.randint(1, 4))) if rng.random() < 0.85 else \
                    CellValue(rng.choice(["missing", "excused", "not_yet"]), None)
                pieces.append(record_evidence(db.session, world.teacher, section=world.section,
                                              student_id=student.id, competency_id=standard.id, value=value,
                                              observed_on=date(2026, 9, 1 + step % 28)))
            elif roll < 0.75:
                piece = rng.choice(pieces)
                if piece.deleted_at is None:
                    remove_evidence(db.session, world.teacher, piece)
                else:
                    restore_evidence(db.session, world.teacher, piece)
            else:
                set_override(db.session, world.teacher, section=world.section, student_id=student.id,
                             competency_id=standard.id, level_points=rng.choice([None, 1.0, 2.0, 3.0, 4.0]),
                             reason="Seen in class.")
            db.session.commit()
        report = recompute(db.session, [world.section.id])
        assert report.differences == 0, report.changed[:5]
        db.session.rollback()


def test_evidence_observed_and_recorded_at_the_same_moment_is_taken_in_the_order_it_was_entered(app: Flask) -> None:
    """Ties on date and recorded time go by evidence id, whatever order the database returns rows in (the row
    with the higher id is written first, so a PostgreSQL heap scan meets it first)."""
    from gradebook.models import utcnow
    from gradebook.services import explain
    from gradebook.services.proficiency import refresh_student

    world = make_section(students=1, standards=1)
    world.section.policy = {"method": "decaying_average", "weight": 0.65, "min_evidence": 1}
    student, standard = world.students[0], world.standards[0]
    now = utcnow()
    for evidence_id, score in ((900, 4.0), (800, 1.0)):  # entered first: id 800, a 1; then id 900, a 4
        db.session.add(Evidence(id=evidence_id, student_id=student.id, section_id=world.section.id,
                                competency_id=standard.id, status="scored", score=score,
                                observed_on=date(2026, 10, 5), recorded_by_id=world.teacher.id, recorded_at=now,
                                updated_at=now))
        db.session.flush()
    refresh_student(db.session, world.section, student.id, standard.id)
    db.session.commit()
    assert _cache()[(student.id, standard.id)] == 2.95  # 1 × 0.35 + 4 × 0.65, not 4 × 0.35 + 1 × 0.65
    assert explain.for_standard(db.session, world.section, student.id, standard.id).score == 2.95
    assert recompute(db.session).differences == 0


def test_computing_and_storing_for_no_student_is_nothing_and_fails_nothing(app: Flask) -> None:
    from gradebook.services.proficiency import store

    world = make_section(students=2, standards=2)
    _record_scores(world, [2, 3])
    before = _cache()
    assert compute_section(db.session, world.section, []) == {}
    assert store(db.session, world.section, {}, []).differences == 0
    assert _cache() == before
