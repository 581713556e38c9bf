"""Term grades by the school's published grade bridge: the stored table, its preview and save, and the grade
of every student in every class of a term, each with its explanation.

The rule is the pure :mod:`gradebook.proficiency.grade_bridge`; this module feeds it each student's levels
(a teacher's override wins, as everywhere) on the standards a section assesses. Habits of work are never
given to it: a grade is achievement only, and habits are reported beside it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook import proficiency as prof
from gradebook.models import (
    Competency,
    Enrollment,
    Framework,
    GradeBridgeChange,
    GradeBridgeTable,
    Override,
    ProficiencyRecord,
    School,
    Section,
    SectionStandard,
    Term,
    User,
    utcnow,
)
from gradebook.proficiency.grade_bridge import DEFAULT_BRIDGE, BridgeError, GradeBridge, TermGrade, term_grade
from gradebook.proficiency.grade_bridge_text import explain
from gradebook.services import ServiceError, StaleWrite
from gradebook.services.proficiency import scale_for


@dataclass(frozen=True)
class StoredBridge:
    """A school's table and the version a save must name (0: the default table, never saved)."""

    school: School
    bridge: GradeBridge
    version: int
    row: GradeBridgeTable | None


def the_school(session: Session, school_id: int | None = None) -> School | None:
    """The school named, else the first one (most installations serve one school)."""
    if school_id is not None:
        return session.get(School, school_id)
    return session.scalar(select(School).order_by(School.id).limit(1))


def stored_bridge(session: Session, school: School) -> StoredBridge:
    row = session.scalar(select(GradeBridgeTable).where(GradeBridgeTable.school_id == school.id))
    if row is None:
        return StoredBridge(school, DEFAULT_BRIDGE, 0, None)
    return StoredBridge(school, GradeBridge.from_dict(row.table), row.version, row)


def _bridges_by_school(session: Session) -> dict[int | None, GradeBridge]:
    """Every school's table (one query); key None: the table of a section with no school (the first school's)."""
    rows = {row.school_id: GradeBridge.from_dict(row.table) for row in session.scalars(select(GradeBridgeTable))}
    first = session.scalar(select(School.id).order_by(School.id).limit(1))
    return {**rows, None: rows.get(first, DEFAULT_BRIDGE)}


def check_bridge(session: Session, school: School, bridge: GradeBridge) -> GradeBridge:
    """The table as the school would publish it, or a ServiceError listing every problem."""
    points = [level.points for level in scale_for(session, None).levels]
    try:
        return bridge.validate(points)
    except BridgeError as error:
        raise ServiceError(" ".join(error.problems), "rules") from None


def save_bridge(session: Session, actor: User, school: School, bridge: GradeBridge, *,
                expected_version: int | None, summary: str = "") -> GradeBridgeTable:
    """Publish a school's table. Refused when someone saved another since the page was loaded (the version
    the form carries is not the stored one), and when the table is not sound. The caller commits."""
    check_bridge(session, school, bridge)
    current = stored_bridge(session, school)
    if expected_version is None or expected_version != current.version:
        raise StaleWrite("Someone else saved the grade table while you were editing. Nothing was saved: "
                         "look at their table below, then make your change again.", current)
    old = current.row.table if current.row is not None else None
    if current.row is None:
        row = GradeBridgeTable(school_id=school.id, table=bridge.to_dict(), changed_by_id=actor.id)
        session.add(row)
    else:
        row = current.row
        row.table = bridge.to_dict()
        row.changed_by_id = actor.id
        row.changed_at = utcnow()
    session.add(GradeBridgeChange(school_id=school.id, changed_by_id=actor.id, old=old, new=bridge.to_dict(),
                                  summary=summary))
    session.flush()
    return row


# ---------------------------------------------------------------------------------------------- levels


