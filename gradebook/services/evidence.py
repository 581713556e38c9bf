"""Recording evidence: validate, write the evidence and its revision, refresh the proficiency cache.

Evidence is never overwritten silently nor hard-deleted: every change writes a revision (who, when, old,
new); a removal is a soft delete that can be undone; a write based on a stale version is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, func, literal, select, text, true, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from gradebook import authz
from gradebook.models import (
    EVIDENCE_STATUSES,
    Assessment,
    AssessmentStandard,
    Competency,
    Enrollment,
    Evidence,
    EvidenceRevision,
    Override,
    Section,
    SectionStandard,
    User,
    utcnow,
)
from gradebook.services import ServiceError, StaleWrite
from gradebook.services.audit import record_change
from gradebook.services.proficiency import refresh_student, scale_for

MAX_FEEDBACK = 5000
# Letters a teacher types for the non-score states.
STATUS_LETTERS = {"M": "missing", "E": "excused", "N": "not_yet"}
STATUS_LETTER = {v: k for k, v in STATUS_LETTERS.items()}
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class CellValue:
    status: str
    score: float | None


def parse_cell(text: str, section: Section, session: Session) -> CellValue | None:
    """What a teacher typed in a cell: a score on the scale, or M / E / N. Empty means 'no evidence'."""
    raw = (text or "").strip()
    if raw == "":
        return None
    letter = raw.upper()
    if letter in STATUS_LETTERS:
        return CellValue(STATUS_LETTERS[letter], None)
    if letter.replace("_", " ").lower() in ("missing", "excused", "not yet"):
        return CellValue(letter.lower().replace(" ", "_"), None)
    try:
        score = float(raw.replace(",", "."))
    except ValueError:
        raise ServiceError(f"“{raw[:20]}” is not a score. Type a number on the scale, or M (missing), "
                           "E (excused), N (not yet).", "value") from None
    return CellValue("scored", check_score(session, section, score))


def check_score(session: Session, section: Section, score: float) -> float:
    """A score lies on the section's scale: from its lowest level's points to its highest (whole numbers
    only when the scale says so). Every way of recording evidence comes through here."""
    scale = scale_for(session, section)
    low, high = scale.min_points, scale.max_points
    if not scale.is_valid_score(score):
        raise ServiceError(f"{score:g} is off the scale: scores go from {low:g} to {high:g}.", "value")
    from gradebook.services.proficiency import scale_row_for

    if not scale_row_for(session, section).allow_decimals and score != int(score):
        raise ServiceError(f"This scale takes whole numbers only ({low:g} to {high:g}).", "value")
    return round(score, 2)


def check_observed_on(observed_on: date | None, *, today: date | None = None) -> date:
    today = today or date.today()
    if observed_on is None:
        raise ServiceError("Give the date the evidence was observed.", "observed_on")
    if observed_on > today + timedelta(days=1):
        raise ServiceError(f"{observed_on:%-d %b %Y} is in the future: evidence is dated when it was observed.",
                           "observed_on")
    if observed_on < EARLIEST:
        raise ServiceError("That date is too far in the past.", "observed_on")
    return observed_on


def _check_scope(session: Session, actor: User, section: Section, student_id: int, competency_id: int,
                 assessment: Assessment | None) -> None:
    if not authz.teaches_section(actor, section.id):
        raise ServiceError("Only a teacher of this section can record evidence here.")
    enrolled = session.scalar(select(Enrollment.id).where(Enrollment.section_id == section.id,
                                                          Enrollment.student_id == student_id,
                                                          Enrollment.active.is_(True)))
    if enrolled is None:
        raise ServiceError("That student is not in this section.", "student")
    assessed = session.scalar(select(SectionStandard.competency_id).where(
        SectionStandard.section_id == section.id, SectionStandard.competency_id == competency_id))
    if assessed is None:
        raise ServiceError("That standard is not one this section assesses.", "standard")
    if assessment is not None:
        if assessment.section_id != section.id or assessment.deleted_at is not None:
            raise ServiceError("That assessment is not in this section.", "assessment")
        aligned = session.scalar(select(AssessmentStandard.competency_id).where(
            AssessmentStandard.assessment_id == assessment.id, AssessmentStandard.competency_id == competency_id))
        if aligned is None:
            raise ServiceError("That assessment is not aligned to this standard.", "standard")


def _lock_student(session: Session, section: Section, student_id: int) -> None:
    """Writes to one student's evidence in a section take turns, and wait for a change of the section's
    policy or scale being applied, so each refreshes the cached proficiency from all the evidence committed
    before it, under the section's settings as committed. On PostgreSQL two saves for the same student (two
    assessments, two teachers) would otherwise each compute the cache from a snapshot missing the other's
    piece (the later commit leaving a stale level) or both insert its first row (a unique violation), and a
    save racing a policy change would cache a level under the old policy. The enrolment row is locked for
    update and the section row for share (a policy change updates it, so it waits for saves in progress and
    they for it), both until commit; the section is re-read as committed. SQLite needs none of it: BEGIN
    IMMEDIATE already runs one writer at a time."""
    if session.get_bind().dialect.name != "postgresql" or _holds_lock(session, section.id, student_id):
        return
    # One statement: the section FOR SHARE (re-read into `section`), the enrolment FOR UPDATE (no row when
    # the student is not enrolled: the save is refused by its scope check anyway).
    session.execute(select(Section).from_statement(text(
        "SELECT sections.* FROM sections JOIN enrollments ON enrollments.section_id = sections.id "
        "AND enrollments.student_id = :student_id WHERE sections.id = :section_id "
        "FOR SHARE OF sections FOR UPDATE OF enrollments").bindparams(section_id=section.id, student_id=student_id))
        .execution_options(populate_existing=True)).scalar_one_or_none()  # fetched: `section` re-read


_LOCKS = "gradebook_student_locks"


def _transaction(session: Session) -> Any:
    from sqlalchemy.orm import scoped_session

    return (session() if isinstance(session, scoped_session) else session).get_transaction()


def _holds_lock(session: Session, section_id: int, student_id: int) -> bool:
    """Whether this transaction already took the student's lock (`load_section_for_save`)."""
    held = session.info.get(_LOCKS)
    return held is not None and held[0] is _transaction(session) and (section_id, student_id) in held[1]


