"""Computed proficiency: the scale and policy a section uses, the cache, and recompute.

The cache (ProficiencyRecord) is derived data. It is refreshed in the same transaction as the evidence
write that changes it, and `recompute` rebuilds it from evidence alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, event, exists, func, insert, inspect, literal, select, update
from sqlalchemy.orm import Session

from gradebook import proficiency as prof
from gradebook.models import (
    Assessment,
    Competency,
    Enrollment,
    Evidence,
    Override,
    ProficiencyRecord,
    ProficiencyScale,
    ScaleLevel,
    School,
    Section,
    SectionStandard,
    utcnow,
)

DEFAULT_POLICY: dict[str, Any] = {
    "method": "decaying_average", "weight": 0.65, "n": 2, "min_evidence": 1, "rollup": "average", "kind_weights": {},
}


# ---------------------------------------------------------------- scale and policy

def level_symbol(points: float, mastery: float, lowest: float) -> str:
    """A non-colour cue: ★ above mastery, ✓ mastery, ◐ on the way, ○ the first level."""
    if points > mastery:
        return "★"
    if points == mastery:
        return "✓"
    return "○" if points == lowest else "◐"


def scale_from_levels(levels: Iterable[ScaleLevel]) -> prof.Scale:
    rows = list(levels)
    mastery = next((lv.points for lv in rows if lv.is_mastery), max((lv.points for lv in rows), default=0))
    lowest = min((lv.points for lv in rows), default=0)
    return prof.Scale([
        prof.Level(points=lv.points, label=lv.label, colour=lv.colour, is_mastery=lv.is_mastery,
                   description=lv.description or "", symbol=level_symbol(lv.points, mastery, lowest))
        for lv in rows
    ])


# ---------------------------------------------------------------- per-transaction memo of school settings
#
# The scale and the school policy are read by every evidence write and every page, several times over.
# They are remembered for the rest of the transaction, and forgotten at its end or as soon as a flush
# touches a school, a scale, its levels or a section (so a preview of a change computes with the change).

_MEMO = "gradebook_settings_memo"
def _settings_types() -> tuple[type, ...]:
    from gradebook.models import District

    return (District, School, ProficiencyScale, ScaleLevel, Section)


def _memo(session: Session, key: tuple[Any, ...], load: Any) -> Any:
    memo = session.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = load()
    return memo[key]


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_MEMO, None)


def _forget_if_settings_change(session: Session, *_args: Any) -> None:
    if any(isinstance(obj, _settings_types()) for obj in (*session.new, *session.dirty, *session.deleted)):
        _forget(session)


for _event in ("after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _event, _forget)
event.listen(Session, "before_flush", _forget_if_settings_change)


def _settings_columns(school_id: Any) -> tuple[Any, ...]:
    """The district's and a school's defaults as scalar subqueries, to read in any statement: the school's
    own scale, else the district's; the district's policy, then the school's field by field. ``school_id``
    None (a section of no school, a page of no section): the first school, as with one school."""
    from gradebook.models import District

    school = select(School.id).order_by(School.id).limit(1).scalar_subquery() if school_id is None else school_id
    return (
        exists().where(School.id.is_not(None)).label("has_school"),
        select(School.default_scale_id).where(School.id == school).scalar_subquery().label("school_scale"),
        select(School.default_policy).where(School.id == school).scalar_subquery().label("school_policy"),
        select(District.default_scale_id).order_by(District.id).limit(1).scalar_subquery().label("district_scale"),
        select(District.default_policy).order_by(District.id).limit(1).scalar_subquery().label("district_policy"),
    )


def _merge_settings(has_school: Any, school_scale: Any, school_policy_: Any, district_scale: Any,
                    district_policy: Any) -> tuple[int | None, dict[str, Any]]:
    if not has_school:
        return district_scale, dict(district_policy or {})
    return (school_scale if school_scale is not None else district_scale,
            {**(district_policy or {}), **(school_policy_ or {})})


def _school_settings(session: Session, school_id: int | None = None) -> tuple[int | None, dict[str, Any]]:
    def load() -> tuple[int | None, dict[str, Any]]:
        return _merge_settings(*session.execute(select(*_settings_columns(school_id))).one())

    default_scale_id, policy = _memo(session, ("school", school_id), load)
    return default_scale_id, dict(policy)


def _scale_key(section: Section | None) -> tuple[int | None, int | None]:
    """What decides a section's scale: its own, else its school's (else the district's)."""
    if section is None:
        return (None, None)
    return (section.scale_id, None if section.scale_id is not None else section.school_id)


def scale_row_for(session: Session, section: Section | None, *, school_id: int | None = None) -> ProficiencyScale:
    """The section's own scale, else its school's default scale, else the district's. Without a section:
    the scale of ``school_id`` (the first school when None)."""
    key = _scale_key(section) if section is not None else (None, school_id)
    return _memo(session, ("scale_row", *key), lambda: _load_scale_row(session, key))


def _load_scale_row(session: Session, key: tuple[int | None, int | None]) -> ProficiencyScale:
    scale_id, school_id = key
    if scale_id is None:
        scale_id = _school_settings(session, school_id)[0]
    if scale_id is not None:
        row = session.get(ProficiencyScale, scale_id)  # from the identity map when already loaded
    else:
        row = session.scalar(select(ProficiencyScale).order_by(ProficiencyScale.id).limit(1))
    if row is None:
        row = default_scale_row(session)
    return row


def default_scale_row(session: Session) -> ProficiencyScale:
    """The default scale's row (gradebook.proficiency.DEFAULT_LEVELS), created on first use."""
    scale = session.scalar(select(ProficiencyScale).where(ProficiencyScale.name == prof.DEFAULT_SCALE_NAME))
    if scale is None:
        scale = ProficiencyScale(name=prof.DEFAULT_SCALE_NAME, allow_decimals=True)
        for points, label, colour, mastery, description, _symbol in prof.DEFAULT_LEVELS:
            scale.levels.append(ScaleLevel(points=points, label=label, colour=colour, is_mastery=mastery,
                                           description=description))
        session.add(scale)
        session.flush()
    return scale


def scale_for(session: Session, section: Section | None) -> prof.Scale:
    def load() -> prof.Scale:
        row = scale_row_for(session, section)
        return scale_from_levels(session.scalars(select(ScaleLevel).where(ScaleLevel.scale_id == row.id)).all())

    return _memo(session, ("scale", *_scale_key(section)), load)


_SECTION_QUERIES: dict[str, Any] = {}


def _section_kind(user: Any) -> str:
    role = getattr(user, "role", None)
    if role == "admin":
        return "district_admin" if getattr(user, "district_admin", False) else "school_admin"
    return "teacher" if role == "teacher" else "other"


def _section_with_settings_query(kind: str, lock: bool = False) -> Any:
    """load_section_with_settings's statement for a kind of user, built once (ids are bound parameters).
    `lock` (PostgreSQL): also the section FOR SHARE and the enrolment of `student_id` FOR UPDATE."""
    query = _SECTION_QUERIES.get((kind, lock))
    if query is not None:
        return query
    from gradebook.models import SectionTeacher

    if kind == "district_admin":
        teaches: Any = literal(True)
    elif kind == "school_admin":  # a school admin: the sections of their schools
        from gradebook.models import SchoolMember

        teaches = Section.school_id.in_(select(SchoolMember.school_id).where(
            SchoolMember.user_id == bindparam("user_id")))
    elif kind == "teacher":
        teaches = exists().where(SectionTeacher.section_id == Section.id,
                                 SectionTeacher.teacher_id == bindparam("user_id"))
    else:
        teaches = literal(False)
    settings = _settings_columns(func.coalesce(Section.school_id,
                                               select(School.id).order_by(School.id).limit(1).scalar_subquery()))
    default_scale = func.coalesce(settings[1], settings[3])
    query = (
        select(Section, teaches.label("teaches"), ProficiencyScale, ScaleLevel, *settings).select_from(Section)
        .outerjoin(ProficiencyScale, ProficiencyScale.id == func.coalesce(Section.scale_id, default_scale))
        .outerjoin(ScaleLevel, ScaleLevel.scale_id == ProficiencyScale.id)
        .where(Section.id == bindparam("section_id")).order_by(ScaleLevel.id))
    if lock:
        from gradebook.models import Enrollment

        query = (query.join(Enrollment, (Enrollment.section_id == Section.id)
                            & (Enrollment.student_id == bindparam("student_id")))
                 .suffix_with("FOR SHARE OF sections FOR UPDATE OF enrollments")
                 .execution_options(populate_existing=True))
    _SECTION_QUERIES[(kind, lock)] = query
    return query


def load_section_with_settings(session: Session, section_id: int, user: Any,
                               lock_student_id: int | None = None) -> tuple[Section | None, bool]:
    """A section, whether `user` teaches it (a district admin teaches every section, a school admin those of
    their schools), and the school's settings and the section's scale with its levels, in one statement: a
    page or a save of the section then reads no setting again in this transaction (they are remembered as
    `scale_for` and `school_policy` remember). The statement is built once per kind of user.
    `lock_student_id` (PostgreSQL only): the same statement takes a save's lock (services/evidence.py,
    `_lock_student`); no row, (None, False), when that student has no enrolment in the section."""
    kind = _section_kind(user)
    params: dict[str, Any] = {"section_id": section_id}
    if kind in ("school_admin", "teacher"):
        params["user_id"] = user.id
    if lock_student_id is not None:
        params["student_id"] = lock_student_id
    rows = session.execute(_section_with_settings_query(kind, lock_student_id is not None), params).all()
    if not rows:
        return None, False
    section, teaches_it, scale_row = rows[0][:3]
    memo = session.info.setdefault(_MEMO, {})
    memo.setdefault(("school", section.school_id), _merge_settings(*rows[0][4:]))
    if scale_row is not None:
        key = _scale_key(section)
        memo.setdefault(("scale_row", *key), scale_row)
        memo.setdefault(("scale", *key), scale_from_levels([r[3] for r in rows if r[3] is not None]))
    return section, bool(teaches_it)


def school_policy(session: Session, school_id: int | None = None) -> dict[str, Any]:
    """The policy a school's sections follow by default: the district's, overridden field by field by the
    school's own (``school_id`` None: the first school)."""
    return {**DEFAULT_POLICY, **_school_settings(session, school_id)[1]}


def policy_for(session: Session, section: Section) -> prof.Policy:
    """The section's school's default policy, overridden field by field by the section's own."""
    merged = {**school_policy(session, section.school_id), **(section.policy or {})}
    return prof.Policy.from_dict(merged)


# ---------------------------------------------------------------- evidence → observations

def _observation(policy: prof.Policy, evidence_id: int, score: float | None, observed_on: date,
                 recorded_at: Any, is_reassessment: bool, assessment_kind: str | None, counts: bool,
                 assessment_title: str | None) -> prof.Observation:
    """Evidence without an assessment counts as an observation; practice set not to count weighs 0."""
    kind = assessment_kind or "observation"
    weight = 0.0 if assessment_kind is not None and not counts else policy.weight_for(kind)
    return prof.Observation(
        score=float(score or 0), observed_on=observed_on, recorded_at=recorded_at, weight=weight,
        label=assessment_title if assessment_kind is not None else ("Reassessment" if is_reassessment
                                                                      else "Observation"),
        kind=kind, ref=evidence_id,
    )


def observation_of(policy: prof.Policy, evidence: Evidence, assessment: Assessment | None) -> prof.Observation:
    """A loaded piece of scored evidence as the engine takes it (the same weights as every other page)."""
    return _observation(policy, evidence.id, evidence.score, evidence.observed_on, evidence.recorded_at,
                        evidence.is_reassessment, assessment.kind if assessment else None,
                        assessment.counts if assessment else True, assessment.title if assessment else None)


def _by_ref(observation: prof.Observation) -> int:
    return observation.ref  # type: ignore[no-any-return]  # the evidence id


# Columns, not entities: recomputing a district reads millions of rows, and ORM objects cost ~5× more.
_EVIDENCE_COLUMNS = (Evidence.student_id, Evidence.competency_id, Evidence.id, Evidence.score, Evidence.observed_on,
                     Evidence.recorded_at, Evidence.is_reassessment, Assessment.kind, Assessment.counts,
                     Assessment.title)


def cell_observations(session: Session, section_id: int, student_id: int, competency_id: int,
                      policy: prof.Policy) -> list[prof.Observation]:
    """One student's scored evidence on one standard, in the order compute_section takes it (by id, so pieces
    observed and recorded at the same moment keep the order they were entered in)."""
    rows = session.execute(
        select(*_EVIDENCE_COLUMNS[2:])
        .outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .where(Evidence.section_id == section_id, Evidence.student_id == student_id,
               Evidence.competency_id == competency_id, Evidence.deleted_at.is_(None), Evidence.status == "scored")
        .order_by(Evidence.id))
    return [_observation(policy, *row) for row in rows]


@dataclass
class SectionContext:
    """Everything about a section that recomputing needs, loaded once."""

    section: Section
    scale: prof.Scale
    policy: prof.Policy
    standard_ids: list[int]
    parent_of: dict[int, int | None]
    children_of: dict[int, list[int]]
    competencies: dict[int, Competency]


def section_context(session: Session, section: Section, policy: prof.Policy | None = None) -> SectionContext:
    """`policy` computes with a proposed policy instead of the section's (a preview), changing nothing."""
    rows = session.execute(
        select(SectionStandard.competency_id, Competency)
        .join(Competency, Competency.id == SectionStandard.competency_id)
        .where(SectionStandard.section_id == section.id)
        .order_by(SectionStandard.position)
    ).all()
    standard_ids = [cid for cid, _ in rows]
    competencies = {c.id: c for _, c in rows}
    parent_ids = {c.parent_id for c in competencies.values() if c.parent_id is not None}
    if parent_ids:
        for parent in session.scalars(select(Competency).where(Competency.id.in_(parent_ids))):
            competencies[parent.id] = parent
    children_of: dict[int, list[int]] = defaultdict(list)
    for cid in standard_ids:
        parent_id = competencies[cid].parent_id
        if parent_id is not None:
            children_of[parent_id].append(cid)
    return SectionContext(
        section=section,
        scale=scale_for(session, section),
        policy=policy if policy is not None else policy_for(session, section),
        standard_ids=standard_ids,
        parent_of={cid: competencies[cid].parent_id for cid in standard_ids},
        children_of=dict(children_of),
        competencies=competencies,
    )


# The cached result of one student on one standard, in the cache's column order (score, level_points,
# evidence_count, needed, method, trend, last_observed_on): a tuple, compared with a stored row as it is.
Computed = prof.Summary


def compute_standard(ctx: SectionContext, observations: Sequence[prof.Observation]) -> Computed:
    return prof.summarise(list(observations), ctx.policy, ctx.scale)


def compute_parent(ctx: SectionContext, parent_id: int, child_scores: dict[int, float | None]) -> Computed:
    children = ctx.children_of.get(parent_id, [])
    return prof.summarise_rollup([child_scores.get(cid) for cid in children], ctx.policy.rollup, ctx.scale,
                                 [ctx.competencies[cid].code for cid in children])


# ---------------------------------------------------------------- computing sections, in bulk
#
# A district's recompute reads millions of pieces of evidence. They are read as plain tuples by the driver's
# own cursor (no ORM object, no SQLAlchemy row per piece), grouped by cell in a dict, and computed by
# prof.Summariser, which gives what compute_standard gives on Observations without building one per piece
# (tests/unit/test_proficiency_summary.py proves it). Everything else a section needs is read for a batch of
# sections at once, a few statements a batch whatever its size.

BATCH_SECTIONS = 64  # sections computed and written together: a few statements each, memory bounded


def _raw_cursor(session: Session) -> tuple[Any, bool]:
    """The DBAPI cursor of the session's connection (its transaction), and whether it is SQLite's."""
    connection = session.connection()
    return connection.connection.driver_connection.cursor(), connection.dialect.name == "sqlite"


def _in(ids: Sequence[int], sqlite: bool) -> tuple[str, list[Any]]:
    """`IN (…)` for the driver's own cursor: a list of placeholders on SQLite, one array on PostgreSQL."""
    if sqlite:
        return (f"IN ({','.join('?' * len(ids))})" if ids else "IN (NULL)"), list(ids)
    return "= ANY(%s)", [list(ids)]


def _as_date(value: Any) -> date | None:
    """A date as the driver returns it: a date from psycopg, ISO text from SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


_CELL_ORDER = itemgetter(5)  # evidence rows by id, as cell_observations reads them
_EVIDENCE_SQL = ("SELECT section_id, student_id, competency_id, observed_on, recorded_at, id, score, assessment_id "
                 "FROM evidence WHERE deleted_at IS NULL AND status = 'scored' AND section_id {sections}")


def _section_contexts(session: Session, sections: Sequence[Section],
                      policy: prof.Policy | None = None) -> dict[int, SectionContext]:
    """section_context for several sections in two statements (their standards, then the parents)."""
    ids = [s.id for s in sections]
    rows = session.execute(
        select(SectionStandard.section_id, SectionStandard.competency_id, Competency)
        .join(Competency, Competency.id == SectionStandard.competency_id)
        .where(SectionStandard.section_id.in_(ids))
        .order_by(SectionStandard.section_id, SectionStandard.position)
    ).all()
    competencies: dict[int, Competency] = {c.id: c for _, _, c in rows}
    parent_ids = {c.parent_id for c in competencies.values() if c.parent_id is not None} - competencies.keys()
    if parent_ids:
        for parent in session.scalars(select(Competency).where(Competency.id.in_(parent_ids))):
            competencies[parent.id] = parent
    standards: dict[int, list[int]] = defaultdict(list)
    for section_id, cid, _ in rows:
        standards[section_id].append(cid)
    out = {}
    for section in sections:
        standard_ids = standards.get(section.id, [])
        children_of: dict[int, list[int]] = defaultdict(list)
        for cid in standard_ids:
            parent_id = competencies[cid].parent_id
            if parent_id is not None:
                children_of[parent_id].append(cid)
        needed = set(standard_ids) | children_of.keys()
        out[section.id] = SectionContext(
            section=section,
            scale=scale_for(session, section),
            policy=policy if policy is not None else policy_for(session, section),
            standard_ids=standard_ids,
            parent_of={cid: competencies[cid].parent_id for cid in standard_ids},
            children_of=dict(children_of),
            competencies={cid: competencies[cid] for cid in needed},
        )
    return out


def _sources(session: Session, section_ids: Sequence[int]) -> dict[int, dict[Any, tuple[float, str]]]:
    """What each assessment of these sections makes of its evidence, as _observation says it (the weight
    before the policy, the kind): set not to count, it weighs 0. Evidence without one (key None) is an
    observation. Section id → assessment id → (weight, kind)."""
    found: dict[int, dict[Any, tuple[float, str]]] = {sid: {None: (1.0, "observation")} for sid in section_ids}
    for aid, section_id, kind, counts in session.execute(
            select(Assessment.id, Assessment.section_id, Assessment.kind, Assessment.counts)
            .where(Assessment.section_id.in_(section_ids))):
        found[section_id][aid] = _source(kind, counts)
    return found


def _source(kind: str | None, counts: bool) -> tuple[float, str]:
    return (0.0 if kind is not None and not counts else 1.0, kind or "observation")


def _compute_sections(session: Session, sections: Sequence[Section], student_ids: Iterable[int] | None = None,
                      policy: prof.Policy | None = None) -> dict[int, dict[tuple[int, int], Computed]]:
    """compute_section for several sections: section id → {(student_id, competency_id): Computed}."""
    contexts = _section_contexts(session, sections, policy)
    ids = [s.id for s in sections]
    wanted = None if student_ids is None else list(dict.fromkeys(student_ids))
    students: dict[int, list[int]] = defaultdict(list)
    if wanted is None:
        for section_id, student_id in session.execute(
                select(Enrollment.section_id, Enrollment.student_id).where(Enrollment.section_id.in_(ids))
                .order_by(Enrollment.id)):
            students[section_id].append(student_id)
    override_query = select(Override.section_id, Override.student_id, Override.competency_id, Override.level_points) \
        .where(Override.section_id.in_(ids), Override.cleared_at.is_(None)).order_by(Override.id)
    if wanted is not None:
        override_query = override_query.where(Override.student_id.in_(wanted))
    overrides: dict[int, dict[tuple[int, int], float]] = defaultdict(dict)
    for section_id, student_id, competency_id, points in session.execute(override_query):
        overrides[section_id][(student_id, competency_id)] = points
    sources = _sources(session, ids)

    cursor, sqlite = _raw_cursor(session)
    in_sections, params = _in(ids, sqlite)
    sql = _EVIDENCE_SQL.format(sections=in_sections)
    if wanted is not None:
        in_students, more = _in(wanted, sqlite)
        sql += f" AND student_id {in_students}"
        params += more
    cursor.execute(sql, params)
    cells: defaultdict[tuple[int, int, int], list[tuple]] = defaultdict(list)
    for row in cursor.fetchall():
        cells[row[:3]].append(row)
    cursor.close()

    out: dict[int, dict[tuple[int, int], Computed]] = {}
    date_of = _as_date if sqlite else None
    for section in sections:
        section_id = section.id
        ctx = contexts[section_id]
        summariser = prof.Summariser(ctx.policy, ctx.scale, sources[section_id], date_of=date_of)
        summarise, rollup, empty = summariser.summarise, summariser.rollup, summariser.empty
        section_overrides = overrides.get(section_id)
        computed: dict[tuple[int, int], Computed] = {}
        standard_ids, children_of = ctx.standard_ids, list(ctx.children_of.items())
        for student_id in (wanted if wanted is not None else students[section_id]):
            scores: dict[int, float | None] = {}
            for cid in standard_ids:
                rows = cells.get((section_id, student_id, cid))
                if rows is None:
                    result = empty
                else:
                    if len(rows) > 1:
                        rows.sort(key=_CELL_ORDER)
                    try:
                        result = summarise(rows)
                    except KeyError:  # evidence of another section's assessment (not made by the app): read it
                        summariser = _with_sources(session, summariser, sources[section_id], rows)
                        summarise, rollup = summariser.summarise, summariser.rollup
                        result = summarise(rows)
                computed[(student_id, cid)] = result
                scores[cid] = result.score
            if section_overrides:  # a teacher's override wins, in the roll-up too
                for cid in standard_ids:
                    scores[cid] = section_overrides.get((student_id, cid), scores[cid])
            for parent_id, children in children_of:
                computed[(student_id, parent_id)] = rollup([scores[cid] for cid in children])
        out[section_id] = computed
    return out


def _with_sources(session: Session, summariser: prof.Summariser, sources: dict[Any, tuple[float, str]],
                  rows: list[tuple]) -> prof.Summariser:
    missing = [row[-1] for row in rows if row[-1] not in sources]
    for aid, kind, counts in session.execute(
            select(Assessment.id, Assessment.kind, Assessment.counts).where(Assessment.id.in_(missing))):
        sources[aid] = _source(kind, counts)
    return prof.Summariser(summariser.policy, summariser.scale, sources, date_of=summariser.date_of)


def compute_section(session: Session, section: Section, student_ids: Iterable[int] | None = None,
                    policy: prof.Policy | None = None) -> dict[tuple[int, int], Computed]:
    """(student_id, competency_id) → computed result for every enrolled student, standard and parent.
    With `policy`, what that policy would give (a preview): nothing is written, the section is not touched."""
    return _compute_sections(session, [section], student_ids, policy)[section.id]


def _apply(record: ProficiencyRecord, computed: Computed) -> None:
    record.score = computed.score
    record.level_points = computed.level_points
    record.evidence_count = computed.evidence_count
    record.needed = computed.needed
    record.method = computed.method
    record.trend = computed.trend
    record.last_observed_on = computed.last_observed_on
    if session_changed(record):
        record.computed_at = utcnow()


def session_changed(record: ProficiencyRecord) -> bool:
    """Whether applying a result changed any column (so computed_at says when the value last changed)."""
    return any(attr.history.has_changes() for attr in inspect(record).attrs)


def _same(record: ProficiencyRecord, computed: Computed) -> bool:
    return (record.score, record.level_points, record.evidence_count, record.needed, record.method, record.trend,
            record.last_observed_on) == (computed.score, computed.level_points, computed.evidence_count,
                                         computed.needed, computed.method, computed.trend, computed.last_observed_on)


@dataclass
class RecomputeReport:
    rows: int = 0
    created: int = 0
    changed: list[str] = field(default_factory=list)
    removed: int = 0

    @property
    def differences(self) -> int:
        return self.created + len(self.changed) + self.removed


_STORED_SQL = ("SELECT id, section_id, student_id, competency_id, score, level_points, evidence_count, needed, method, "
               "trend, last_observed_on FROM proficiency_records WHERE section_id {sections}")
_VALUES = ("score", "level_points", "evidence_count", "needed", "method", "trend", "last_observed_on")
_INSERTED = ("student_id", "competency_id", "section_id", *_VALUES, "computed_at")
_SQLITE_UPDATE = ("UPDATE proficiency_records SET score = ?, level_points = ?, evidence_count = ?, needed = ?, "
                  "method = ?, trend = ?, last_observed_on = ?, computed_at = ? WHERE id = ?")
_SQLITE_INSERT = f"INSERT INTO proficiency_records ({', '.join(_INSERTED)}) VALUES ({', '.join('?' * len(_INSERTED))})"
_PG_UPDATE = (
    "UPDATE proficiency_records AS p SET score = v.score, level_points = v.level_points, "
    "evidence_count = v.evidence_count, needed = v.needed, method = v.method, trend = v.trend, "
    "last_observed_on = v.last_observed_on, computed_at = %s FROM unnest(%s::int[], %s::float8[], %s::float8[], "
    "%s::int[], %s::int[], %s::text[], %s::text[], %s::date[]) "
    "AS v(id, score, level_points, evidence_count, needed, method, trend, last_observed_on) WHERE p.id = v.id")


def store(session: Session, section: Section, computed: dict[tuple[int, int], Computed],
          student_ids: Iterable[int] | None = None, report: RecomputeReport | None = None) -> RecomputeReport:
    """Write computed results to the cache, reporting every row that differed.

    The cache is read as plain rows and compared in Python; only the rows that changed are written (one
    UPDATE, computed_at set to now), new rows in one INSERT (COPY on PostgreSQL), rows no longer wanted in
    one DELETE. Cache rows this session had loaded as objects are expired afterwards, so they read what was
    written."""
    return _store_sections(session, {section.id: computed}, student_ids, report)


def _store_sections(session: Session, computed_by_section: dict[int, dict[tuple[int, int], Computed]],
                    student_ids: Iterable[int] | None = None,
                    report: RecomputeReport | None = None) -> RecomputeReport:
    report = report or RecomputeReport()
    ids = list(computed_by_section)
    if not ids:
        return report
    session.flush()  # (the cache is read by the driver's cursor: what the session holds must be written first)
    cursor, sqlite = _raw_cursor(session)
    in_sections, params = _in(ids, sqlite)
    sql = _STORED_SQL.format(sections=in_sections)
    if student_ids is not None:
        in_students, more = _in(list(student_ids), sqlite)
        sql += f" AND student_id {in_students}"
        params += more
    cursor.execute(sql, params)
    existing = {}
    for row in cursor.fetchall():
        if sqlite and isinstance(row[10], str):
            row = (*row[:10], date.fromisoformat(row[10]))
        existing[row[1:4]] = row
    new_rows: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    changed = report.changed
    for section_id, computed in computed_by_section.items():
        report.rows += len(computed)
        for (student_id, competency_id), value in computed.items():
            row = existing.pop((section_id, student_id, competency_id), None)
            if row is None:
                new_rows.append((student_id, competency_id, section_id, *value))
            elif row[4:] != value:
                changed.append(f"section {section_id} student {student_id} competency {competency_id}: "
                               f"{row[4]} ({row[5]}) -> {value.score} ({value.level_points})")
                updates.append((row[0], *value))
    report.created += len(new_rows)
    removed = [row[0] for row in existing.values()]  # a standard no longer assessed, or a student no longer enrolled
    report.removed += len(removed)
    now = utcnow()
    table = ProficiencyRecord.__table__
    for start in range(0, len(removed), 500):
        session.execute(table.delete().where(table.c.id.in_(removed[start:start + 500])))
    if sqlite and (updates or new_rows):  # the driver's executemany, dates as SQLAlchemy stores them
        dialect = session.get_bind().dialect
        as_text = table.c.last_observed_on.type.dialect_impl(dialect).bind_processor(dialect) or (lambda d: d)
        stamp = (table.c.computed_at.type.dialect_impl(dialect).bind_processor(dialect) or (lambda d: d))(now)
    if updates:  # only the rows whose values changed
        if sqlite:
            cursor.executemany(_SQLITE_UPDATE, [(*u[1:7], as_text(u[7]), stamp, u[0]) for u in updates])
        else:  # one statement, the changes as arrays
            cursor.execute(_PG_UPDATE, [now, *(list(column) for column in zip(*updates, strict=True))])
    if new_rows:  # a first recompute creates them all
        if sqlite:
            cursor.executemany(_SQLITE_INSERT, [(*r[:9], as_text(r[9]), stamp) for r in new_rows])
        else:
            with cursor.copy(f"COPY proficiency_records ({', '.join(_INSERTED)}) FROM STDIN") as copy:
                for r in new_rows:
                    copy.write_row((*r, now))
    cursor.close()
    if updates or removed:
        for obj in list(session.identity_map.values()):
            if isinstance(obj, ProficiencyRecord):  # (reading its section would load it: expire them all)
                session.expire(obj)
    return report


def refresh_student(session: Session, section: Section, student_id: int, competency_id: int | None = None) -> None:
    """Refresh one student's cache in a section: called in the transaction of every evidence write.

    With ``competency_id`` (the standard the write touched) only that standard and its parent are computed;
    the parent's other standards come from the cache, which every write keeps current (``recompute`` proves
    it: zero differences). Without it, or for a standard the section does not assess, all of the student's
    rows are rebuilt.
    """
    ctx = section_context(session, section) if competency_id is not None else None
    if ctx is None or competency_id not in ctx.parent_of:
        store(session, section, compute_section(session, section, [student_id]), [student_id])
        return
    observations = cell_observations(session, section.id, student_id, competency_id, ctx.policy)
    computed = {(student_id, competency_id): compute_standard(ctx, observations)}
    parent_id = ctx.parent_of[competency_id]
    if parent_id is not None:
        siblings = ctx.children_of[parent_id]
        overrides = dict(session.execute(
            select(Override.competency_id, Override.level_points).where(
                Override.section_id == section.id, Override.student_id == student_id, Override.cleared_at.is_(None),
                Override.competency_id.in_(siblings))).all())
        cached = dict(session.execute(
            select(ProficiencyRecord.competency_id, ProficiencyRecord.score).where(
                ProficiencyRecord.section_id == section.id, ProficiencyRecord.student_id == student_id,
                ProficiencyRecord.competency_id.in_([c for c in siblings if c != competency_id]))).all())
        cached[competency_id] = computed[(student_id, competency_id)].score
        child_scores = {cid: overrides.get(cid, cached.get(cid)) for cid in siblings}
        computed[(student_id, parent_id)] = compute_parent(ctx, parent_id, child_scores)
    _store_rows(session, section, computed)


def _store_rows(session: Session, section: Section, computed: dict[tuple[int, int], Computed]) -> None:
    """Write a few computed rows (update or insert), leaving every other row of the cache alone."""
    keys = list(computed)
    existing = {
        (r.student_id, r.competency_id): r
        for r in session.scalars(select(ProficiencyRecord).where(
            ProficiencyRecord.section_id == section.id,
            ProficiencyRecord.student_id.in_({k[0] for k in keys}),
            ProficiencyRecord.competency_id.in_({k[1] for k in keys})))
    }
    for key, value in computed.items():
        record = existing.get(key)
        if record is None:
            record = ProficiencyRecord(student_id=key[0], competency_id=key[1], section_id=section.id)
            session.add(record)
        _apply(record, value)


def write_cached_rows(session: Session, section_id: int, student_id: int, computed: dict[int, Computed],
                      cached: dict[int, tuple]) -> None:
    """Write one student's computed rows, given their cached values as read (competency id -> (id, score,
    level_points, evidence_count, needed, method, trend, last_observed_on)): only the rows that differ, in
    one UPDATE (executemany), plus one INSERT for rows not cached yet."""
    now = utcnow()
    updates, inserts = [], []
    for competency_id, value in computed.items():
        values = {"score": value.score, "level_points": value.level_points, "evidence_count": value.evidence_count,
                  "needed": value.needed, "method": value.method, "trend": value.trend,
                  "last_observed_on": value.last_observed_on, "computed_at": now}
        row = cached.get(competency_id)
        if row is None:
            inserts.append({"student_id": student_id, "competency_id": competency_id, "section_id": section_id,
                            **values})
        elif tuple(row[1:]) != (value.score, value.level_points, value.evidence_count, value.needed, value.method,
                                value.trend, value.last_observed_on):
            updates.append({"b_id": row[0], **{f"b_{k}": v for k, v in values.items()}})
    table = ProficiencyRecord.__table__
    if updates:
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            {k: bindparam(f"b_{k}") for k in ("score", "level_points", "evidence_count", "needed", "method", "trend",
                                              "last_observed_on", "computed_at")}), updates)
    if inserts:
        session.execute(insert(table), inserts)


def recompute(session: Session, section_ids: Iterable[int] | None = None, *,
              progress: Any = None) -> RecomputeReport:
    """Rebuild the cache from evidence alone, and report every row that differed. Sections are computed and
    written a batch at a time (BATCH_SECTIONS); ``progress(done, total)`` is called after each batch."""
    query = select(Section).order_by(Section.id)
    if section_ids is not None:
        query = query.where(Section.id.in_(list(section_ids)))
    report = RecomputeReport()
    sections = session.scalars(query).all()
    for start in range(0, len(sections), BATCH_SECTIONS):
        batch = sections[start:start + BATCH_SECTIONS]
        _store_sections(session, _compute_sections(session, batch), report=report)
        if progress is not None:
            progress(start + len(batch), len(sections))
    return report
