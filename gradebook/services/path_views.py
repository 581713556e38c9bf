"""What a student and their family read of a learning path, in a fixed number of queries.

The student's path in a section: the units as a map with a live level per standard (from the proficiency
cache, a teacher's override winning), the standards left out of their path with the reason, *next* (not at
mastery, prerequisites at mastery), their focus, the focus standard's playlist of their level band (what a
teacher assigned them first, then interest matches from the learner profile, then the rest), the other bands
too, their choices, the ways to show, and each unit's dates and pace with its sentence.

The family summary: per section, the pace in plain words, what the child works on next, and activities
marked for home ("how you can help").

Pace and next are computed here on every read from evidence (the cache) and the path; nothing is stored.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gradebook import proficiency as prof
from gradebook.models import (
    Competency,
    Enrollment,
    LearnerProfile,
    Override,
    PortfolioEntry,
    ProficiencyRecord,
    Section,
    SectionStandard,
    Term,
    User,
)
from gradebook.models.paths import (
    Activity,
    ActivityAssignment,
    ActivityChoice,
    PathAdjustment,
    PathFocus,
    PathUnit,
    PathUnitStandard,
    Prerequisite,
    ReadyToShow,
    WayToShow,
)
from gradebook.proficiency._i18n import N_, _, written_hook
from gradebook.proficiency.pacing import UnitPace, next_standards, unit_pace
from gradebook.services.proficiency import scale_for

BANDS = ("getting_started", "to_mastery", "beyond")
# Marked for the catalogue; the student's pages translate them where they show them (`_(labels.BAND_LABELS[b])`).
BAND_LABELS = {"getting_started": N_("Getting started"), "to_mastery": N_("To reach mastery"),
               "beyond": N_("Going beyond")}
KIND_LABELS = {"watch": N_("Watch"), "read": N_("Read"), "practice": N_("Practice"), "make": N_("Make"),
               "discuss": N_("Discuss"), "teacher": N_("With your teacher")}
PACE_WORDS = {"not_started": N_("not started yet"), "on_track": N_("on track"), "behind": N_("behind"),
              "ahead": N_("ahead"), "done": N_("done")}
# The family summary's phrases ("ahead in Science"), strengths first: marked for the catalogue here.
SUMMARY_PHRASES = {"all done": N_("all done in %(subjects)s"), "ahead": N_("ahead in %(subjects)s"),
                   "on track": N_("on track in %(subjects)s"), "not started yet": N_("not started yet in %(subjects)s"),
                   "behind": N_("behind in %(subjects)s")}


def today() -> date:
    return date.today()


# ------------------------------------------------------------------ what the pages read

@dataclass
class PathStandard:
    competency: Competency
    level: prof.Level | None
    count: int
    mastered: bool
    override: Override | None = None
    left_out: PathAdjustment | None = None      # the teacher left it out of this student's path (with a reason)
    requires: list[Competency] = field(default_factory=list)  # its prerequisites in this section
    is_next: bool = False
    is_focus: bool = False
    open_show: ReadyToShow | None = None        # an open "I'm ready to show" on it

    @property
    def id(self) -> int:
        return self.competency.id

    @property
    def name(self) -> str:
        return self.competency.short_name or self.competency.statement

    @property
    def waiting_on(self) -> list[Competency]:
        """Prerequisites not yet at mastery (filled in by the loader)."""
        return self._waiting

    _waiting: list[Competency] = field(default_factory=list)


@dataclass
class UnitView:
    unit: PathUnit | None           # None: the section has no path, one unit spans the term
    title: str
    starts_on: date
    target_on: date
    standards: list[PathStandard]
    pace: UnitPace
    own_target: PathAdjustment | None = None

    @property
    def left_out(self) -> list[PathStandard]:
        return [s for s in self.standards if s.left_out]

    @property
    def pace_words(self) -> str:
        return PACE_WORDS[self.pace.status]


@dataclass
class PlaylistItem:
    activity: Activity
    source: str                     # 'teacher' (assigned to them) | 'interest' | 'other'
    assignment: ActivityAssignment | None
    choice: ActivityChoice | None
    matches: list[str]              # the interests it matched

    @property
    def tags(self) -> list[str]:
        return split_tags(self.activity.interest_tags)


@dataclass
class StudentPath:
    section: Section
    student: User
    scale: prof.Scale
    today: date
    units: list[UnitView]
    others: list[PathStandard]      # standards of the section in no unit of its path
    next: list[PathStandard]
    focus: PathStandard | None
    focus_chosen: bool              # the student chose it (else it is the first next standard)
    band: str | None                # the student's level band on the focus standard
    playlist: dict[str, list[PlaylistItem]]   # band → items, ordered; "teacher": assigned to them, any band
    ways: list[WayToShow]           # ways to show the focus standard
    choices: list[tuple[ActivityChoice, Activity, Competency]]  # everything they picked in this section
    ready: list[tuple[ReadyToShow, WayToShow, Competency]]      # open and recent "ready to show"
    entries: list[PortfolioEntry]   # their own portfolio entries, to link when ready to show
    assigned: list[tuple[ActivityAssignment, Activity, Competency]]  # from their teacher, every skill
    interests: list[str]
    viewing: PathStandard | None = None  # the standard whose playlist is shown (the focus unless they asked)

    @property
    def standards(self) -> list[PathStandard]:
        return [s for u in self.units for s in u.standards] + self.others

    def standard(self, competency_id: int) -> PathStandard | None:
        return next((s for s in self.standards if s.id == competency_id), None)

    @property
    def bands(self) -> list[str]:
        """The student's band first, then the others."""
        first = [self.band] if self.band else []
        return first + [b for b in BANDS if b not in first]

    @property
    def current_unit(self) -> UnitView | None:
        return current_unit(self.units, self.today)

    @property
    def open_ready(self) -> list[tuple[ReadyToShow, WayToShow, Competency]]:
        return [r for r in self.ready if r[0].status == "open"]


