"""What a family hears each week: for each child, the new feedback, the levels that moved, what is next and
how to help at home. Read only; a fixed number of queries per guardian.

A level "moved" when the level the evidence gives now differs from the level the evidence recorded before
the week began gave (the same calculation, the section's policy): so a correction inside the week that
ends where it started is no news, and a first level is news.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook import proficiency as prof
from gradebook.models import (
    Activity,
    Assessment,
    Competency,
    Enrollment,
    Evidence,
    GuardianLink,
    LevelDescriptor,
    Override,
    Section,
    SectionStandard,
    User,
)
from gradebook.services.habits import HabitLevel, habit_levels_for
from gradebook.services.proficiency import observation_of, policy_for, scale_for


@dataclass
class FeedbackNews:
    competency: Competency
    section: Section
    assessment: Assessment | None
    evidence: Evidence


@dataclass
class LevelMove:
    competency: Competency
    section: Section
    before: prof.Level | None
    now: prof.Level | None

    @property
    def up(self) -> bool:
        return self.now is not None and (self.before is None or self.now.points > self.before.points)


@dataclass
class NextStep:
    competency: Competency
    section: Section
    level: prof.Level | None
    step: LevelDescriptor | None  # the next level's descriptor: the page says it as something to do
    path_text: str


@dataclass
class ChildDigest:
    child: User
    feedback: list[FeedbackNews] = field(default_factory=list)
    moves: list[LevelMove] = field(default_factory=list)
    next_steps: list[NextStep] = field(default_factory=list)
    help_at_home: list[tuple[Activity, Competency]] = field(default_factory=list)
    habits: list[HabitLevel] = field(default_factory=list)  # work habits seen so far: one line, never a grade

    @property
    def has_news(self) -> bool:
        return bool(self.feedback or self.moves)


@dataclass
class FamilyDigest:
    guardian: User
    since: datetime
    until: datetime
    children: list[ChildDigest]

    @property
    def has_news(self) -> bool:
        return any(c.has_news for c in self.children)


def _level(result: prof.Result) -> prof.Level | None:
    return result.level if result.score is not None else None


def child_digest(session: Session, child: User, since: datetime, until: datetime) -> ChildDigest:
    """One child's week: what their teachers recorded between ``since`` and ``until``."""
    out = ChildDigest(child)
    sections = {s.id: s for s in session.scalars(
        select(Section).join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.student_id == child.id, Enrollment.active.is_(True)))}
    if not sections:
        return out
    out.habits = [h for h in habit_levels_for(session, child.id, list(sections)) if h.level is not None]
    assessed = {(sid, c.id): c for sid, c in session.execute(
        select(SectionStandard.section_id, Competency).join(Competency, Competency.id == SectionStandard.competency_id)
        .where(SectionStandard.section_id.in_(list(sections))))}
    rows = session.execute(
        select(Evidence, Assessment).outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .where(Evidence.student_id == child.id, Evidence.section_id.in_(list(sections)),
               Evidence.deleted_at.is_(None), Evidence.recorded_at < until)
        .order_by(Evidence.observed_on, Evidence.recorded_at, Evidence.id)).all()
    policies = {sid: policy_for(session, s) for sid, s in sections.items()}
    scales = {sid: scale_for(session, s) for sid, s in sections.items()}
    overridden = {(o.section_id, o.competency_id) for o in session.scalars(select(Override).where(
        Override.student_id == child.id, Override.cleared_at.is_(None)))}
    before: dict[tuple[int, int], list[prof.Observation]] = defaultdict(list)
    now: dict[tuple[int, int], list[prof.Observation]] = defaultdict(list)
    touched: list[tuple[int, int]] = []
    for evidence, assessment in rows:
        key = (evidence.section_id, evidence.competency_id)
        if key not in assessed:
            continue
        new = evidence.recorded_at >= since or evidence.updated_at >= since
        if new and key not in touched:
            touched.append(key)
        if new and evidence.feedback:
            out.feedback.append(FeedbackNews(assessed[key], sections[key[0]], assessment, evidence))
        if evidence.status == "scored":
            observation = observation_of(policies[key[0]], evidence, assessment)
            now[key].append(observation)
            if evidence.recorded_at < since:
                before[key].append(observation)
    descriptors = {(d.competency_id, d.points): d for d in session.scalars(
        select(LevelDescriptor).where(LevelDescriptor.competency_id.in_([c for _, c in touched])))}
    for key in touched:
        section_id, competency_id = key
        policy, scale = policies[section_id], scales[section_id]
        level_now = _level(prof.compute_with_policy(now[key], policy, scale=scale))
        level_before = _level(prof.compute_with_policy(before[key], policy, scale=scale))
        if level_now != level_before and key not in overridden:
            out.moves.append(LevelMove(assessed[key], sections[section_id], level_before, level_now))
        if level_now is None or level_now.points < scale.mastery.points:
            higher = sorted(lv.points for lv in scale.levels if level_now is None or lv.points > level_now.points)
            target = scale.mastery.points if level_now is None else (higher[0] if higher else None)
            path = None if key in overridden else prof.path_to_mastery_with_policy(now[key], policy, scale=scale)
            out.next_steps.append(NextStep(assessed[key], sections[section_id], level_now,
                                           descriptors.get((competency_id, target)) if target is not None else None,
                                           prof.path_sentence(path)))
    working_on = {(n.section.id, n.competency.id) for n in out.next_steps}
    if working_on:
        for activity in session.scalars(select(Activity).where(
                Activity.section_id.in_([s for s, _ in working_on]), Activity.for_home.is_(True),
                Activity.deleted_at.is_(None)).order_by(Activity.position, Activity.id)):
            if (activity.section_id, activity.competency_id) in working_on:
                out.help_at_home.append((activity, assessed[(activity.section_id, activity.competency_id)]))
    return out


def family_digest(session: Session, guardian: User, since: datetime, until: datetime) -> FamilyDigest:
    """A guardian's digest: each linked child's week, children by name."""
    children = list(session.scalars(select(User).join(GuardianLink, GuardianLink.student_id == User.id)
                                    .where(GuardianLink.guardian_id == guardian.id, User.active.is_(True))
                                    .order_by(User.name)))
    return FamilyDigest(guardian, since, until, [child_digest(session, c, since, until) for c in children])


def guardians_to_write_to(session: Session) -> list[User]:
    """Active guardians with an e-mail address and at least one child (the rest cannot be written to)."""
    return list(session.scalars(
        select(User).where(User.role == "guardian", User.active.is_(True), User.email.is_not(None),
                           User.email != "",
                           User.id.in_(select(GuardianLink.guardian_id))).order_by(User.id)))
