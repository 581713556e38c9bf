"""The student's story, read in a fixed number of queries: used by the student home, the family page and
the conference page alike (one source of truth for what a student and their family see)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook import proficiency as prof
from gradebook.models import (
    Artifact,
    Assessment,
    Comment,
    Competency,
    Enrollment,
    Evidence,
    FeedbackRead,
    FeedbackReply,
    Goal,
    GoalCompetency,
    GoalStep,
    LearnerProfile,
    LevelDescriptor,
    Narrative,
    Override,
    PortfolioEntry,
    PortfolioEntryStandard,
    ProficiencyRecord,
    ReassessmentRequest,
    Section,
    SectionStandard,
    User,
)
from gradebook.services.habits import HabitLevel, habit_levels_for
from gradebook.services.proficiency import observation_of, policy_for, scale_for


@dataclass
class StandardView:
    section: Section
    competency: Competency
    score: float | None
    level: prof.Level | None
    computed_level: prof.Level | None
    override: Override | None
    count: int
    needed: int
    trend: str | None
    points: list[tuple[date, float]]
    next_step: str | None
    open_request: bool = False
    # The next level's descriptor (its text is next_step): pages phrase it as what to do, in the reader's language.
    next_descriptor: LevelDescriptor | None = None
    path: prof.PathToMastery | None = None

    @property
    def mastered(self) -> bool:
        return self.level is not None and self.level.points >= self._mastery

    @property
    def path_text(self) -> str:
        """What it would take, in the student's terms ("Two more pieces of work at Meets …"); "" if nothing."""
        return prof.path_sentence(self.path)

    _mastery: float = 3.0


@dataclass
class CompetencyView:
    section: Section
    competency: Competency | None
    level: prof.Level | None
    score: float | None
    standards: list[StandardView] = field(default_factory=list)

    @property
    def mastered_first(self) -> list[StandardView]:
        """Strengths first: what is mastered, then the rest by level (highest first), then no evidence."""
        return sorted(self.standards, key=lambda s: (not s.mastered, -(s.level.points if s.level else -1),
                                                     s.competency.code))


@dataclass
class FeedbackItem:
    evidence: Evidence
    competency: Competency
    assessment: Assessment | None
    section: Section
    unread: bool
    replies: list[FeedbackReply]
    artifacts: list[Artifact] = field(default_factory=list)


