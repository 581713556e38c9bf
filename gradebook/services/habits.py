"""Habits of work: frameworks of kind `habits`, the habits a section tracks, recording them, and their levels.

Habits are kept apart from achievement by construction: their observations live in their own table
(HabitEvidence), their levels are computed here by the framework's own method on its own scale, and nothing
that computes an achievement level, a roll-up, a pace, a reteach group or a grade reads them. Pages show
them beside achievement, under their own heading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import exists, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gradebook import authz
from gradebook import proficiency as prof
from gradebook.models import (
    Assessment,
    Competency,
    Enrollment,
    Framework,
    HabitEvidence,
    HabitRevision,
    ProficiencyScale,
    ScaleLevel,
    Section,
    SectionHabit,
    SectionTeacher,
    User,
    utcnow,
)
from gradebook.services import ServiceError, StaleWrite

HABIT_STATUS_LETTERS = {"M": "missing", "L": "late", "E": "excused"}
HABIT_STATUS_LETTER = {v: k for k, v in HABIT_STATUS_LETTERS.items()}
MAX_NOTE = 2000
STALE_MESSAGE = "Someone else saved this since you opened it. Compare the two values and choose."


# ---------------------------------------------------------------- read models

@dataclass(frozen=True)
class HabitColumn:
    """A habit a section tracks, with its framework's method and scale."""

    competency: Competency
    method: str
    scale: prof.Scale

    @property
    def id(self) -> int:
        return self.competency.id


@dataclass
class HabitCell:
    """One student's habit in one section: the level by the framework's method, and the marks beside it."""

    level: prof.Level | None = None
    count: int = 0
    missing: int = 0
    late: int = 0
    excused: int = 0

    @property
    def css(self) -> str:
        return habit_class(self.level.points if self.level else None)


@dataclass(frozen=True)
class HabitLevel:
    """What `habit_levels_for` returns: a student's level on one habit in one section (None: not yet seen)."""

    competency_id: int
    code: str
    name: str
    section_id: int
    section_name: str
    level: prof.Level | None
    count: int
    missing: int
    late: int


def habit_class(points: float | None) -> str:
    """CSS class of a habit level's colour (apart from achievement's `lv-*`; served by /scale.css)."""
    if points is None:
        return "hb-none"
    return "hb-" + f"{points:g}".replace(".", "_")


def habit_scale_from(levels: Iterable[Any]) -> prof.Scale:
    """A habit framework's scale from its ScaleLevel rows, or the default habit scale when it has none."""
    from gradebook.services.proficiency import scale_from_levels

    rows = {lv.id: lv for lv in levels if lv is not None}
    if len(rows) < 2:
        return prof.HABIT_SCALE
    scale = scale_from_levels(sorted(rows.values(), key=lambda lv: -lv.points))
    # Habit symbols (filled circles by how often), never achievement's ★ ✓ ◐ ○.
    symbols = [row[5] for row in sorted(prof.HABIT_LEVELS, key=lambda row: row[0])]
    ranked = sorted(scale.levels, key=lambda lv: lv.points)
    return prof.Scale([replace(lv, symbol=symbols[min(len(symbols) - 1, round(i * (len(symbols) - 1) /
                                                                          max(1, len(ranked) - 1)))])
                       for i, lv in enumerate(ranked)])


def habit_columns_from_rows(rows: Iterable[tuple[Competency, str | None, ScaleLevel | None]]) -> list[HabitColumn]:
    """Columns from (habit, method, one scale level) rows, in the order first seen."""
    order: list[Competency] = []
    methods: dict[int, str] = {}
    levels: dict[int, list[ScaleLevel]] = defaultdict(list)
    for competency, method, level in rows:
        if competency.id not in methods:
            order.append(competency)
            methods[competency.id] = method or prof.DEFAULT_HABIT_METHOD
        if level is not None:
            levels[competency.id].append(level)
    return [HabitColumn(c, methods[c.id], habit_scale_from(levels[c.id])) for c in order]


