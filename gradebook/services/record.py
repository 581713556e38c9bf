"""The record that follows a student: every standard they have evidence on, across every section, term and
year, one row per exact-match group (CASE exactMatchOf followed both ways), with the level in each section and
one overall level by the school's rule. Read in a fixed number of queries whatever the number of sections.

Also: what a student already showed in earlier sections (the teacher of a new section sees it, and may accept
it as evidence of their own with one click), and the exact-match groups the record and the grid read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from gradebook import proficiency as prof
from gradebook.models import (
    RECORD_RULES,
    Assessment,
    Competency,
    Crosswalk,
    Enrollment,
    Evidence,
    Override,
    ProficiencyRecord,
    School,
    Section,
    SectionStandard,
    Term,
    User,
)
from gradebook.services import ServiceError
from gradebook.services.proficiency import _observation, scale_for, school_policy

EXACT_MATCH = "exactMatchOf"


# ---------------------------------------------------------------- exact-match groups

def refresh_match_groups(session: Session) -> int:
    """Give every standard its exact-match group (the lowest competency id among the standards joined to it by
    exactMatchOf crosswalks, either way round and through any chain); None for a standard that matches none.
    Called after crosswalks change (a CASE import). Returns how many standards changed group."""
    pairs = session.execute(select(Crosswalk.competency_id, Crosswalk.target_competency_id).where(
        Crosswalk.kind == EXACT_MATCH, Crosswalk.target_competency_id.is_not(None))).all()
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        while parent.get(node, node) != node:
            parent[node] = parent.get(parent[node], parent[node])
            node = parent[node]
        return node

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    wanted = {node: root(node) for pair in pairs for node in pair}
    current = dict(session.execute(select(Competency.id, Competency.match_id).where(
        or_(Competency.match_id.is_not(None), Competency.id.in_(list(wanted))))).all())
    changed = 0
    for competency_id, match_id in current.items():
        target = wanted.get(competency_id)
        if match_id != target:
            session.execute(update(Competency).where(Competency.id == competency_id).values(match_id=target)
                            .execution_options(synchronize_session="fetch"))
            changed += 1
    return changed


# ---------------------------------------------------------------- the record page

@dataclass
class SectionLevel:
    """One section's word on one standard: its level (a teacher's judgement wins), and how much evidence."""

    section: Section
    term: Term
    competency: Competency
    level: prof.Level | None
    score: float | None
    count: int
    override: bool
    last_observed_on: date | None

    @property
    def order(self) -> tuple:
        return (self.term.starts_on, self.last_observed_on or date.min, self.section.id)


@dataclass
class RecordRow:
    competency: Competency  # as the most recent section names it
    others: list[Competency]  # the same standard in other frameworks (exact matches) the student met
    levels: list[SectionLevel]  # oldest first
    overall: prof.Level | None
    overall_score: float | None
    overall_from: SectionLevel | None  # the section the overall level comes from (rules latest and highest)

    mastery_points: float = 3.0

    @property
    def mastered(self) -> bool:
        return self.overall is not None and self.overall.points >= self.mastery_points

    def level_in(self, section_id: int) -> SectionLevel | None:
        return next((lv for lv in self.levels if lv.section.id == section_id), None)


@dataclass
class TermColumn:
    term: Term
    sections: list[Section]


@dataclass
class StudentRecord:
    student: User
    scale: prof.Scale
    rule: str
    terms: list[TermColumn]
    rows: list[RecordRow]
    method: str = ""
    scales: list[prof.Scale] = field(default_factory=list)  # every scale the record's sections use, latest first

    @property
    def sections(self) -> list[Section]:
        return [s for t in self.terms for s in t.sections]

    @property
    def mastered_count(self) -> int:
        return sum(1 for r in self.rows if r.mastered)


def record_rule(session: Session) -> str:
    rule = session.scalar(select(School.record_rule).order_by(School.id).limit(1))
    return rule if rule in RECORD_RULES else "latest"


def set_record_rule(session: Session, actor: User, rule: str, school_id: int | None = None) -> None:
    """Set the overall-level rule of one school (`school_id`), or of every school (None: a district admin)."""
    from gradebook.services.audit import record_change

    if actor.role != "admin":
        raise ServiceError("Only an admin can change how the record gives an overall level.")
    if rule not in RECORD_RULES:
        raise ServiceError("Choose one of: most recent section, highest level, or all the evidence.")
    query = select(School).order_by(School.id)
    schools = list(session.scalars(query if school_id is None else query.where(School.id == school_id)))
    if not schools:
        raise ServiceError("Set up the school first.")
    for school in schools:
        if school.record_rule != rule:
            old = school.record_rule
            school.record_rule = rule
            record_change(session, actor, "school.record_rule", target_type="school", target_id=school.id,
                          detail={"old": old, "new": rule})


def load_record(session: Session, student: User) -> StudentRecord:
    """The student's record (6 statements on top of the scale and the school's settings, whatever the number
    of sections, terms and years): sections with their terms; the cached levels of every standard assessed
    with its competency; live overrides; the school's rule; and, under the rule "all the evidence", the scored
    evidence itself."""
    rule = record_rule(session)
    rows = session.execute(
        select(Section, Term).join(Term, Term.id == Section.term_id)
        .join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.student_id == student.id)
        .order_by(Term.starts_on, Term.id, Section.name, Section.id)).all()
    # Each section's levels in its own scale (its own, else its school's: schools may differ); the record's
    # own scale, for the overall level under "all the evidence" and the key, is the latest section's.
    scales = {section.id: scale_for(session, section) for section, _term in rows}
    scale = scales[rows[-1][0].id] if rows else scale_for(session, None)
    mastery = scale.mastery.points
    sections = {s.id: (s, t) for s, t in rows}
    columns: dict[int, TermColumn] = {}
    for section, term in rows:
        columns.setdefault(term.id, TermColumn(term, [])).sections.append(section)
    records = session.execute(
        select(ProficiencyRecord, Competency)
        .join(Competency, Competency.id == ProficiencyRecord.competency_id)
        .join(SectionStandard, and_(SectionStandard.section_id == ProficiencyRecord.section_id,
                                    SectionStandard.competency_id == ProficiencyRecord.competency_id))
        .where(ProficiencyRecord.student_id == student.id,
               ProficiencyRecord.section_id.in_(list(sections)))).all() if sections else []
    overrides = {(o.section_id, o.competency_id): o.level_points for o in session.scalars(
        select(Override).where(Override.student_id == student.id, Override.cleared_at.is_(None)))}

    groups: dict[int, list[SectionLevel]] = defaultdict(list)
    for record, competency in records:
        override = overrides.get((record.section_id, record.competency_id))
        if not record.evidence_count and override is None:
            continue
        section, term = sections[record.section_id]
        own = scales[section.id]
        level = own.level_with_points(override) if override is not None else \
            (own.level_for(record.score) if record.score is not None else None)
        groups[competency.match_key].append(SectionLevel(
            section=section, term=term, competency=competency, level=level, score=record.score,
            count=record.evidence_count, override=override is not None, last_observed_on=record.last_observed_on))

    all_scores: dict[int, prof.Result] = {}
    policy = prof.Policy.from_dict(school_policy(session))
    if rule == "all_evidence" and groups:
        observations: dict[int, list[prof.Observation]] = defaultdict(list)
        keys = {lv.competency.id: key for key, levels in groups.items() for lv in levels}
        for (competency_id, evidence_id, score, observed_on, recorded_at, again, kind, counts,
             title) in session.execute(
                select(Evidence.competency_id, Evidence.id, Evidence.score, Evidence.observed_on,
                       Evidence.recorded_at, Evidence.is_reassessment, Assessment.kind, Assessment.counts,
                       Assessment.title)
                .outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
                .where(Evidence.student_id == student.id, Evidence.status == "scored",
                       Evidence.deleted_at.is_(None), Evidence.section_id.in_(list(sections)),
                       Evidence.carried_from_section_id.is_(None))  # carried: already counted where shown
                .order_by(Evidence.observed_on, Evidence.recorded_at, Evidence.id)):
            if competency_id in keys:
                observations[keys[competency_id]].append(_observation(
                    policy, evidence_id, score, observed_on, recorded_at, again, kind,
                    counts if counts is not None else True, title))
        for key, found in observations.items():
            all_scores[key] = prof.compute_with_policy(found, policy, scale=scale)

    out: list[RecordRow] = []
    for key, levels in groups.items():
        levels.sort(key=lambda lv: lv.order)
        latest = levels[-1]
        overall_from: SectionLevel | None = None
        score: float | None = None
        if rule == "latest":
            overall_from = next((lv for lv in reversed(levels) if lv.level is not None), None)
        elif rule == "highest":
            shown = [lv for lv in levels if lv.level is not None]
            overall_from = max(shown, key=lambda lv: (lv.level.points, lv.order)) if shown else None  # type: ignore[union-attr]
        if overall_from is not None:
            overall, score = overall_from.level, overall_from.score
        elif rule == "all_evidence" and key in all_scores:
            result = all_scores[key]
            score = result.score
            overall = scale.level_for(score) if score is not None else None
        else:
            overall = None
        seen = {latest.competency.id}
        others = []
        for lv in levels:
            if lv.competency.id not in seen:
                seen.add(lv.competency.id)
                others.append(lv.competency)
        goal = scales[overall_from.section.id].mastery.points if overall_from is not None else mastery
        out.append(RecordRow(latest.competency, others, levels, overall, score, overall_from, goal))
    out.sort(key=lambda r: (r.competency.code, r.competency.id))
    shown = list({sc.levels: sc for sc in (scales[s.id] for s, _t in reversed(rows))}.values()) or [scale]
    return StudentRecord(student, scale, rule, list(columns.values()), out, method=policy.method, scales=shown)


# ---------------------------------------------------------------- shown in an earlier section

@dataclass(frozen=True)
class EarlierMastery:
    """A standard (or an exact match of it) the student showed at mastery in an earlier section."""

    section: Section
    term: Term
    competency: Competency
    level_points: float
    last_observed_on: date | None


def earlier_sections_filter(section: Section):  # type: ignore[no-untyped-def]
    """SQL: an earlier section than `section` (another section whose term began before this one's, or whose
    term is closed)."""
    this = aliased(Term)
    this_term = select(this.starts_on).where(this.id == section.term_id).scalar_subquery()
    return and_(Section.id != section.id, or_(Term.starts_on < this_term, Term.closed_at.is_not(None),
                                              Section.closed_at.is_not(None)))


def earlier_mastery(session: Session, section: Section, student_id: int, competency_id: int,
                    mastery: float) -> list[EarlierMastery]:
    """Where the student already showed this standard (or an exact match of it) at mastery before this
    section: the cached level, or a teacher's judgement there. Newest first (one statement)."""
    here = aliased(Competency)
    live_override = select(Override.level_points).where(
        Override.student_id == ProficiencyRecord.student_id, Override.section_id == ProficiencyRecord.section_id,
        Override.competency_id == ProficiencyRecord.competency_id, Override.cleared_at.is_(None)
    ).correlate(ProficiencyRecord).scalar_subquery()
    points = func.coalesce(live_override, ProficiencyRecord.level_points)
    rows = session.execute(
        select(Section, Term, Competency, points, ProficiencyRecord.last_observed_on)
        .select_from(ProficiencyRecord)
        .join(Section, Section.id == ProficiencyRecord.section_id)
        .join(Term, Term.id == Section.term_id)
        .join(Competency, Competency.id == ProficiencyRecord.competency_id)
        .join(here, or_(here.id == Competency.id, and_(here.match_id.is_not(None),
                                                        here.match_id == Competency.match_id)))
        .where(ProficiencyRecord.student_id == student_id, here.id == competency_id,
               points >= mastery, earlier_sections_filter(section))
        .order_by(Term.starts_on.desc(), ProficiencyRecord.last_observed_on.desc())).all()
    return [EarlierMastery(s, t, c, p, d) for s, t, c, p, d in rows]