def current_unit(units: Sequence[UnitView], on: date) -> UnitView | None:
    """The unit a student is in now: the first begun one not done; else the first not done; else the last."""
    for unit in units:
        if unit.pace.status != "done" and unit.starts_on <= on:
            return unit
    for unit in units:
        if unit.pace.status != "done":
            return unit
    return units[-1] if units else None


def band_for(level: prof.Level | None, scale: prof.Scale) -> str:
    """No level or below the level under mastery: getting started; below mastery: to reach mastery;
    at or above mastery: going beyond."""
    mastery = scale.mastery.points
    under = max((lv.points for lv in scale.levels if lv.points < mastery), default=None)
    if level is None or (under is not None and level.points < under) or (under is None and level.points < mastery):
        return "getting_started"
    if level.points < mastery:
        return "to_mastery"
    return "beyond"


def split_tags(text: str | None) -> list[str]:
    return [t.strip().lower() for t in re.split(r"[,;\n]", text or "") if t.strip()]


_STOP = {"and", "the", "with", "for", "of", "to", "in", "on", "my", "a", "i", "like", "love"}


def interest_words(text: str | None) -> tuple[set[str], set[str]]:
    """A learner profile's interests as phrases ("coding games") and words ("coding", "games")."""
    phrases = set(split_tags(text))
    words = {w for p in phrases for w in re.findall(r"[a-z0-9]+", p) if len(w) > 2 and w not in _STOP}
    return phrases, words


def interest_matches(tags: Sequence[str], phrases: set[str], words: set[str]) -> list[str]:
    """The activity tags that meet the student's interests: a whole phrase, or every word of the tag."""
    out = []
    for tag in tags:
        tag_words = {w for w in re.findall(r"[a-z0-9]+", tag) if w not in _STOP}
        if tag in phrases or (tag_words and tag_words <= words):
            out.append(tag)
    return out


# ------------------------------------------------------------------ the loader (batched over sections)

@dataclass
class _Paths:
    """One student's paths in several sections, before the playlist: what the student page and the family
    summary share."""

    sections: list[Section]
    scale: prof.Scale
    today: date
    units: dict[int, list[UnitView]]
    others: dict[int, list[PathStandard]]
    next: dict[int, list[PathStandard]]
    focus: dict[int, tuple[PathStandard | None, bool]]