def section_habits(session: Session, section_id: int) -> list[HabitColumn]:
    """The habits a section tracks, in order, each with its method and scale (one statement)."""
    rows = session.execute(
        select(Competency, Framework.habit_method, ScaleLevel)
        .join(SectionHabit, SectionHabit.competency_id == Competency.id)
        .join(Framework, Framework.id == Competency.framework_id)
        .outerjoin(ScaleLevel, ScaleLevel.scale_id == Framework.scale_id)
        .where(SectionHabit.section_id == section_id)
        .order_by(SectionHabit.position, Competency.code, ScaleLevel.points.desc())).all()
    return habit_columns_from_rows(rows)  # type: ignore[arg-type]


def habit_cells(columns: Sequence[HabitColumn],
                rows: Iterable[tuple[int, int, int, str, float | None, date]]) -> dict[tuple[int, int], HabitCell]:
    """(student id, habit id) -> HabitCell from live observation rows (student, habit, id, status, score,
    observed on) of the section."""
    by_id = {c.id: c for c in columns}
    observations: dict[tuple[int, int], list[prof.HabitObservation]] = defaultdict(list)
    cells: dict[tuple[int, int], HabitCell] = {}
    for student_id, habit_id, evidence_id, status, score, observed_on in rows:
        if habit_id not in by_id:
            continue
        key = (student_id, habit_id)
        cell = cells.setdefault(key, HabitCell())
        if status == "scored" and score is not None:
            observations[key].append(prof.HabitObservation(score, observed_on, evidence_id))
            cell.count += 1
        elif status == "missing":
            cell.missing += 1
        elif status == "late":
            cell.late += 1
        elif status == "excused":
            cell.excused += 1
    for key, found in observations.items():
        column = by_id[key[1]]
        cells[key].level = prof.habit_level(column.scale, found, column.method)
    return cells


def section_habit_cells(session: Session, section_id: int, columns: Sequence[HabitColumn],
                        student_ids: list[int] | None = None) -> dict[tuple[int, int], HabitCell]:
    """The section's habit cells (one statement; none when the section tracks no habit)."""
    if not columns:
        return {}
    query = select(HabitEvidence.student_id, HabitEvidence.competency_id, HabitEvidence.id, HabitEvidence.status,
                   HabitEvidence.score, HabitEvidence.observed_on).where(
        HabitEvidence.section_id == section_id, HabitEvidence.deleted_at.is_(None),
        HabitEvidence.competency_id.in_([c.id for c in columns]))
    if student_ids is not None:
        query = query.where(HabitEvidence.student_id.in_(student_ids))
    return habit_cells(columns, session.execute(query).all())  # type: ignore[arg-type]


def habit_levels_for(session: Session, student_id: int, section_ids: Iterable[int] | None = None) -> list[HabitLevel]:
    """A student's level on every habit tracked by the sections they are enrolled in (or only `section_ids`),
    by section then habit order: the habit, the section, the level (None when not yet seen) and the counts of
    scored, missing and late marks. Two statements whatever the number of sections and habits.

    This is the one read of habits for pages and reports beside achievement (term reports, the record):
    a grade or a level must never be computed from it."""
    query = (
        select(Section.id, Section.name, Competency, Framework.habit_method, ScaleLevel)
        .select_from(Enrollment)
        .join(Section, Section.id == Enrollment.section_id)
        .join(SectionHabit, SectionHabit.section_id == Section.id)
        .join(Competency, Competency.id == SectionHabit.competency_id)
        .join(Framework, Framework.id == Competency.framework_id)
        .outerjoin(ScaleLevel, ScaleLevel.scale_id == Framework.scale_id)
        .where(Enrollment.student_id == student_id)
        .order_by(Section.name, Section.id, SectionHabit.position, Competency.code, ScaleLevel.points.desc()))
    if section_ids is not None:
        query = query.where(Section.id.in_(list(section_ids)))
    else:
        query = query.where(Enrollment.active.is_(True))
    rows = session.execute(query).all()
    if not rows:
        return []
    sections: dict[int, str] = {}
    per_section: dict[int, list[tuple[Competency, str | None, ScaleLevel | None]]] = defaultdict(list)
    for section_id, section_name, competency, method, level in rows:
        sections.setdefault(section_id, section_name)
        per_section[section_id].append((competency, method, level))
    evidence_rows = session.execute(
        select(HabitEvidence.section_id, HabitEvidence.student_id, HabitEvidence.competency_id, HabitEvidence.id,
               HabitEvidence.status, HabitEvidence.score, HabitEvidence.observed_on)
        .where(HabitEvidence.student_id == student_id, HabitEvidence.deleted_at.is_(None),
               HabitEvidence.section_id.in_(list(sections)))).all()
    by_section: dict[int, list[tuple]] = defaultdict(list)
    for section_id, *rest in evidence_rows:
        by_section[section_id].append(tuple(rest))
    result: list[HabitLevel] = []
    for section_id, section_name in sections.items():
        columns = habit_columns_from_rows(per_section[section_id])
        cells = habit_cells(columns, by_section[section_id])  # type: ignore[arg-type]
        for column in columns:
            cell = cells.get((student_id, column.id)) or HabitCell()
            c = column.competency
            result.append(HabitLevel(c.id, c.code, c.short_name or c.statement, section_id, section_name,
                                     cell.level, cell.count, cell.missing, cell.late))
    return result