def load_section_for_save(session: Session, section_id: int, user: User,
                          student_id: int) -> tuple[Section | None, bool]:
    """The section as `load_section_with_settings` loads it for a request, and on PostgreSQL, in the same
    statement, the lock a save of `student_id`'s evidence takes (`_lock_student`, which then sends nothing):
    one round trip fewer for a score save. A student not enrolled there: the section is loaded unlocked (the
    save is refused by its scope check)."""
    from gradebook.services.proficiency import load_section_with_settings

    if session.get_bind().dialect.name != "postgresql":
        return load_section_with_settings(session, section_id, user)
    section, teaches = load_section_with_settings(session, section_id, user, lock_student_id=student_id)
    if section is None:
        return load_section_with_settings(session, section_id, user)
    session.info[_LOCKS] = (_transaction(session), {(section_id, student_id)})
    return section, teaches


def closed_message(section: Section) -> str:
    when = f" on {section.closed_at:%-d %b %Y}" if section.closed_at is not None else ""
    return (f"{section.name} was closed{when} with its term: its record is read-only. Everything in it is kept "
            "and can still be read; record new evidence in this term's section.")


def check_open(section: Section) -> None:
    """A closed section (its term ended, see services/terms.py) takes no new evidence and no edits."""
    if section.closed_at is not None:
        raise ServiceError(closed_message(section))


def _revise(session: Session, evidence: Evidence, actor: User, action: str, old: dict | None) -> None:
    session.add(EvidenceRevision(evidence_id=evidence.id, action=action, changed_by_id=actor.id,
                                 changed_at=utcnow(), old=old, new=evidence.snapshot()))


STALE_MESSAGE = "Someone else saved this since you opened it. Compare the two values and choose."


