"""The evidence service: every write is attributable, undoable, versioned, and refreshes proficiency with it."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gradebook.extensions import db
from gradebook.models import (
    Assessment,
    Evidence,
    EvidenceRevision,
    Override,
    ProficiencyRecord,
    Section,
    User,
)
from gradebook.services import ServiceError, StaleWrite
from gradebook.services import gradebook as read
from gradebook.services.evidence import (
    CellValue,
    record_evidence,
    remove_evidence,
    restore_evidence,
    set_override,
)
from gradebook.services.proficiency import scale_for
from tests.builders import SectionWorld, make_assessment, make_section

ON = date(2026, 10, 5)


def _score(world: SectionWorld, score: float, *, session: Session | None = None,
           expected_version: int | None = None) -> Evidence:
    """The teacher records a score for the first student on the first standard, on the section's quiz."""
    session = session or db.session
    quiz = session.scalars(select(Assessment).where(Assessment.section_id == world.section.id)
                           .order_by(Assessment.id)).first()
    return record_evidence(session, session.get(User, world.teacher.id),
                           section=session.get(Section, world.section.id), student_id=world.students[0].id,
                           competency_id=world.standards[0].id, value=CellValue("scored", score), observed_on=ON,
                           assessment=quiz, expected_version=expected_version)


@pytest.fixture
def world(app: Flask) -> SectionWorld:
    world = make_section(students=2, standards=2)
    make_assessment(world, standards=world.standards[:1], on=ON)
    return world


def _revisions(evidence_id: int) -> list[EvidenceRevision]:
    return list(db.session.scalars(select(EvidenceRevision).where(EvidenceRevision.evidence_id == evidence_id)
                                   .order_by(EvidenceRevision.id)))


def _cached(world: SectionWorld) -> ProficiencyRecord | None:
    return db.session.scalar(select(ProficiencyRecord).where(
        ProficiencyRecord.section_id == world.section.id, ProficiencyRecord.student_id == world.students[0].id,
        ProficiencyRecord.competency_id == world.standards[0].id))


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_recording_evidence_writes_it_with_a_create_revision(world: SectionWorld) -> None:
    evidence = _score(world, 3)
    db.session.commit()
    assert [(r.action, r.old, r.new["score"], r.changed_by_id) for r in _revisions(evidence.id)] == \
        [("create", None, 3.0, world.teacher.id)]


def test_recording_evidence_refreshes_proficiency_in_the_same_transaction(world: SectionWorld) -> None:
    _score(world, 3)
    # Not committed yet: the cache row is already there, in the same transaction as the evidence.
    record = _cached(world)
    cached_before_commit = (record.score, record.level_points) if record else None
    db.session.rollback()  # and it goes with the evidence when the transaction does
    assert (cached_before_commit, _count(Evidence), _count(ProficiencyRecord)) == ((3.0, 3.0), 0, 0)


def test_updating_evidence_writes_an_update_revision_with_old_and_new_and_bumps_the_version(
        world: SectionWorld) -> None:
    evidence = _score(world, 2)
    db.session.commit()
    assert evidence.version == 1
    _score(world, 4, expected_version=1)
    db.session.commit()
    update = _revisions(evidence.id)[-1]
    assert (update.action, update.old["score"], update.new["score"], evidence.version) == ("update", 2.0, 4.0, 2)


def test_updating_evidence_refreshes_proficiency(world: SectionWorld) -> None:
    _score(world, 2)
    _score(world, 4)
    db.session.commit()
    assert _cached(world).score == 4.0


def test_saving_the_same_value_again_writes_no_revision(world: SectionWorld) -> None:
    evidence = _score(world, 3)
    _score(world, 3)
    db.session.commit()
    assert (len(_revisions(evidence.id)), evidence.version) == (1, 1)


def test_a_stale_expected_version_is_refused_and_writes_nothing(world: SectionWorld) -> None:
    evidence = _score(world, 2)
    _score(world, 3, expected_version=1)
    db.session.commit()
    with pytest.raises(StaleWrite) as refused:
        _score(world, 4, expected_version=1)
    db.session.rollback()
    assert refused.value.current.id == evidence.id
    assert (db.session.get(Evidence, evidence.id).score, len(_revisions(evidence.id)), _cached(world).score) == \
        (3.0, 2, 3.0)


def test_an_empty_cell_expected_but_now_filled_is_refused(world: SectionWorld) -> None:
    _score(world, 2)
    db.session.commit()
    with pytest.raises(StaleWrite):
        _score(world, 4, expected_version=0)