@dataclass
class StudentHabits:
    """A student's habits, one row per habit (all sections where it is tracked), for the pages that show
    them apart from skills."""

    rows: list[HabitLevel] = field(default_factory=list)

    def by_section(self) -> dict[int, list[HabitLevel]]:
        out: dict[int, list[HabitLevel]] = defaultdict(list)
        for row in self.rows:
            out[row.section_id].append(row)
        return dict(out)


# ---------------------------------------------------------------- frameworks and section setup

def habit_scale_row(session: Session) -> ProficiencyScale:
    """The school's habits scale (prof.HABIT_LEVELS), created on first use."""
    scale = session.scalar(select(ProficiencyScale).where(ProficiencyScale.name == prof.HABIT_SCALE_NAME))
    if scale is None:
        scale = ProficiencyScale(name=prof.HABIT_SCALE_NAME, allow_decimals=False)
        for points, label, colour, expected, description, _symbol in prof.HABIT_LEVELS:
            scale.levels.append(ScaleLevel(points=points, label=label, colour=colour, is_mastery=expected,
                                           description=description))
        session.add(scale)
        session.flush()
    return scale


def create_habit_framework(session: Session, title: str, habits: Sequence[tuple[str, ...]], *,
                           method: str = prof.DEFAULT_HABIT_METHOD, identifier: str | None = None) -> Framework:
    """An authored framework of kind `habits` with one competency per (code, name) or (code, name,
    statement), on the habits scale."""
    if method not in prof.HABIT_METHODS:
        raise ServiceError(f"Choose a habit method: {', '.join(prof.HABIT_METHODS)}.", "method")
    framework = Framework(title=title, kind="habits", source="authored", scale_id=habit_scale_row(session).id,
                          habit_method=method, identifier=identifier)
    session.add(framework)
    session.flush()
    for position, (code, name, *statement) in enumerate(habits):
        session.add(Competency(framework_id=framework.id, code=code, short_name=name,
                               statement=statement[0] if statement else name, item_type="Habit", position=position))
    session.flush()
    return framework


def habit_choices(session: Session) -> list[tuple[Framework, list[Competency]]]:
    """Every framework of kind `habits` with its habits (one statement)."""
    rows = session.execute(
        select(Framework, Competency).join(Competency, Competency.framework_id == Framework.id)
        .where(Framework.kind == "habits").order_by(Framework.title, Framework.id, Competency.position,
                                                    Competency.code)).all()
    out: dict[int, tuple[Framework, list[Competency]]] = {}
    for framework, competency in rows:
        out.setdefault(framework.id, (framework, []))[1].append(competency)
    return list(out.values())