def _load_paths(session: Session, student: User, sections: list[Section], on: date) -> _Paths:
    section_ids = [s.id for s in sections]
    scale = scale_for(session, sections[0] if sections else None)
    mastery = scale.mastery.points
    standards: dict[int, list[Competency]] = defaultdict(list)
    for section_id, competency in session.execute(
            select(SectionStandard.section_id, Competency)
            .join(Competency, Competency.id == SectionStandard.competency_id)
            .where(SectionStandard.section_id.in_(section_ids))
            .order_by(SectionStandard.section_id, SectionStandard.position, Competency.id)):
        standards[section_id].append(competency)
    all_ids = {c.id for cs in standards.values() for c in cs}
    units_rows = list(session.scalars(select(PathUnit).where(PathUnit.section_id.in_(section_ids))
                                      .order_by(PathUnit.section_id, PathUnit.position, PathUnit.id)))
    unit_standards: dict[int, list[int]] = defaultdict(list)
    for link in session.scalars(select(PathUnitStandard).join(PathUnit, PathUnit.id == PathUnitStandard.unit_id)
                                .where(PathUnit.section_id.in_(section_ids))
                                .order_by(PathUnitStandard.unit_id, PathUnitStandard.position, PathUnitStandard.id)):
        unit_standards[link.unit_id].append(link.competency_id)
    prerequisites = list(session.scalars(select(Prerequisite).where(
        Prerequisite.competency_id.in_(all_ids),
        or_(Prerequisite.section_id.is_(None), Prerequisite.section_id.in_(section_ids)))))
    adjustments = list(session.scalars(select(PathAdjustment).where(
        PathAdjustment.student_id == student.id, PathAdjustment.section_id.in_(section_ids),
        PathAdjustment.removed_at.is_(None)).order_by(PathAdjustment.created_at, PathAdjustment.id)))
    records = {(r.section_id, r.competency_id): r for r in session.scalars(select(ProficiencyRecord).where(
        ProficiencyRecord.student_id == student.id, ProficiencyRecord.section_id.in_(section_ids)))}
    overrides = {(o.section_id, o.competency_id): o for o in session.scalars(select(Override).where(
        Override.student_id == student.id, Override.section_id.in_(section_ids), Override.cleared_at.is_(None)))}
    focus_rows = {f.section_id: f for f in session.scalars(select(PathFocus).where(
        PathFocus.student_id == student.id, PathFocus.section_id.in_(section_ids)))}
    terms = {t.id: t for t in session.scalars(select(Term).where(Term.id.in_({s.term_id for s in sections})))}

    out = _Paths(sections, scale, on, {}, {}, {}, {})
    for section in sections:
        sid = section.id
        by_id = {c.id: c for c in standards[sid]}
        left_out = {a.competency_id: a for a in adjustments
                    if a.section_id == sid and a.kind == "left_out" and a.competency_id in by_id}
        own_dates = {a.unit_id: a for a in adjustments if a.section_id == sid and a.kind == "target_date"}
        requires: dict[int, set[int]] = defaultdict(set)
        for p in prerequisites:
            if (p.section_id is None or p.section_id == sid) and p.competency_id in by_id and p.requires_id in by_id:
                requires[p.competency_id].add(p.requires_id)

        views: dict[int, PathStandard] = {}
        for c in standards[sid]:
            record = records.get((sid, c.id))
            override = overrides.get((sid, c.id))
            if override is not None:
                level: prof.Level | None = scale.level_with_points(override.level_points)
            else:
                level = scale.level_for(record.score) if record is not None and record.score is not None else None
            views[c.id] = PathStandard(competency=c, level=level, count=record.evidence_count if record else 0,
                                       mastered=level is not None and level.points >= mastery, override=override,
                                       left_out=left_out.get(c.id),
                                       requires=[by_id[r] for r in sorted(requires[c.id], key=list(by_id).index)])
        mastered = {cid for cid, v in views.items() if v.mastered}
        for v in views.values():
            v._waiting = [r for r in v.requires if r.id not in mastered and r.id not in left_out]

        section_units = [u for u in units_rows if u.section_id == sid]
        unit_views: list[UnitView] = []
        placed: list[int] = []
        if section_units:
            for unit in section_units:
                ids = [cid for cid in unit_standards[unit.id] if cid in views and cid not in placed]
                placed += ids
                own = own_dates.get(unit.id)
                unit_views.append(_unit_view(unit, unit.title, unit.starts_on, unit.target_on,
                                             [views[cid] for cid in ids], own, on, scale))
        else:
            term = terms.get(section.term_id)
            starts, ends = (term.starts_on, term.ends_on) if term else (on, on)
            placed = list(views)
            unit_views.append(_unit_view(None, _("Whole term"), starts, ends, [views[cid] for cid in placed], None, on,
                                         scale))
        others = [views[cid] for cid in views if cid not in placed]
        order = placed + [s.id for s in others]  # path order, as the teacher's pacing view (services/paths.py)
        nexts = [views[cid] for cid in next_standards(order, mastered, dict(requires), set(left_out))]
        for v in nexts:
            v.is_next = True
        row = focus_rows.get(sid)
        chosen = views.get(row.competency_id) if row is not None else None
        if chosen is not None and chosen.left_out is not None:
            chosen = None
        focus = chosen or (nexts[0] if nexts else None)
        if focus is not None:
            focus.is_focus = True
        out.units[sid], out.others[sid], out.next[sid] = unit_views, others, nexts
        out.focus[sid] = (focus, chosen is not None)
    return out