def _check_version(evidence: Evidence | None, expected_version: int | None) -> None:
    """expected_version is what the user's screen showed: 0 for an empty cell, else the evidence version."""
    if expected_version is None:
        return
    current = evidence.version if evidence is not None else 0
    if current != expected_version:
        raise StaleWrite(STALE_MESSAGE, current=evidence)


def _flush_versioned(session: Session, evidence: Evidence) -> None:
    """Write a change to existing evidence. Another transaction may have committed between our version check
    and this UPDATE (whose WHERE carries the version): refuse it like any stale write, never as a crash.
    The caller rolls back, which expires `evidence`, so it then shows what the other person saved."""
    try:
        session.flush()
    except StaleDataError:
        raise StaleWrite(STALE_MESSAGE, current=evidence) from None


def _insert_cell(session: Session, evidence: Evidence, expected_version: int | None) -> Evidence:
    """Insert new evidence. Two saves may both have found an assessment's cell empty: the database's unique
    rule on a live cell (uq_evidence_live_cell) lets one in and the other's INSERT fails once the first
    commits (PostgreSQL; SQLite's BEGIN IMMEDIATE queues them so the second finds the cell filled). The
    INSERT runs in a SAVEPOINT, so losing the race leaves this transaction usable: the loser is told what the
    winner saved (StaleWrite, the same answer as any stale write), or, when the caller gave no version to
    check, updates the winner's evidence as if it had been there all along. Returns the row to update, or
    `evidence` itself once inserted."""
    try:
        with session.begin_nested():
            session.add(evidence)
            session.flush()
    except IntegrityError:
        winner = live_cell(session, evidence.student_id, evidence.assessment_id, evidence.competency_id) \
            if evidence.assessment_id is not None else None
        if winner is None:  # another rule failed: not a race for the cell
            raise
        if expected_version is not None:
            raise StaleWrite(STALE_MESSAGE, current=winner) from None
        return winner
    return evidence


def live_cell(session: Session, student_id: int, assessment_id: int, competency_id: int) -> Evidence | None:
    return session.scalar(select(Evidence).where(
        Evidence.student_id == student_id, Evidence.assessment_id == assessment_id,
        Evidence.competency_id == competency_id, Evidence.deleted_at.is_(None)))


@dataclass
class CellContext:
    """Everything one cell's save needs, read in one statement after the student's lock (`load_cell`): the
    scope (the section is taught by the actor, the student enrolled and active, the standard assessed, the assessment
    aligned to it), the live evidence of the cell, the student's evidence on the standard, and the cached
    scores and overrides of the standard's siblings under its parent (for the roll-up)."""

    assessment: Assessment
    student: User
    standard: Competency
    evidence: list[Evidence]  # the student's live evidence on the standard in the section, by id
    assessment_info: dict[int, tuple[str, bool, str]]  # assessment id -> (kind, counts, title)
    siblings: list[tuple[int, str, str]]  # (competency id, code, statement) of the parent's standards, in order
    records: dict[int, tuple]  # competency id -> cached row (id, score, level_points, count, needed, method,
    #                             trend, last_observed_on) for the standard, its parent and its siblings
    overrides: dict[int, float]  # competency id -> a live override's level
    computed: dict[int, Any] = field(default_factory=dict)  # competency id -> Computed, after `refresh_cell`

    @property
    def live_cell(self) -> Evidence | None:
        return next((e for e in self.evidence if e.assessment_id == self.assessment.id), None)


_LOAD_CELL_QUERIES: dict[str, Any] = {}