def test_removing_evidence_is_a_soft_delete_with_a_delete_revision(world: SectionWorld) -> None:
    evidence = _score(world, 3)
    db.session.commit()
    remove_evidence(db.session, world.teacher, evidence, expected_version=1)
    db.session.commit()
    kept = db.session.get(Evidence, evidence.id)
    assert (kept.deleted_at is not None, kept.deleted_by_id, _revisions(evidence.id)[-1].action) == \
        (True, world.teacher.id, "delete")


def test_removed_evidence_no_longer_counts_toward_proficiency(world: SectionWorld) -> None:
    first = _score(world, 1)
    db.session.commit()
    other = make_assessment(world, standards=world.standards[:1], title="Retake", on=ON)
    record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                    competency_id=world.standards[0].id, value=CellValue("scored", 4), observed_on=ON,
                    assessment=other)
    remove_evidence(db.session, world.teacher, first)
    db.session.commit()
    assert (_cached(world).score, _cached(world).evidence_count) == (4.0, 1)


def test_restoring_removed_evidence_brings_it_back_into_proficiency(world: SectionWorld) -> None:
    evidence = _score(world, 3)
    remove_evidence(db.session, world.teacher, evidence)
    db.session.commit()
    assert _cached(world).score is None
    restore_evidence(db.session, world.teacher, evidence)
    db.session.commit()
    assert (evidence.deleted_at, _revisions(evidence.id)[-1].action, _cached(world).score) == (None, "restore", 3.0)


def test_an_override_wins_in_the_grid_cell(world: SectionWorld) -> None:
    _score(world, 1)
    set_override(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                 competency_id=world.standards[0].id, level_points=3, reason="Showed it in the lab discussion.")
    db.session.commit()
    cell = read.load_gradebook(db.session, world.section).cell(world.students[0].id, world.standards[0].id)
    assert (cell.level.points, cell.computed_level.points, cell.override.reason) == \
        (3, 1, "Showed it in the lab discussion.")


def test_clearing_an_override_keeps_it_as_cleared_and_the_computed_level_returns(world: SectionWorld) -> None:
    _score(world, 1)
    set_override(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                 competency_id=world.standards[0].id, level_points=3, reason="Showed it in the lab discussion.")
    db.session.commit()
    set_override(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                 competency_id=world.standards[0].id, level_points=None, reason="")
    db.session.commit()
    overrides = list(db.session.scalars(select(Override)))
    cell = read.load_gradebook(db.session, world.section).cell(world.students[0].id, world.standards[0].id)
    assert ([o.cleared_at is not None for o in overrides], cell.override, cell.level.points) == ([True], None, 1)


def test_an_override_needs_a_reason(world: SectionWorld) -> None:
    with pytest.raises(ServiceError, match="reason"):
        set_override(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                     competency_id=world.standards[0].id, level_points=3, reason="  ")


def test_evidence_is_never_hard_deleted(world: SectionWorld) -> None:
    evidence = _score(world, 2)
    _score(world, 3)
    remove_evidence(db.session, world.teacher, evidence)
    _score(world, 4)  # a new live piece in the same cell
    restore_target = db.session.get(Evidence, evidence.id)
    db.session.commit()
    assert (_count(Evidence), restore_target.deleted_at is not None,
            [r.action for r in db.session.scalars(select(EvidenceRevision).order_by(EvidenceRevision.id))]) == \
        (2, True, ["create", "update", "delete", "create"])


def test_a_score_off_the_scale_is_refused_before_anything_is_written(world: SectionWorld) -> None:
    scale = scale_for(db.session, world.section)
    with pytest.raises(ServiceError, match="off the scale"):
        _score(world, scale.max_points + 1)
    db.session.rollback()
    assert _count(Evidence) == _count(EvidenceRevision) == 0


def test_evidence_for_a_student_not_in_the_section_is_refused(world: SectionWorld) -> None:
    stranger = make_section(students=1).students[0]
    with pytest.raises(ServiceError, match="not in this section"):
        record_evidence(db.session, world.teacher, section=world.section, student_id=stranger.id,
                        competency_id=world.standards[0].id, value=CellValue("scored", 3), observed_on=ON)


# ---------------------------------------------------------------- no lost update, across two connections

def _open_sessions() -> tuple[Session, Session]:
    return Session(db.engine), Session(db.engine)