def section_levels(session: Session, section_ids: Iterable[int], student_ids: Iterable[int] | None = None,
                   ) -> dict[tuple[int, int], list[float | None]]:
    """(section id, student id) → the level points on each standard the section assesses (None: no level
    yet), a live override in place of the computed level. Three queries whatever the number of sections."""
    section_ids = list(section_ids)
    if not section_ids:
        return {}
    enrolled = select(Enrollment.section_id, Enrollment.student_id).where(
        Enrollment.section_id.in_(section_ids), Enrollment.active.is_(True))
    if student_ids is not None:
        enrolled = enrolled.where(Enrollment.student_id.in_(list(student_ids)))
    pairs = session.execute(enrolled).all()
    standards: dict[int, list[int]] = defaultdict(list)
    for section_id, competency_id in session.execute(
            select(SectionStandard.section_id, SectionStandard.competency_id)
            .join(Competency, Competency.id == SectionStandard.competency_id)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(SectionStandard.section_id.in_(section_ids), Framework.kind != "habits")  # achievement only
            .order_by(SectionStandard.position)):
        standards[section_id].append(competency_id)
    students = {student_id for _, student_id in pairs}
    levels: dict[tuple[int, int, int], float | None] = {}
    for section_id, student_id, competency_id, points in session.execute(
            select(ProficiencyRecord.section_id, ProficiencyRecord.student_id, ProficiencyRecord.competency_id,
                   ProficiencyRecord.level_points)
            .where(ProficiencyRecord.section_id.in_(section_ids), ProficiencyRecord.student_id.in_(students))):
        levels[(section_id, student_id, competency_id)] = points
    for section_id, student_id, competency_id, points in session.execute(
            select(Override.section_id, Override.student_id, Override.competency_id, Override.level_points)
            .where(Override.section_id.in_(section_ids), Override.student_id.in_(students),
                   Override.cleared_at.is_(None))):
        levels[(section_id, student_id, competency_id)] = points
    return {(section_id, student_id): [levels.get((section_id, student_id, c)) for c in standards[section_id]]
            for section_id, student_id in pairs}


def label_for_scale(scale: prof.Scale) -> Callable[[float], str]:
    """The school's word for a level's points ("Meets"); points the scale lacks are shown as a number."""
    labels = {level.points: level.label for level in scale.levels}
    return lambda points: labels.get(points, f"{points:g}")


# ---------------------------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class SectionGrade:
    section: Section
    result: TermGrade
    explanation: str
    levels: list[float | None]

    def level_counts(self, scale: prof.Scale) -> list[tuple[prof.Level, int]]:
        """How many of the class's skills are at each level of the scale, highest first (empty levels left out)."""
        return [(level, n) for level in sorted(scale.levels, key=lambda lv: -lv.points)
                if (n := sum(1 for p in self.levels if p == level.points))]


@dataclass
class TermReport:
    """One student's term: each class with its grade and why, and the table that gave them."""

    student: User
    term: Term | None
    terms: list[Term]
    grades: list[SectionGrade] = field(default_factory=list)
    bridge: GradeBridge = DEFAULT_BRIDGE
    scale: prof.Scale = prof.DEFAULT_SCALE

    @property
    def label_for(self) -> Callable[[float], str]:
        return label_for_scale(self.scale)


def student_terms(session: Session, student_id: int) -> list[Term]:
    """The terms the student has classes in, newest first."""
    return list(session.scalars(
        select(Term).join(Section, Section.term_id == Term.id).join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.student_id == student_id, Enrollment.active.is_(True))
        .group_by(Term.id).order_by(Term.starts_on.desc(), Term.id.desc())))


def term_report(session: Session, student: User, term_id: int | None = None, *,
                name: str | None = None) -> TermReport:
    """The student's grade in each class of the term (the newest when ``term_id`` is None), explained with
    ``name`` ("Maya's grade is …"; None: "Your grade is …"). A term the student has no class in is a
    ServiceError."""
    terms = student_terms(session, student.id)
    if term_id is None:
        term = terms[0] if terms else None
    else:
        term = next((t for t in terms if t.id == term_id), None)
        if term is None:
            raise ServiceError("There is no report for that term.")
    report = TermReport(student, term, terms)
    if term is None:
        return report
    sections = list(session.scalars(
        select(Section).join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.student_id == student.id, Enrollment.active.is_(True), Section.term_id == term.id)
        .order_by(Section.name)))
    levels = section_levels(session, [s.id for s in sections], [student.id])
    bridges = _bridges_by_school(session)
    report.scale = scale_for(session, sections[0] if sections else None)
    for section in sections:
        bridge = bridges.get(section.school_id, bridges[None])
        report.bridge = bridge
        marks = levels.get((section.id, student.id), [])
        result = term_grade(marks, bridge)
        label_for = label_for_scale(scale_for(session, section))
        report.grades.append(SectionGrade(section, result, explain(result, label_for, name=name), marks))
    return report