def _load_cell_query(kind: str) -> Any:
    """load_cell's statement, built once per kind of actor with bound parameters: building this select
    (five aliases, a dozen joins) costs more than running it, so a save only binds the ids."""
    query = _LOAD_CELL_QUERIES.get(kind)
    if query is not None:
        return query
    from gradebook.models import Competency, ProficiencyRecord, SectionTeacher

    section_id, student_id = bindparam("section_id"), bindparam("student_id")
    competency_id, assessment_id = bindparam("competency_id"), bindparam("assessment_id")
    sib_ss, sib = aliased(SectionStandard), aliased(Competency)
    e_assessment = aliased(Assessment)
    rec, rec_up = aliased(ProficiencyRecord), aliased(ProficiencyRecord)
    if kind == "district_admin":
        teaches: Any = true()
    elif kind == "school_admin":  # a school admin: a section of their schools
        from gradebook.models import SchoolMember

        teaches = exists().where(SchoolMember.user_id == bindparam("actor_id"),
                                 SchoolMember.school_id == bindparam("school_id"))
    else:
        teaches = exists().where(SectionTeacher.section_id == section_id,
                                 SectionTeacher.teacher_id == bindparam("actor_id"))
    record_columns = lambda r: (r.competency_id, r.id, r.score, r.level_points, r.evidence_count,  # noqa: E731
                                r.needed, r.method, r.trend, r.last_observed_on)
    # Two parts on separate rows, not their product: part 1 rows carry the evidence, part 2 rows the siblings.
    part = union_all(select(literal(1).label("k")), select(literal(2).label("k"))).subquery("part")
    query = (
        select(Assessment, User, Competency, Evidence, e_assessment.kind, e_assessment.counts, e_assessment.title,
               sib_ss.competency_id, sib.code, func.coalesce(sib.short_name, sib.statement),
               *record_columns(rec), Override.level_points, *record_columns(rec_up))
        .select_from(Assessment)
        .join(AssessmentStandard, (AssessmentStandard.assessment_id == Assessment.id)
              & (AssessmentStandard.competency_id == competency_id))
        .join(SectionStandard, (SectionStandard.section_id == section_id)
              & (SectionStandard.competency_id == competency_id))
        .join(Enrollment, (Enrollment.section_id == section_id) & (Enrollment.student_id == student_id)
              & Enrollment.active.is_(True))
        .join(User, User.id == Enrollment.student_id)
        .join(Competency, Competency.id == SectionStandard.competency_id)
        .join(part, true())
        .outerjoin(Evidence, (part.c.k == 1) & (Evidence.section_id == section_id) & (Evidence.student_id == student_id)
                   & (Evidence.competency_id == competency_id) & Evidence.deleted_at.is_(None))
        .outerjoin(e_assessment, e_assessment.id == Evidence.assessment_id)
        # the parent's standards that the section assesses (the standard among them), their cache and overrides
        .outerjoin(sib, (part.c.k == 2) & (sib.parent_id == Competency.parent_id))
        .outerjoin(sib_ss, (sib_ss.section_id == section_id) & (sib_ss.competency_id == sib.id))
        .outerjoin(rec, (rec.section_id == section_id) & (rec.student_id == student_id)
                   & (rec.competency_id == sib_ss.competency_id))
        .outerjoin(Override, (Override.section_id == section_id) & (Override.student_id == student_id)
                   & (Override.competency_id == sib_ss.competency_id) & Override.cleared_at.is_(None))
        # the parent's cached row (the standard's own, when it has no parent)
        .outerjoin(rec_up, (rec_up.section_id == section_id) & (rec_up.student_id == student_id)
                   & (rec_up.competency_id == func.coalesce(Competency.parent_id, Competency.id)))
        .where(Assessment.id == assessment_id, Assessment.section_id == section_id, Assessment.deleted_at.is_(None),
               teaches)
        .order_by(sib_ss.position, Evidence.id))
    _LOAD_CELL_QUERIES[kind] = query
    return query