def test_two_teachers_saving_the_same_version_the_second_is_refused(world: SectionWorld) -> None:
    _score(world, 2)
    db.session.commit()
    mine, theirs = _open_sessions()
    try:
        # Both screens show the same evidence at the same version.
        seen_by_me = mine.scalar(select(Evidence.version))
        seen_by_them = theirs.scalar(select(Evidence.version))
        mine.commit()
        theirs.commit()
        _score(world, 3, session=theirs, expected_version=seen_by_them)
        theirs.commit()
        with pytest.raises(StaleWrite):
            _score(world, 4, session=mine, expected_version=seen_by_me)
        mine.rollback()
    finally:
        mine.close()
        theirs.close()
    db.session.rollback()  # end the test's own read transaction to see what the two connections committed
    assert ([e.score for e in db.session.scalars(select(Evidence))],
            [r.action for r in db.session.scalars(select(EvidenceRevision).order_by(EvidenceRevision.id))]) == \
        ([3.0], ["create", "update"])


def test_a_save_that_loses_the_race_after_its_version_check_is_refused_not_crashed(world: SectionWorld) -> None:
    """The version check passed on a row someone else then changed: the versioned UPDATE must refuse it."""
    _score(world, 2)
    db.session.commit()
    mine = Session(db.engine, expire_on_commit=False)  # keeps what it loaded, as a slow request would
    theirs = Session(db.engine)
    try:
        loaded = mine.scalar(select(Evidence))
        mine.commit()
        _score(world, 3, session=theirs, expected_version=loaded.version)
        theirs.commit()
        with pytest.raises(StaleWrite):
            _score(world, 4, session=mine, expected_version=loaded.version)
        mine.rollback()
    finally:
        mine.close()
        theirs.close()
    db.session.rollback()  # end the test's own read transaction to see what the two connections committed
    assert [e.score for e in db.session.scalars(select(Evidence))] == [3.0]


# ---------------------------------------------------------------- two saves racing for the same empty cell