def accept_earlier_mastery(session: Session, actor: User, *, section: Section, student_id: int,
                           competency_id: int, from_section_id: int) -> tuple[Evidence, bool]:
    """The teacher of a new section accepts what the student showed in an earlier one as evidence of their
    own: one scored piece at the level shown there, dated today, with a revision, recorded by the teacher and
    saying where it came from. Done once (a second click finds the first piece). Returns (evidence, created)."""
    from gradebook.services.evidence import CellValue, record_evidence

    scale = scale_for(session, section)
    found = next((e for e in earlier_mastery(session, section, student_id, competency_id, scale.mastery.points)
                  if e.section.id == from_section_id), None)
    if found is None:
        raise ServiceError("The student has not shown this standard at mastery in that section, so there is "
                           "nothing to accept. Nothing was saved.")
    existing = session.scalar(select(Evidence).where(
        Evidence.section_id == section.id, Evidence.student_id == student_id, Evidence.competency_id == competency_id,
        Evidence.carried_from_section_id.is_not(None), Evidence.deleted_at.is_(None)))
    if existing is not None:
        return existing, False
    points = found.level_points
    if not scale.is_valid_score(points):
        raise ServiceError(f"The level shown there ({points:g}) is not on this section's scale.")
    note = (f"Accepted from {found.section.name} ({found.term.name}): {found.competency.code} shown at "
            f"{scale.level_for(points).label if scale.level_for(points) else f'{points:g}'}"  # type: ignore[union-attr]
            f"{' on ' + found.last_observed_on.isoformat() if found.last_observed_on else ''}.")
    evidence = record_evidence(session, actor, section=section, student_id=student_id, competency_id=competency_id,
                               value=CellValue("scored", points), observed_on=date.today(), feedback=note,
                               carried_from_section_id=found.section.id)
    return evidence, True