def load_cell(session: Session, actor: User, section: Section, assessment_id: int, student_id: int,
              competency_id: int) -> CellContext | None:
    """The context of one cell's save (see CellContext), or None when the cell is out of the actor's scope.
    On PostgreSQL the student's lock (`_lock_student`) is taken first, so what is read is what was committed
    before it."""
    _lock_student(session, section, student_id)
    kind = ("district_admin" if actor.district_admin else "school_admin") if actor.role == "admin" else "teacher"
    params = {"section_id": section.id, "student_id": student_id, "competency_id": competency_id,
              "assessment_id": assessment_id, "actor_id": actor.id, "school_id": section.school_id}
    if kind == "district_admin":
        del params["actor_id"], params["school_id"]
    elif kind == "teacher":
        del params["school_id"]
    query = _load_cell_query(kind)
    rows = session.execute(query, params).all()
    if not rows:
        return None
    assessment, student, standard = rows[0][0], rows[0][1], rows[0][2]
    evidence: dict[int, Evidence] = {}
    info: dict[int, tuple[str, bool, str]] = {}
    siblings: dict[int, tuple[int, str, str]] = {}
    records: dict[int, tuple] = {}
    overrides: dict[int, float] = {}
    for row in rows:
        ev = row[3]
        if ev is not None:
            evidence[ev.id] = ev
            if ev.assessment_id is not None and row[4] is not None:
                info[ev.assessment_id] = (row[4], row[5], row[6])
        if row[7] is not None:
            siblings.setdefault(row[7], (row[7], row[8], row[9]))
        if row[10] is not None:
            records[row[10]] = tuple(row[11:19])
        if row[19] is not None:
            overrides[row[7]] = row[19]
        if row[20] is not None:
            records[row[20]] = tuple(row[21:29])
    return CellContext(assessment, student, standard, sorted(evidence.values(), key=lambda e: e.id), info,
                       list(siblings.values()), records, overrides)


def record_evidence(
    session: Session,
    actor: User,
    *,
    section: Section,
    student_id: int,
    competency_id: int,
    value: CellValue,
    observed_on: date | None,
    assessment: Assessment | None = None,
    feedback: str | None = None,
    is_reassessment: bool = False,
    expected_version: int | None = None,
    evidence_id: int | None = None,
    cell: CellContext | None = None,
    carried_from_section_id: int | None = None,
) -> Evidence:
    """Create or update one piece of evidence, with its revision, and refresh the student's proficiency.

    With an assessment there is one live piece per (student, assessment, standard): saving again updates
    it. Without one (a conversation, an observation) each call adds a piece unless evidence_id names one.
    With `cell` (from `load_cell`, which checked the scope and took the lock) nothing is read again: the
    write, its revision and the refresh of the standard and its parent take three statements.
    `carried_from_section_id`: new evidence accepted from an earlier section (services/record.py).
    """
    check_open(section)
    if cell is None:
        _check_scope(session, actor, section, student_id, competency_id, assessment)
        _lock_student(session, section, student_id)
    observed_on = check_observed_on(observed_on)
    if feedback is not None and len(feedback) > MAX_FEEDBACK:
        raise ServiceError(f"Feedback is limited to {MAX_FEEDBACK} characters.", "feedback")
    if value.status not in EVIDENCE_STATUSES:
        raise ServiceError("Unknown evidence status.", "value")
    if value.status == "scored":
        value = CellValue("scored", check_score(session, section, value.score if value.score is not None else -1))

    if evidence_id is not None:
        evidence = session.get(Evidence, evidence_id)
        if evidence is None or evidence.section_id != section.id or evidence.student_id != student_id \
                or evidence.competency_id != competency_id or evidence.deleted_at is not None:
            raise ServiceError("That evidence is not here any more.")
    elif cell is not None:
        evidence = cell.live_cell
    elif assessment is not None:
        evidence = live_cell(session, student_id, assessment.id, competency_id)
    else:
        evidence = None
    _check_version(evidence, expected_version)

    now = utcnow()
    created = None
    if evidence is None:
        created = Evidence(student_id=student_id, section_id=section.id, competency_id=competency_id,
                           assessment_id=assessment.id if assessment else None, status=value.status,
                           score=value.score, observed_on=observed_on, feedback=(feedback or "").strip(),
                           is_reassessment=is_reassessment, recorded_by_id=actor.id, recorded_at=now,
                           updated_at=now, carried_from_section_id=carried_from_section_id)
        evidence = _insert_cell(session, created, expected_version)
    if evidence is created:
        _revise(session, evidence, actor, "create", None)
    else:
        old = evidence.snapshot()
        evidence.status, evidence.score, evidence.observed_on = value.status, value.score, observed_on
        if feedback is not None:
            evidence.feedback = feedback.strip()
        evidence.is_reassessment = evidence.is_reassessment or is_reassessment
        if evidence.snapshot() == old:
            return evidence  # nothing changed: no revision, no version bump
        evidence.updated_at = now
        _flush_versioned(session, evidence)
        _revise(session, evidence, actor, "update", old)
    if cell is not None:
        if evidence not in cell.evidence:
            cell.evidence.append(evidence)
        refresh_cell(session, section, cell)
    else:
        refresh_student(session, section, student_id, competency_id)
    return evidence