@dataclass(frozen=True)
class PreviewRow:
    student: User
    section: Section
    now: str
    proposed: str
    explanation: str

    @property
    def changed(self) -> bool:
        return self.now != self.proposed


@dataclass
class BridgePreview:
    rows: list[PreviewRow]
    proposed: GradeBridge

    @property
    def changed(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.changed]

    def counts(self) -> list[tuple[str, int, int]]:
        """(grade, students with it now, students with it under the proposed table), best grade first."""
        grades = list(self.proposed.grades)
        for row in self.rows:
            if row.now not in grades:
                grades.append(row.now)
        return [(g, sum(1 for r in self.rows if r.now == g), sum(1 for r in self.rows if r.proposed == g))
                for g in grades]

    @property
    def summary(self) -> str:
        moved = len(self.changed)
        return f"{moved} of {len(self.rows)} grades would change."


def preview_bridge(session: Session, school: School, proposed: GradeBridge) -> BridgePreview:
    """Every student's grade in every active class of the school, now and under ``proposed``; writes nothing.
    A fixed number of queries whatever the number of classes and students."""
    current = stored_bridge(session, school).bridge
    first = the_school(session)
    sections = list(session.scalars(
        select(Section).join(Term, Term.id == Section.term_id)
        .where(Section.active.is_(True), Term.active.is_(True),
               (Section.school_id == school.id) if first is None or first.id != school.id
               else ((Section.school_id == school.id) | Section.school_id.is_(None)))
        .order_by(Section.name)))
    levels = section_levels(session, [s.id for s in sections])
    students = {u.id: u for u in session.scalars(select(User).where(User.id.in_({k[1] for k in levels})))} \
        if levels else {}
    by_id = {s.id: s for s in sections}
    rows = []
    for (section_id, student_id), marks in levels.items():
        section = by_id[section_id]
        label_for = label_for_scale(scale_for(session, section))
        after = term_grade(marks, proposed)
        rows.append(PreviewRow(students[student_id], section, term_grade(marks, current).grade, after.grade,
                               explain(after, label_for, name=students[student_id].first_name)))
    rows.sort(key=lambda r: (not r.changed, r.section.name, r.student.name))  # the grades that move first
    return BridgePreview(rows, proposed)


@dataclass(frozen=True)
class StudentGrade:
    student_id: int
    result: TermGrade
    explanation: str
    rank_points: int  # 0 for ``otherwise``, one more for each grade above it (what a SIS can sort by)
    top_points: int


def section_term_grades(session: Session, section: Section) -> dict[int, StudentGrade]:
    """Every enrolled student's term grade in the section by its school's table (student id → grade), each
    explained in the reader's language ("Maya's grade is B because …"). Fixed queries."""
    levels = section_levels(session, [section.id])
    bridges = _bridges_by_school(session)
    bridge = bridges.get(section.school_id, bridges[None])
    label_for = label_for_scale(scale_for(session, section))
    names: dict[int, str] = {}
    if levels:
        names = {row.id: row.name for row in session.execute(select(User.id, User.name).where(
            User.id.in_([student_id for _, student_id in levels])))}
    top = len(bridge.grades) - 1
    out = {}
    for (_section_id, student_id), marks in levels.items():
        result = term_grade(marks, bridge)
        first = (names.get(student_id) or "").split(" ")[0] or None
        out[student_id] = StudentGrade(student_id, result, explain(result, label_for, name=first),
                                       top - bridge.rank(result.grade), top)
    return out