def _found_empty_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The save's check runs before the other save's INSERT is visible: it finds the cell empty, once."""
    from gradebook.services import evidence as service

    real, calls = service.live_cell, []

    def live_cell(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(service, "live_cell", live_cell)


def test_a_save_that_loses_the_insert_race_is_told_what_the_winner_saved(world: SectionWorld,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    winner = _score(world, 2)  # the other save's row, in the database when ours inserts
    _found_empty_once(monkeypatch)
    with pytest.raises(StaleWrite) as refused:
        _score(world, 3.5, expected_version=0)
    assert (refused.value.current.id, refused.value.current.score) == (winner.id, 2.0)
    # The transaction is still usable (the INSERT ran in a savepoint): the winner's save commits intact.
    db.session.commit()
    assert [(e.score, e.version) for e in db.session.scalars(select(Evidence))] == [(2.0, 1)]
    assert [r.action for r in _revisions(winner.id)] == ["create"]


def test_a_save_without_a_version_that_loses_the_insert_race_updates_the_winners_evidence(
        world: SectionWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    winner = _score(world, 2)
    _found_empty_once(monkeypatch)
    saved = _score(world, 3.5)
    db.session.commit()
    assert (saved.id, [e.score for e in db.session.scalars(select(Evidence))]) == (winner.id, [3.5])
    assert [r.action for r in _revisions(winner.id)] == ["create", "update"]
    assert _cached(world).score == 3.5


# ---------------------------------------------------------------- two saves for one student, on two assessments

@pytest.mark.parametrize("cached_before", [False, True], ids=["first-evidence", "cache-rows-exist"])
def test_two_saves_for_one_student_at_once_leave_the_cache_as_the_evidence_says(world: SectionWorld,
                                                                                cached_before: bool) -> None:
    """Two teachers save the same student on the same standard, on two assessments, at the same moment (the
    second while the first is not yet committed). Both save; no 500 on the cache's unique rule (its first
    evidence); the cached level counts both pieces (as a recompute from evidence alone says), not only the
    one its own save saw (a lost update of the cache)."""
    import threading

    from flask import current_app

    from gradebook.services.proficiency import recompute
    from tests.concurrency import backend_pid, wait_until, waiting_for_a_lock
    from tests.conftest import is_postgres

    make_assessment(world, standards=world.standards[:1], title="Retest", on=ON)
    if cached_before:
        earlier = make_assessment(world, standards=world.standards[:1], title="Earlier", on=ON)
        record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                        competency_id=world.standards[0].id, value=CellValue("scored", 2.0), observed_on=ON,
                        assessment=earlier)
    quizzes = db.session.scalars(select(Assessment.id).where(Assessment.section_id == world.section.id)
                                 .order_by(Assessment.id)).all()
    teacher_id, section_id = world.teacher.id, world.section.id
    student_id, standard_id = world.students[0].id, world.standards[0].id
    db.session.commit()

    def save(session: Session, assessment_id: int, score: float) -> None:
        record_evidence(session, session.get(User, teacher_id), section=session.get(Section, section_id),
                        student_id=student_id, competency_id=standard_id, value=CellValue("scored", score),
                        observed_on=ON, assessment=session.get(Assessment, assessment_id), expected_version=0)

    first, second = Session(db.engine), Session(db.engine)
    failures: list[BaseException] = []
    try:
        save(first, quizzes[0], 1.0)  # written, not yet committed
        if is_postgres():
            pid = backend_pid(second)

            app = current_app._get_current_object()  # type: ignore[attr-defined]

            def run() -> None:
                try:
                    with app.app_context():  # authz reads through the app's session
                        save(second, quizzes[1], 4.0)
                        second.commit()
                except BaseException as error:  # noqa: BLE001  (reported by the test below)
                    failures.append(error)

            racer = threading.Thread(target=run)
            racer.start()
            assert wait_until(lambda: waiting_for_a_lock(db.engine, pid) or not racer.is_alive())
            first.commit()  # the second save is waiting for the first: now it may go on
            racer.join(timeout=30)
        else:  # BEGIN IMMEDIATE: the second transaction waits for the first to commit
            first.commit()
            save(second, quizzes[1], 4.0)
            second.commit()
    finally:
        first.close()
        second.close()
    assert failures == []
    db.session.rollback()
    assert sorted(e.score for e in db.session.scalars(select(Evidence))) == ([1.0, 2.0, 4.0] if cached_before
                                                                             else [1.0, 4.0])
    assert recompute(db.session).changed == []
    assert _cached(world).evidence_count == (3 if cached_before else 2)


def test_a_save_while_the_sections_policy_changes_is_cached_with_the_new_policy(world: SectionWorld) -> None:
    """A teacher saves a score while a co-teacher applies a new calculation policy to the section (not yet
    committed). The save waits for the change and computes its cached level with the new policy, so the
    cache is what a recompute from evidence says, not a level under the old policy."""
    import threading

    from flask import current_app

    from gradebook.services.policy import change_section_policy
    from gradebook.services.proficiency import recompute
    from tests.concurrency import backend_pid, wait_until, waiting_for_a_lock
    from tests.conftest import is_postgres

    for score in (1.0, 4.0):
        make_assessment(world, standards=world.standards[:1], title=f"Q{score:g}", on=ON)
    quizzes = db.session.scalars(select(Assessment.id).where(Assessment.section_id == world.section.id)
                                 .order_by(Assessment.id)).all()
    teacher_id, section_id = world.teacher.id, world.section.id
    student_id, standard_id = world.students[0].id, world.standards[0].id
    for assessment_id, score in zip(quizzes[:2], (1.0, 4.0), strict=True):
        record_evidence(db.session, world.teacher, section=world.section, student_id=student_id,
                        competency_id=standard_id, value=CellValue("scored", score), observed_on=ON,
                        assessment=db.session.get(Assessment, assessment_id))
    db.session.commit()

    def save(session: Session) -> None:
        section = session.get(Section, section_id)  # loaded as a request does, before the policy commits
        record_evidence(session, session.get(User, teacher_id), section=section, student_id=student_id,
                        competency_id=standard_id, value=CellValue("scored", 2.0), observed_on=ON,
                        assessment=session.get(Assessment, quizzes[2]), expected_version=0)
        session.commit()

    policy, saver = Session(db.engine), Session(db.engine)
    failures: list[BaseException] = []
    try:
        if is_postgres():
            saver.get(Section, section_id)  # (SQLite: BEGIN IMMEDIATE would make this wait for the policy)
        change_section_policy(policy, policy.get(User, teacher_id), policy.get(Section, section_id),
                              {"method": "highest"})  # written, not yet committed
        if is_postgres():
            pid = backend_pid(saver)
            app = current_app._get_current_object()  # type: ignore[attr-defined]

            def run() -> None:
                try:
                    with app.app_context():
                        save(saver)
                except BaseException as error:  # noqa: BLE001  (reported by the test below)
                    failures.append(error)

            racer = threading.Thread(target=run)
            racer.start()
            assert wait_until(lambda: waiting_for_a_lock(db.engine, pid) or not racer.is_alive())
            policy.commit()
            racer.join(timeout=30)
        else:
            policy.commit()
            save(saver)
    finally:
        policy.close()
        saver.close()
    assert failures == []
    db.session.rollback()
    assert recompute(db.session).changed == []
    assert _cached(world).score == 4.0  # the highest of 1, 4 and 2