def set_section_habits(session: Session, actor: User, section: Section, competency_ids: Sequence[int]) -> None:
    """The habits a section tracks, in the order given. Only competencies of frameworks of kind `habits`;
    observations already recorded on a habit dropped here are kept (shown again if it is chosen again)."""
    if not authz.teaches_section(actor, section.id):
        raise ServiceError("Only a teacher of this section can choose its habits.")
    wanted = list(dict.fromkeys(competency_ids))
    if wanted:
        found = set(session.scalars(select(Competency.id).join(Framework, Framework.id == Competency.framework_id)
                                    .where(Competency.id.in_(wanted), Framework.kind == "habits")))
        if found != set(wanted):
            raise ServiceError("Choose habits of work from a habits framework.", "habits")
    current = {row.competency_id: row for row in session.scalars(
        select(SectionHabit).where(SectionHabit.section_id == section.id))}
    for competency_id, row in current.items():
        if competency_id not in wanted:
            session.delete(row)
    for position, competency_id in enumerate(wanted):
        if competency_id in current:
            current[competency_id].position = position
        else:
            session.add(SectionHabit(section_id=section.id, competency_id=competency_id, position=position))
    session.flush()


# ---------------------------------------------------------------- recording

@dataclass(frozen=True)
class HabitValue:
    status: str
    score: float | None


def parse_habit(text: str, scale: prof.Scale) -> HabitValue | None:
    """What a teacher typed in a habit cell: a level's points or its label (Usually), or M (missing),
    L (late), E (excused). Empty means 'no observation'."""
    raw = (text or "").strip()
    if raw == "":
        return None
    upper = raw.upper()
    if upper in HABIT_STATUS_LETTERS:
        return HabitValue(HABIT_STATUS_LETTERS[upper], None)
    if raw.lower() in HABIT_STATUS_LETTER:
        return HabitValue(raw.lower(), None)
    for level in scale.levels:
        if raw.lower() == level.label.lower():
            return HabitValue("scored", level.points)
    try:
        score = float(raw.replace(",", "."))
    except ValueError:
        score = None
    points = [lv.points for lv in scale.levels]
    if score is None or score not in points:
        shown = ", ".join(f"{lv.points:g} ({lv.label})" for lv in reversed(scale.levels))
        raise ServiceError(f"“{raw[:20]}” is not a habit level. Type {shown}, or M (missing), L (late), "
                           "E (excused).", "value")
    return HabitValue("scored", score)


@dataclass
class HabitScope:
    """What one habit save needs, read in one statement: the student, the habit (tracked by the section) as
    a column, the assessment (when the save is on one), and the student's live observations of the habit
    in the section (the cell's among them), so the level after the save needs no further read."""

    student: User
    column: HabitColumn
    assessment: Assessment | None
    evidence: list[HabitEvidence]

    @property
    def live(self) -> HabitEvidence | None:
        if self.assessment is None:
            return None
        return next((e for e in self.evidence if e.assessment_id == self.assessment.id), None)

    def cell(self) -> HabitCell:
        rows = [(e.student_id, e.competency_id, e.id, e.status, e.score, e.observed_on)
                for e in self.evidence if e.deleted_at is None]
        return habit_cells([self.column], rows).get((self.student.id, self.column.id)) or HabitCell()


def load_habit_scope(session: Session, actor: User, section: Section, student_id: int, competency_id: int,
                     assessment_id: int | None) -> HabitScope | None:
    """None when the actor does not teach the section, the student is not enrolled, the section does not
    track the habit, or the assessment is not one of the section's."""
    teaches: Any = true() if actor.role == "admin" else exists().where(
        SectionTeacher.section_id == section.id, SectionTeacher.teacher_id == actor.id)
    query = (
        select(User, Competency, Framework.habit_method, ScaleLevel, HabitEvidence, Assessment)
        .select_from(Enrollment)
        .join(User, User.id == Enrollment.student_id)
        .join(SectionHabit, (SectionHabit.section_id == section.id) & (SectionHabit.competency_id == competency_id))
        .join(Competency, Competency.id == SectionHabit.competency_id)
        .join(Framework, Framework.id == Competency.framework_id)
        .outerjoin(ScaleLevel, ScaleLevel.scale_id == Framework.scale_id)
        .outerjoin(HabitEvidence, (HabitEvidence.section_id == section.id)
                   & (HabitEvidence.student_id == student_id) & (HabitEvidence.competency_id == competency_id)
                   & HabitEvidence.deleted_at.is_(None))
        .outerjoin(Assessment, (Assessment.id == (assessment_id if assessment_id is not None else -1))
                   & (Assessment.section_id == section.id) & Assessment.deleted_at.is_(None))
        .where(Enrollment.section_id == section.id, Enrollment.student_id == student_id,
               Enrollment.active.is_(True), teaches)
        .order_by(ScaleLevel.points.desc(), HabitEvidence.id))
    rows = session.execute(query).all()
    if not rows or (assessment_id is not None and rows[0][5] is None):
        return None
    column = habit_columns_from_rows([(r[1], r[2], r[3]) for r in rows])[0]
    evidence = list({r[4].id: r[4] for r in rows if r[4] is not None}.values())
    return HabitScope(rows[0][0], column, rows[0][5], evidence)