@dataclass
class StudentStory:
    student: User
    scale: prof.Scale
    sections: list[Section]
    competencies: list[CompetencyView]
    feedback: list[FeedbackItem]
    profile: LearnerProfile | None
    goals: list[tuple[Goal, list[GoalStep], list[StandardView]]]
    entries: list[tuple[PortfolioEntry, list[Competency]]]
    narratives: list[tuple[Section, Narrative]]
    entry_artifacts: dict[int, list[Artifact]] = field(default_factory=dict)
    goal_comments: dict[int, list[tuple[Comment, User]]] = field(default_factory=dict)
    entry_comments: dict[int, list[tuple[Comment, User]]] = field(default_factory=dict)
    removed_entries: list[PortfolioEntry] = field(default_factory=list)
    # Habits of work, shown apart from the skills (never part of a level): one row per habit and section.
    habits: list[HabitLevel] = field(default_factory=list)

    @property
    def standards(self) -> list[StandardView]:
        return [s for c in self.competencies for s in c.standards]

    @property
    def unread_count(self) -> int:
        return sum(1 for f in self.feedback if f.unread)

    def mastered(self) -> list[StandardView]:
        return [s for s in self.standards if s.mastered]

    def by_section_strengths_first(self) -> list[tuple[Section, list[CompetencyView]]]:
        """Section by section; within one, the competencies at the highest level first (curriculum order among
        equals), those without enough evidence last."""
        grouped: dict[int, list[CompetencyView]] = defaultdict(list)
        for view in self.competencies:
            grouped[view.section.id].append(view)
        return [(section, sorted(grouped[section.id], key=lambda c: -(c.level.points if c.level else -1)))
                for section in self.sections if section.id in grouped]

    def growing(self) -> list[StandardView]:
        return [s for s in self.standards if not s.mastered]

    def going_well(self) -> list[tuple[StandardView, str]]:
        """What to open on, for every child: skills at mastery, then skills improving, and when there is neither, the
        child's highest levels so far (each skill once, with why it is here: "mastered", "improving" or "highest").

        Why: a struggling student with nothing at mastery still has strengths (a rising trend, a best level);
        the page opens on them, never on a list of deficits."""
        chosen: list[tuple[StandardView, str]] = [(s, "mastered") for s in self.mastered()]
        seen = {id(s) for s, _ in chosen}
        for s in self.standards:
            if id(s) not in seen and s.trend == "improving" and s.level is not None:
                chosen.append((s, "improving"))
                seen.add(id(s))
        rest = [s for s in self.standards if id(s) not in seen and s.level is not None]
        if rest and not chosen:
            best = max(s.level.points for s in rest)  # type: ignore[union-attr]
            chosen.extend((s, "highest") for s in rest if s.level.points == best)  # type: ignore[union-attr]
        return chosen

    def next_up(self, limit: int = 3) -> list[StandardView]:
        """The few skills to work on next: started, not at mastery, closest to it first (highest level, then
        the fewest further pieces of work on the path to mastery)."""
        started = [s for s in self.standards if not s.mastered and s.count and s.level is not None]
        return sorted(started, key=lambda s: (-s.level.points,  # type: ignore[union-attr]
                                              s.path.route.pieces if s.path else 99))[:limit]

    def goals_progressing(self) -> list[tuple[Goal, list[GoalStep], list[StandardView]]]:
        """Goals with at least one step done: progress the child has made on their own plan."""
        return [(goal, steps, views) for goal, steps, views in self.goals if any(step.done for step in steps)]