def _unit_view(unit: PathUnit | None, title: str, starts_on: date, target_on: date, standards: list[PathStandard],
               own: PathAdjustment | None, on: date, scale: prof.Scale) -> UnitView:
    pace = unit_pace(today=on, starts_on=starts_on, target_on=target_on, mastered=[s.mastered for s in standards],
                     left_out=[s.left_out is not None for s in standards],
                     own_target_on=own.target_on if own is not None else None, mastery_label=scale.mastery.label)
    return UnitView(unit, title, starts_on, target_on, standards, pace, own)


def _active_sections(session: Session, student: User, section_id: int | None = None) -> list[Section]:
    query = (select(Section).join(Enrollment, Enrollment.section_id == Section.id)
             .where(Enrollment.student_id == student.id, Enrollment.active.is_(True)))
    if section_id is not None:
        query = query.where(Section.id == section_id)
    return list(session.scalars(query.order_by(Section.name)))


def student_path(session: Session, student: User, section_id: int, *, on: date | None = None,
                 viewing: int | None = None) -> StudentPath | None:
    """The student's path in one section they are actively enrolled in; None if they are not.

    `viewing` shows another standard's playlist and ways (voice and choice) without changing the focus."""
    sections = _active_sections(session, student, section_id)
    if not sections:
        return None
    section = sections[0]
    on = on or today()
    paths = _load_paths(session, student, sections, on)
    scale = paths.scale
    focus, chosen = paths.focus[section.id]
    units, others, nexts = paths.units[section.id], paths.others[section.id], paths.next[section.id]
    every = {s.id: s for u in units for s in u.standards} | {s.id: s for s in others}
    shown = every.get(viewing) if viewing is not None else None
    shown = shown or focus

    profile = session.scalar(select(LearnerProfile).where(LearnerProfile.student_id == student.id))
    phrases, words = interest_words(profile.interests if profile else "")
    playlist: dict[str, list[PlaylistItem]] = {b: [] for b in ("teacher", *BANDS)}
    ways: list[WayToShow] = []
    if shown is not None:
        activities = list(session.scalars(select(Activity).where(
            Activity.section_id == section.id, Activity.competency_id == shown.id, Activity.deleted_at.is_(None))
            .order_by(Activity.position, Activity.id)))
        ids = [a.id for a in activities]
        assignments = {a.activity_id: a for a in session.scalars(select(ActivityAssignment).where(
            ActivityAssignment.student_id == student.id, ActivityAssignment.activity_id.in_(ids)))}
        picked = {c.activity_id: c for c in session.scalars(select(ActivityChoice).where(
            ActivityChoice.student_id == student.id, ActivityChoice.activity_id.in_(ids)))}
        items = []
        for a in activities:
            matches = interest_matches(split_tags(a.interest_tags), phrases, words)
            source = "teacher" if a.id in assignments else ("interest" if matches else "other")
            items.append(PlaylistItem(a, source, assignments.get(a.id), picked.get(a.id), matches))
        order = {"teacher": 0, "interest": 1, "other": 2}
        items.sort(key=lambda i: (order[i.source], i.assignment.assigned_at if i.assignment else 0,
                                  i.activity.position, i.activity.id))
        for item in items:
            playlist.setdefault("teacher" if item.source == "teacher" else item.activity.band, []).append(item)
        ways = list(session.scalars(select(WayToShow).where(
            WayToShow.section_id == section.id, WayToShow.competency_id == shown.id, WayToShow.deleted_at.is_(None))
            .order_by(WayToShow.position, WayToShow.id)))
    choices = list(session.execute(
        select(ActivityChoice, Activity, Competency).join(Activity, Activity.id == ActivityChoice.activity_id)
        .join(Competency, Competency.id == Activity.competency_id)
        .where(ActivityChoice.student_id == student.id, Activity.section_id == section.id,
               Activity.deleted_at.is_(None))
        .order_by(ActivityChoice.updated_at.desc(), ActivityChoice.id.desc())).all())
    ready = list(session.execute(
        select(ReadyToShow, WayToShow, Competency).join(WayToShow, WayToShow.id == ReadyToShow.way_id)
        .join(Competency, Competency.id == ReadyToShow.competency_id)
        .where(ReadyToShow.student_id == student.id, ReadyToShow.section_id == section.id,
               ReadyToShow.status != "withdrawn")
        .order_by(ReadyToShow.created_at.desc(), ReadyToShow.id.desc()).limit(10)).all())
    for request, _way, _competency in ready:
        if request.status == "open" and request.competency_id in every:
            every[request.competency_id].open_show = request
    assigned = list(session.execute(
        select(ActivityAssignment, Activity, Competency).join(Activity, Activity.id == ActivityAssignment.activity_id)
        .join(Competency, Competency.id == Activity.competency_id)
        .where(ActivityAssignment.student_id == student.id, Activity.section_id == section.id,
               Activity.deleted_at.is_(None))
        .order_by(ActivityAssignment.assigned_at.desc(), ActivityAssignment.id.desc())).all())
    entries = list(session.scalars(select(PortfolioEntry).where(
        PortfolioEntry.student_id == student.id, PortfolioEntry.deleted_at.is_(None))
        .order_by(PortfolioEntry.created_at.desc(), PortfolioEntry.id.desc()).limit(50)))
    return StudentPath(
        section=section, student=student, scale=scale, today=on, units=units, others=others, next=nexts,
        focus=focus, focus_chosen=chosen, band=band_for(shown.level, scale) if shown is not None else None,
        playlist=playlist, ways=ways, choices=choices, ready=ready, entries=entries, assigned=assigned,
        interests=sorted(phrases), viewing=shown)