def refresh_cell(session: Session, section: Section, cell: CellContext) -> None:
    """Refresh the cache of the cell's standard and its parent from what `load_cell` read (and the write
    changed), as `refresh_student` would, writing only the rows that changed: one statement."""
    from types import SimpleNamespace

    from gradebook.services.proficiency import (
        SectionContext,
        compute_parent,
        compute_standard,
        policy_for,
        write_cached_rows,
    )
    from gradebook.services.proficiency import _observation as observation

    standard = cell.standard
    parent_id = standard.parent_id
    sibling_ids = [sid for sid, _code, _text in cell.siblings]
    ctx = SectionContext(
        section=section, scale=scale_for(session, section), policy=policy_for(session, section),
        standard_ids=sibling_ids or [standard.id], parent_of={sid: parent_id for sid in sibling_ids or [standard.id]},
        children_of={parent_id: sibling_ids} if parent_id is not None else {},
        competencies={sid: SimpleNamespace(code=code, short_name=None, statement=text)  # type: ignore[misc]
                      for sid, code, text in cell.siblings})
    info = dict(cell.assessment_info)
    info.setdefault(cell.assessment.id, (cell.assessment.kind, cell.assessment.counts, cell.assessment.title))
    observations = [
        observation(ctx.policy, e.id, e.score, e.observed_on, e.recorded_at, e.is_reassessment,
                    *(info[e.assessment_id] if e.assessment_id is not None else (None, True, None)))
        for e in sorted(cell.evidence, key=lambda e: e.id) if e.status == "scored" and e.deleted_at is None]
    computed = {standard.id: compute_standard(ctx, observations)}
    if parent_id is not None:
        scores = {sid: cell.records[sid][1] if sid in cell.records else None for sid in sibling_ids}
        scores[standard.id] = computed[standard.id].score
        child_scores = {sid: cell.overrides.get(sid, scores.get(sid)) for sid in sibling_ids}
        computed[parent_id] = compute_parent(ctx, parent_id, child_scores)
    cell.computed = computed
    write_cached_rows(session, section.id, cell.student.id, computed, cell.records)


def move_assessment_date(session: Session, actor: User, assessment: Assessment, new_date: date) -> int:
    """An assessment's date changed: the evidence recorded on its old date moves with it, each piece with its
    own revision (evidence a teacher had dated differently stays where it is). The caller recomputes the
    section's proficiency. Returns how many pieces moved."""
    section = session.get(Section, assessment.section_id)
    if section is not None:
        check_open(section)
    new_date = check_observed_on(new_date)
    old_date = assessment.assessed_on
    if new_date == old_date:
        return 0
    moved = 0
    for evidence in session.scalars(select(Evidence).where(
            Evidence.assessment_id == assessment.id, Evidence.deleted_at.is_(None),
            Evidence.observed_on == old_date).order_by(Evidence.id)):
        old = evidence.snapshot()
        evidence.observed_on = new_date
        evidence.updated_at = utcnow()
        _flush_versioned(session, evidence)
        _revise(session, evidence, actor, "update", old)
        moved += 1
    assessment.assessed_on = new_date
    return moved