def load_story(session: Session, student: User, *, viewer: User, family_only: bool = False,
               feedback_limit: int = 30) -> StudentStory:
    """Everything a student (or their family, or teacher) sees about the student, in fixed queries."""
    sections = list(session.scalars(
        select(Section).join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.student_id == student.id, Enrollment.active.is_(True)).order_by(Section.name)))
    section_ids = [s.id for s in sections]
    by_section = {s.id: s for s in sections}
    scale = scale_for(session, sections[0] if sections else None)
    mastery = scale.mastery.points

    section_order = {sid: i for i, sid in enumerate(section_ids)}
    pairs = sorted(session.execute(
        select(SectionStandard.section_id, Competency)
        .join(Competency, Competency.id == SectionStandard.competency_id)
        .where(SectionStandard.section_id.in_(section_ids)).order_by(SectionStandard.position)).all(),
        key=lambda pair: section_order[pair[0]])
    parent_ids = {c.parent_id for _, c in pairs if c.parent_id}
    parents = {c.id: c for c in session.scalars(select(Competency).where(Competency.id.in_(parent_ids)))} \
        if parent_ids else {}
    records = {
        (r.section_id, r.competency_id): r
        for r in session.scalars(select(ProficiencyRecord).where(ProficiencyRecord.student_id == student.id,
                                                                 ProficiencyRecord.section_id.in_(section_ids)))
    }
    overrides = {
        (o.section_id, o.competency_id): o
        for o in session.scalars(select(Override).where(Override.student_id == student.id,
                                                        Override.cleared_at.is_(None)))
    }
    evidence_rows = session.execute(
        select(Evidence, Assessment).outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .where(Evidence.student_id == student.id, Evidence.deleted_at.is_(None),
               Evidence.section_id.in_(section_ids))
        .order_by(Evidence.observed_on, Evidence.recorded_at)).all()
    points: dict[tuple[int, int], list[tuple[date, float]]] = defaultdict(list)
    policies = {s.id: policy_for(session, s) for s in sections}
    observations: dict[tuple[int, int], list[prof.Observation]] = defaultdict(list)
    for evidence, assessment in evidence_rows:
        if evidence.status == "scored" and (assessment is None or assessment.counts):
            points[(evidence.section_id, evidence.competency_id)].append((evidence.observed_on, evidence.score or 0))
        if evidence.status == "scored":
            observations[(evidence.section_id, evidence.competency_id)].append(
                observation_of(policies[evidence.section_id], evidence, assessment))
    descriptors: dict[tuple[int, float], LevelDescriptor] = {
        (d.competency_id, d.points): d
        for d in session.scalars(select(LevelDescriptor).where(
            LevelDescriptor.competency_id.in_([c.id for _, c in pairs])))
    }
    open_requests = {
        (r.section_id, r.competency_id)
        for r in session.scalars(select(ReassessmentRequest).where(
            ReassessmentRequest.student_id == student.id, ReassessmentRequest.status == "open"))
    }
    ascending = sorted(lv.points for lv in scale.levels)

    def next_descriptor(competency_id: int, level: prof.Level | None) -> LevelDescriptor | None:
        target = mastery if level is None else next((p for p in ascending if p > level.points), None)
        return descriptors.get((competency_id, target)) if target is not None else None

    def level_of(score: float | None) -> prof.Level | None:
        return scale.level_for(score) if score is not None else None

    groups: dict[tuple[int, int | None], CompetencyView] = {}
    standard_views: dict[int, StandardView] = {}
    for section_id, competency in pairs:
        key = (section_id, competency.parent_id)
        if key not in groups:
            parent = parents.get(competency.parent_id) if competency.parent_id else None
            record = records.get((section_id, parent.id)) if parent else None
            groups[key] = CompetencyView(by_section[section_id], parent, level_of(record.score if record else None),
                                         record.score if record else None)
        record = records.get((section_id, competency.id))
        computed = level_of(record.score if record else None)
        override = overrides.get((section_id, competency.id))
        level = scale.level_with_points(override.level_points) if override else computed
        descriptor = next_descriptor(competency.id, level)
        view = StandardView(
            section=by_section[section_id], competency=competency, score=record.score if record else None,
            level=level, computed_level=computed, override=override, count=record.evidence_count if record else 0,
            needed=record.needed if record else 0, trend=record.trend if record else None,
            points=points.get((section_id, competency.id), []), next_step=descriptor.description if descriptor else None,
            open_request=(section_id, competency.id) in open_requests, _mastery=mastery, next_descriptor=descriptor,
            path=None if override or not record else prof.path_to_mastery_with_policy(
                observations.get((section_id, competency.id), []), policies[section_id], scale=scale))
        groups[key].standards.append(view)
        standard_views[competency.id] = view

    feedback_rows = [(e, a) for e, a in evidence_rows if e.feedback][-feedback_limit:][::-1]
    evidence_ids = [e.id for e, _ in feedback_rows]
    read_ids = set(session.scalars(select(FeedbackRead.evidence_id).where(
        FeedbackRead.user_id == student.id, FeedbackRead.evidence_id.in_(evidence_ids))))
    replies: dict[int, list[FeedbackReply]] = defaultdict(list)
    for reply in session.scalars(select(FeedbackReply).where(FeedbackReply.evidence_id.in_(evidence_ids))
                                 .order_by(FeedbackReply.created_at)):
        replies[reply.evidence_id].append(reply)
    competencies_by_id = {c.id: c for _, c in pairs}
    # Files a teacher attached to a score travel with its feedback, for the student and the family alike.
    score_files: dict[int, list[Artifact]] = defaultdict(list)
    for artifact in session.scalars(select(Artifact).where(Artifact.evidence_id.in_(evidence_ids),
                                                           Artifact.deleted_at.is_(None)).order_by(Artifact.id)):
        score_files[artifact.evidence_id].append(artifact)  # type: ignore[index]
    feedback = [
        FeedbackItem(e, competencies_by_id[e.competency_id], a, by_section[e.section_id], e.id not in read_ids,
                     replies.get(e.id, []), score_files.get(e.id, []))
        for e, a in feedback_rows if e.competency_id in competencies_by_id
    ]

    profile = session.scalar(select(LearnerProfile).where(LearnerProfile.student_id == student.id))
    goals_rows = list(session.scalars(select(Goal).where(Goal.student_id == student.id, Goal.status != "dropped")
                                      .order_by(Goal.created_at)))
    goal_ids = [g.id for g in goals_rows]
    steps: dict[int, list[GoalStep]] = defaultdict(list)
    for step in session.scalars(select(GoalStep).where(GoalStep.goal_id.in_(goal_ids)).order_by(GoalStep.position)):
        steps[step.goal_id].append(step)
    goal_links: dict[int, list[StandardView]] = defaultdict(list)
    for link in session.scalars(select(GoalCompetency).where(GoalCompetency.goal_id.in_(goal_ids))):
        if link.competency_id in standard_views:
            goal_links[link.goal_id].append(standard_views[link.competency_id])
    goals = [(g, steps.get(g.id, []), goal_links.get(g.id, [])) for g in goals_rows]

    entry_query = select(PortfolioEntry).where(PortfolioEntry.student_id == student.id,
                                               PortfolioEntry.deleted_at.is_(None))
    if family_only:
        entry_query = entry_query.where(PortfolioEntry.visibility == "family")
    elif viewer.id != student.id:
        entry_query = entry_query.where(PortfolioEntry.visibility != "private")
    entries_rows = list(session.scalars(entry_query.order_by(PortfolioEntry.featured.desc(),
                                                             PortfolioEntry.created_at.desc())))
    entry_links: dict[int, list[Competency]] = defaultdict(list)
    link_rows = session.execute(
        select(PortfolioEntryStandard.entry_id, Competency)
        .join(Competency, Competency.id == PortfolioEntryStandard.competency_id)
        .where(PortfolioEntryStandard.entry_id.in_([e.id for e in entries_rows]))).all()
    for entry_id, competency in link_rows:
        entry_links[entry_id].append(competency)
    entries = [(e, entry_links.get(e.id, [])) for e in entries_rows]
    narratives = [
        (by_section[n.section_id], n)
        for n in session.scalars(select(Narrative).where(Narrative.student_id == student.id,
                                                         Narrative.section_id.in_(section_ids)))
    ]
    entry_artifacts: dict[int, list[Artifact]] = defaultdict(list)
    for artifact in session.scalars(select(Artifact).where(
            Artifact.portfolio_entry_id.in_([e.id for e in entries_rows]), Artifact.deleted_at.is_(None))
            .order_by(Artifact.id)):
        entry_artifacts[artifact.portfolio_entry_id].append(artifact)  # type: ignore[index]
    goal_comments: dict[int, list[tuple[Comment, User]]] = defaultdict(list)
    for comment, author in session.execute(
            select(Comment, User).join(User, User.id == Comment.author_id)
            .where(Comment.subject_type == "goal", Comment.subject_id.in_(goal_ids)).order_by(Comment.created_at)):
        goal_comments[comment.subject_id].append((comment, author))
    # Teachers' comments on entries reach whoever may see the entry (the family only on work shared with them).
    entry_comments: dict[int, list[tuple[Comment, User]]] = defaultdict(list)
    for comment, author in session.execute(
            select(Comment, User).join(User, User.id == Comment.author_id)
            .where(Comment.subject_type == "entry", Comment.subject_id.in_([e.id for e in entries_rows]))
            .order_by(Comment.created_at, Comment.id)):
        entry_comments[comment.subject_id].append((comment, author))
    removed = list(session.scalars(select(PortfolioEntry).where(
        PortfolioEntry.student_id == student.id, PortfolioEntry.deleted_at.is_not(None))
        .order_by(PortfolioEntry.deleted_at.desc()))) if viewer.id == student.id else []
    habits = habit_levels_for(session, student.id, section_ids) if section_ids else []
    return StudentStory(student, scale, sections, list(groups.values()), feedback, profile, goals, entries,
                        narratives, dict(entry_artifacts), dict(goal_comments), dict(entry_comments), removed,
                        habits)