# ------------------------------------------------------------------ the family's summary

@dataclass
class FamilyPath:
    """One section's path in family words."""

    section: Section
    unit: UnitView | None           # the unit the child is in now
    units: list[UnitView]
    working_on: list[PathStandard]  # the focus first, then the other next skills
    help_at_home: list[tuple[Activity, Competency]]

    @property
    def subject(self) -> str:
        return self.section.subject or self.section.name

    @property
    def pace_words(self) -> str:
        """The pace in family words; between units (the last one done, the next not begun) a child is on track."""
        if self.unit is None:
            return "not started yet"
        status = self.unit.pace.status
        if status == "not_started" and any(u.pace.status == "done" for u in self.units):
            return "on track"
        return "all done" if status == "done" else self.unit.pace_words


@dataclass
class FamilySummary:
    student: User
    paths: list[FamilyPath]

    @property
    def sentence(self) -> Markup:
        """"Ahead in Science, on track in Math": one phrase per pace, subjects joined; as HTML, the subjects
        (the school's words) marked with their language where the page speaks another one."""
        by_words: dict[str, list[str]] = {}
        for p in self.paths:
            if p.unit is None:
                continue
            subjects = by_words.setdefault(p.pace_words, [])
            if p.subject not in subjects:
                subjects.append(p.subject)
        order = ["all done", "ahead", "on track", "not started yet", "behind"]  # strengths first
        mark = written_hook() or escape
        parts = [Markup(escape(_(SUMMARY_PHRASES[words]))) % {
                     "subjects": Markup(escape(_(" and "))).join(Markup(mark(s)) for s in by_words[words])}
                 for words in order if words in by_words]
        text = Markup(", ").join(parts)
        return Markup(text[:1].upper()) + text[1:] if text else Markup("")


def family_summary(session: Session, student: User, sections: list[Section] | None = None, *,
                   on: date | None = None, help_limit: int = 2, next_limit: int = 3) -> FamilySummary:
    """Where the child is on each path, at what pace, what is next and how the family can help: a fixed
    number of queries whatever the number of sections, standards or activities."""
    sections = _active_sections(session, student) if sections is None else sections
    on = on or today()
    if not sections:
        return FamilySummary(student, [])
    paths = _load_paths(session, student, sections, on)
    wanted: dict[int, list[PathStandard]] = {}
    for section in sections:
        focus, _chosen = paths.focus[section.id]
        nexts = [s for s in paths.next[section.id] if s is not focus]
        wanted[section.id] = ([focus] if focus is not None else []) + nexts
    competency_ids = {s.id for ws in wanted.values() for s in ws}
    home: dict[tuple[int, int], list[Activity]] = defaultdict(list)
    for activity in session.scalars(select(Activity).where(
            Activity.section_id.in_([s.id for s in sections]), Activity.competency_id.in_(competency_ids),
            Activity.for_home.is_(True), Activity.deleted_at.is_(None)).order_by(Activity.position, Activity.id)):
        home[(activity.section_id, activity.competency_id)].append(activity)
    out = []
    for section in sections:
        units = paths.units[section.id]
        working = wanted[section.id]
        helps: list[tuple[Activity, Competency]] = []
        for s in working:
            band = band_for(s.level, paths.scale)
            candidates = sorted(home.get((section.id, s.id), []), key=lambda a: a.band != band)
            helps += [(a, s.competency) for a in candidates[:1]]  # the one that suits their level best, per skill
        out.append(FamilyPath(section, current_unit(units, on), units, working[:next_limit], helps[:help_limit]))
    return FamilySummary(student, out)