def set_feedback(session: Session, actor: User, evidence: Evidence, feedback: str,
                 expected_version: int | None = None) -> Evidence:
    section = session.get(Section, evidence.section_id)
    assert section is not None
    if not authz.teaches_section(actor, section.id):
        raise ServiceError("Only a teacher of this section can give feedback here.")
    check_open(section)
    if len(feedback) > MAX_FEEDBACK:
        raise ServiceError(f"Feedback is limited to {MAX_FEEDBACK} characters.", "feedback")
    _check_version(evidence, expected_version)
    old = evidence.snapshot()
    evidence.feedback = feedback.strip()
    if evidence.snapshot() != old:
        evidence.updated_at = utcnow()
        _flush_versioned(session, evidence)
        _revise(session, evidence, actor, "update", old)
    return evidence


def remove_evidence(session: Session, actor: User, evidence: Evidence, expected_version: int | None = None) -> None:
    """Soft delete: hidden from proficiency, kept with a revision, and can be restored."""
    section = session.get(Section, evidence.section_id)
    assert section is not None
    if not authz.teaches_section(actor, section.id):
        raise ServiceError("Only a teacher of this section can remove evidence here.")
    check_open(section)
    _lock_student(session, section, evidence.student_id)
    if evidence.deleted_at is not None:
        raise ServiceError("That evidence was already removed.")
    _check_version(evidence, expected_version)
    old = evidence.snapshot()
    evidence.deleted_at = utcnow()
    evidence.deleted_by_id = actor.id
    _flush_versioned(session, evidence)
    _revise(session, evidence, actor, "delete", old)
    refresh_student(session, section, evidence.student_id, evidence.competency_id)


def restore_evidence(session: Session, actor: User, evidence: Evidence) -> None:
    section = session.get(Section, evidence.section_id)
    assert section is not None
    if not authz.teaches_section(actor, section.id):
        raise ServiceError("Only a teacher of this section can restore evidence here.")
    check_open(section)
    _lock_student(session, section, evidence.student_id)
    if evidence.deleted_at is None:
        raise ServiceError("That evidence is not removed.")
    if evidence.assessment_id is not None and live_cell(session, evidence.student_id, evidence.assessment_id,
                                                        evidence.competency_id) is not None:
        raise ServiceError("This cell has newer evidence now; remove that first to restore this one.")
    old = evidence.snapshot()
    evidence.deleted_at = None
    evidence.deleted_by_id = None
    _flush_versioned(session, evidence)
    _revise(session, evidence, actor, "restore", old)
    refresh_student(session, section, evidence.student_id, evidence.competency_id)


def set_override(session: Session, actor: User, *, section: Section, student_id: int, competency_id: int,
                 level_points: float | None, reason: str) -> Override | None:
    """A teacher's judgement replaces the computed level (with a reason); None clears it. Never deleted."""
    check_open(section)
    _check_scope(session, actor, section, student_id, competency_id, None)
    _lock_student(session, section, student_id)
    current = session.scalar(select(Override).where(
        Override.section_id == section.id, Override.student_id == student_id,
        Override.competency_id == competency_id, Override.cleared_at.is_(None)))
    if current is not None:
        current.cleared_at = utcnow()
        current.cleared_by_id = actor.id
        session.flush()
        if level_points is None:
            record_change(session, actor, "override.clear", student_id=student_id, target_type="override",
                          target_id=current.id, detail={"section_id": section.id, "competency_id": competency_id,
                                                        "level_points": current.level_points})
    override = None
    if level_points is not None:
        scale = scale_for(session, section)
        if level_points not in [lv.points for lv in scale.levels]:
            raise ServiceError("Choose one of the scale's levels.", "level")
        reason = (reason or "").strip()
        if not reason:
            raise ServiceError("Give the reason for your judgement: families will see it.", "reason")
        if len(reason) > 1000:
            raise ServiceError("Keep the reason under 1000 characters.", "reason")
        override = Override(section_id=section.id, student_id=student_id, competency_id=competency_id,
                            level_points=level_points, reason=reason, created_by_id=actor.id)
        session.add(override)
        session.flush()
        record_change(session, actor, "override.set", student_id=student_id, target_type="override",
                      target_id=override.id, detail={"section_id": section.id, "competency_id": competency_id,
                                                     "level_points": level_points, "reason": reason,
                                                     "replaces": current.id if current is not None else None})
    refresh_student(session, section, student_id, competency_id)
    return override