def _revise(session: Session, evidence: HabitEvidence, actor: User, action: str, old: dict | None) -> None:
    session.add(HabitRevision(habit_evidence_id=evidence.id, action=action, changed_by_id=actor.id,
                              changed_at=utcnow(), old=old, new=evidence.snapshot()))


def record_habit(session: Session, actor: User, *, section: Section, student_id: int, competency_id: int,
                 value: HabitValue | None, observed_on: date | None, assessment: Assessment | None = None,
                 note: str | None = None, expected_version: int | None = None,
                 scope: HabitScope | None = None) -> HabitEvidence | None:
    """Create, update or (value None) remove one habit observation, with its revision.

    With an assessment there is one live observation per (student, assessment, habit); without one each call
    adds one. Nothing of achievement is read or written: no proficiency cache, no roll-up, no pace.
    A write based on a stale version is refused (StaleWrite)."""
    from gradebook.services.evidence import check_observed_on

    if assessment is not None and (assessment.section_id != section.id or assessment.deleted_at is not None):
        raise ServiceError("That assessment is not in this section.", "assessment")
    if scope is not None and (scope.assessment.id if scope.assessment else None) != \
            (assessment.id if assessment else None):
        scope = None  # read for another cell
    if scope is None:
        scope = load_habit_scope(session, actor, section, student_id, competency_id,
                                 assessment.id if assessment is not None else None)
    if scope is None:
        raise ServiceError("Only a teacher of this section can record its habits, for its students.")
    observed_on = check_observed_on(observed_on)
    if note is not None and len(note) > MAX_NOTE:
        raise ServiceError(f"A note is limited to {MAX_NOTE} characters.", "note")
    if value is not None and value.status == "scored" \
            and value.score not in [lv.points for lv in scope.column.scale.levels]:
        raise ServiceError("Choose one of the habit scale's levels.", "value")
    evidence = scope.live
    current = evidence.version if evidence is not None else 0
    if expected_version is not None and expected_version != current:
        raise StaleWrite(STALE_MESSAGE, current=evidence)
    now = utcnow()
    if value is None:
        if evidence is None:
            return None
        old = evidence.snapshot()
        evidence.deleted_at, evidence.deleted_by_id, evidence.updated_at = now, actor.id, now
        _flush(session, evidence)
        _revise(session, evidence, actor, "delete", old)
        session.flush()
        return None
    if evidence is None:
        evidence = HabitEvidence(student_id=student_id, section_id=section.id, competency_id=competency_id,
                                 assessment_id=assessment.id if assessment is not None else None,
                                 status=value.status, score=value.score, observed_on=observed_on,
                                 note=(note or "").strip(), recorded_by_id=actor.id, recorded_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(evidence)
                session.flush()
        except IntegrityError:
            raise StaleWrite(STALE_MESSAGE) from None
        _revise(session, evidence, actor, "create", None)
        session.flush()
        scope.evidence.append(evidence)
        return evidence
    old = evidence.snapshot()
    evidence.status, evidence.score, evidence.observed_on = value.status, value.score, observed_on
    if note is not None:
        evidence.note = note.strip()
    if evidence.snapshot() == old:
        return evidence
    evidence.updated_at = now
    _flush(session, evidence)
    _revise(session, evidence, actor, "update", old)
    session.flush()
    return evidence


def _flush(session: Session, evidence: HabitEvidence) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise StaleWrite(STALE_MESSAGE, current=evidence) from None
