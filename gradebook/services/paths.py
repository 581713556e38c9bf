"""Learning paths, the teacher's side (#12): a section's units and prerequisites, playlists of activities,
ways to show, individual adjustments, assigning activities, the "ready to show" queue and the class pacing.

Pace and next are computed here from the live proficiency cache and the path (proficiency/pacing.py), never
stored. Editing a path never touches evidence. Each public write validates everything before writing
anything, and leaves committing to the caller."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from gradebook import authz
from gradebook import proficiency as prof
from gradebook.models import (
    ACTIVITY_BANDS,
    ACTIVITY_KINDS,
    Activity,
    ActivityAssignment,
    Competency,
    Enrollment,
    Evidence,
    PathAdjustment,
    PathUnit,
    PathUnitStandard,
    PortfolioEntry,
    PortfolioEntryEvidence,
    PortfolioEntryStandard,
    Prerequisite,
    ReadyToShow,
    Section,
    SectionStandard,
    SectionTeacher,
    Term,
    User,
    WayToShow,
    utcnow,
)
from gradebook.proficiency.pacing import PACE_RANK, UnitPace, next_standards, unit_pace
from gradebook.services import ServiceError, StaleWrite
from gradebook.services.artifacts import Upload, store_upload
from gradebook.services.evidence import CellValue, record_evidence
from gradebook.services.gradebook import load_cells, section_students
from gradebook.services.proficiency import scale_for

KIND_LABELS = {"watch": "Watch", "read": "Read", "practice": "Practice", "make": "Make", "discuss": "Discuss",
               "teacher": "With the teacher"}
BAND_LABELS = {"getting_started": "Getting started", "to_mastery": "To reach mastery", "beyond": "Going beyond"}
MAX_MINUTES = 600
STALE = "Someone else changed this since you opened it. Reload to see their version, then make your change again."


def _require_teacher(actor: User, section: Section) -> None:
    if not authz.teaches_section(actor, section.id):
        raise ServiceError("Only a teacher of this section can change its path.")


def _clean(text: str | None, *, limit: int, what: str, field_name: str, required: bool = False) -> str:
    value = (text or "").strip()
    if required and not value:
        raise ServiceError(f"Give {what}.", field_name)
    if len(value) > limit:
        raise ServiceError(f"{what[0].upper() + what[1:]} is limited to {limit} characters.", field_name)
    return value


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise StaleWrite(STALE) from None


def _check_version(record: PathUnit | Activity, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise StaleWrite(STALE, current=record)


# ------------------------------------------------------------------ the section's standards and path


def section_standards(session: Session, section_id: int) -> list[Competency]:
    """The standards a section assesses, in the section's order (1 query)."""
    return list(session.scalars(
        select(Competency).join(SectionStandard, SectionStandard.competency_id == Competency.id)
        .where(SectionStandard.section_id == section_id).order_by(SectionStandard.position, Competency.id)))


@dataclass
class Unit:
    """A unit of the effective path. ``id`` is None for the implicit unit of a section without a path."""

    id: int | None
    title: str
    position: int
    starts_on: date
    target_on: date
    standards: list[Competency]
    version: int = 0

    @property
    def implicit(self) -> bool:
        return self.id is None

    @property
    def standard_ids(self) -> list[int]:
        return [s.id for s in self.standards]


@dataclass
class SectionPath:
    section: Section
    units: list[Unit]
    standards: list[Competency]                   # every standard of the section, section order
    unplaced: list[Competency]                    # section standards in no unit (empty for an implicit path)
    prerequisites: dict[int, set[int]]            # standard -> the standards it requires (effective)

    @property
    def implicit(self) -> bool:
        return len(self.units) == 1 and self.units[0].implicit

    @property
    def order(self) -> list[int]:
        """Standard ids in path order: unit by unit, then any standard no unit covers."""
        return [sid for unit in self.units for sid in unit.standard_ids] + [s.id for s in self.unplaced]

    def unit_of(self, competency_id: int) -> Unit | None:
        return next((u for u in self.units if competency_id in u.standard_ids), None)


def _term(session: Session, section: Section) -> Term:
    return session.get(Term, section.term_id)  # type: ignore[return-value]


def section_path(session: Session, section: Section) -> SectionPath:
    """The section's effective path in a fixed number of queries (5): its units in order with their standards,
    or one implicit unit spanning the term with the standards in section order; and its prerequisites."""
    standards = section_standards(session, section.id)
    by_id = {s.id: s for s in standards}
    units_rows = list(session.scalars(select(PathUnit).where(PathUnit.section_id == section.id)
                                      .order_by(PathUnit.position, PathUnit.id)))
    if not units_rows:
        term = _term(session, section)
        units = [Unit(None, "Whole term", 0, term.starts_on, term.ends_on, list(standards))]
        unplaced: list[Competency] = []
    else:
        members: dict[int, list[Competency]] = defaultdict(list)
        placed: set[int] = set()
        for unit_id, competency_id in session.execute(
                select(PathUnitStandard.unit_id, PathUnitStandard.competency_id)
                .join(PathUnit, PathUnit.id == PathUnitStandard.unit_id)
                .where(PathUnit.section_id == section.id)
                .order_by(PathUnitStandard.position, PathUnitStandard.id)):
            if competency_id in by_id:  # a standard the section stopped assessing drops out of the path
                members[unit_id].append(by_id[competency_id])
                placed.add(competency_id)
        units = [Unit(u.id, u.title, u.position, u.starts_on, u.target_on, members[u.id], u.version)
                 for u in units_rows]
        unplaced = [s for s in standards if s.id not in placed]
    return SectionPath(section, units, standards, unplaced, effective_prerequisites(session, section.id, by_id))


def effective_prerequisites(session: Session, section_id: int, standard_ids: Iterable[int] | None = None
                            ) -> dict[int, set[int]]:
    """Prerequisites that apply in a section: the teacher's for it, and the framework's (CASE) between two
    standards the section assesses (1 query, plus 1 when standard_ids is not given)."""
    ids = set(standard_ids) if standard_ids is not None else {
        cid for (cid,) in session.execute(select(SectionStandard.competency_id)
                                          .where(SectionStandard.section_id == section_id))}
    result: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return {}
    for competency_id, requires_id in session.execute(
            select(Prerequisite.competency_id, Prerequisite.requires_id)
            .where(Prerequisite.competency_id.in_(ids), Prerequisite.requires_id.in_(ids),
                   (Prerequisite.section_id == section_id) | Prerequisite.section_id.is_(None))):
        result[competency_id].add(requires_id)
    return dict(result)


@dataclass(frozen=True)
class PrerequisiteRow:
    prerequisite: Prerequisite
    standard: Competency
    requires: Competency

    @property
    def from_framework(self) -> bool:
        return self.prerequisite.section_id is None


def prerequisite_rows(session: Session, section_id: int) -> list[PrerequisiteRow]:
    """Every prerequisite that applies in the section, for the editor (2 queries)."""
    ids = [s.id for s in section_standards(session, section_id)]
    if not ids:
        return []
    rows = list(session.scalars(
        select(Prerequisite).where(Prerequisite.competency_id.in_(ids), Prerequisite.requires_id.in_(ids),
                                   (Prerequisite.section_id == section_id) | Prerequisite.section_id.is_(None))
        .order_by(Prerequisite.id)))
    wanted = {r.competency_id for r in rows} | {r.requires_id for r in rows}
    competencies = {c.id: c for c in session.scalars(select(Competency).where(Competency.id.in_(wanted)))} \
        if wanted else {}
    return [PrerequisiteRow(r, competencies[r.competency_id], competencies[r.requires_id]) for r in rows]


def _section_standard_ids(session: Session, section_id: int) -> list[int]:
    return list(session.scalars(select(SectionStandard.competency_id).where(SectionStandard.section_id == section_id)
                                .order_by(SectionStandard.position)))


def _validate_unit(session: Session, section: Section, *, title: str, starts_on: date | None,
                   target_on: date | None, competency_ids: Sequence[int], unit_id: int | None) -> tuple[str, list[int]]:
    title = _clean(title, limit=200, what="the unit a title", field_name="title", required=True)
    if starts_on is None:
        raise ServiceError("Give the date the unit starts.", "starts_on")
    if target_on is None:
        raise ServiceError("Give the unit's target date.", "target_on")
    if target_on < starts_on:
        raise ServiceError(f"The target date ({target_on:%-d %b %Y}) is before the start ({starts_on:%-d %b %Y}): "
                           "a unit ends after it starts.", "target_on")
    chosen = list(dict.fromkeys(competency_ids))
    if not chosen:
        raise ServiceError("Choose at least one standard for the unit.", "standards")
    allowed = set(_section_standard_ids(session, section.id))
    outside = [cid for cid in chosen if cid not in allowed]
    if outside:
        raise ServiceError("Only standards this section assesses can be in its path.", "standards")
    taken = dict(session.execute(
        select(PathUnitStandard.competency_id, PathUnit.title).join(PathUnit, PathUnit.id == PathUnitStandard.unit_id)
        .where(PathUnit.section_id == section.id, PathUnitStandard.competency_id.in_(chosen),
               PathUnit.id != (unit_id or 0))).all())
    if taken:
        codes = dict(session.execute(select(Competency.id, Competency.code).where(Competency.id.in_(taken))).all())
        first = next(iter(taken))
        raise ServiceError(f"{codes[first]} is already in the unit “{taken[first]}”: a standard is in one unit only. "
                           "Take it out of that unit first.", "standards")
    return title, chosen


def _set_unit_standards(session: Session, unit: PathUnit, chosen: list[int]) -> None:
    current = {row.competency_id: row for row in session.scalars(
        select(PathUnitStandard).where(PathUnitStandard.unit_id == unit.id))}
    for cid, row in current.items():
        if cid not in chosen:
            session.delete(row)
    for position, cid in enumerate(chosen):
        if cid in current:
            current[cid].position = position
        else:
            session.add(PathUnitStandard(unit_id=unit.id, competency_id=cid, position=position))


def create_unit(session: Session, actor: User, section: Section, *, title: str, starts_on: date | None,
                target_on: date | None, competency_ids: Sequence[int]) -> PathUnit:
    """Add a unit at the end of the section's path."""
    _require_teacher(actor, section)
    title, chosen = _validate_unit(session, section, title=title, starts_on=starts_on, target_on=target_on,
                                   competency_ids=competency_ids, unit_id=None)
    last = session.scalar(select(func.max(PathUnit.position)).where(PathUnit.section_id == section.id))
    unit = PathUnit(section_id=section.id, title=title, position=(last + 1) if last is not None else 0,
                    starts_on=starts_on, target_on=target_on)
    session.add(unit)
    session.flush()
    _set_unit_standards(session, unit, chosen)
    session.flush()
    return unit


def unit_or_none(session: Session, section: Section, unit_id: int) -> PathUnit | None:
    unit = session.get(PathUnit, unit_id)
    return unit if unit is not None and unit.section_id == section.id else None


def update_unit(session: Session, actor: User, section: Section, unit: PathUnit, *, title: str,
                starts_on: date | None, target_on: date | None, competency_ids: Sequence[int],
                expected_version: int | None = None) -> PathUnit:
    _require_teacher(actor, section)
    if unit.section_id != section.id:
        raise ServiceError("That unit is not in this section.")
    _check_version(unit, expected_version)
    title, chosen = _validate_unit(session, section, title=title, starts_on=starts_on, target_on=target_on,
                                   competency_ids=competency_ids, unit_id=unit.id)
    unit.title, unit.starts_on, unit.target_on = title, starts_on, target_on  # type: ignore[assignment]
    _set_unit_standards(session, unit, chosen)
    flag_modified(unit, "title")  # the unit row (and its version) is written even when only its standards change
    _flush(session)
    return unit


def move_unit(session: Session, actor: User, section: Section, unit: PathUnit, direction: int) -> None:
    """Move a unit one place earlier (direction -1) or later (+1) in the path."""
    _require_teacher(actor, section)
    units = list(session.scalars(select(PathUnit).where(PathUnit.section_id == section.id)
                                 .order_by(PathUnit.position, PathUnit.id)))
    index = next((i for i, u in enumerate(units) if u.id == unit.id), None)
    if index is None:
        raise ServiceError("That unit is not in this section.")
    other = index + (1 if direction > 0 else -1)
    if 0 <= other < len(units):
        units[index], units[other] = units[other], units[index]
    for position, each in enumerate(units):
        if each.position != position:
            each.position = position
    _flush(session)


def delete_unit(session: Session, actor: User, section: Section, unit: PathUnit) -> None:
    """Remove a unit from the path (its standards become unplaced; evidence is untouched). Own target dates
    given for it are removed with it."""
    _require_teacher(actor, section)
    if unit.section_id != section.id:
        raise ServiceError("That unit is not in this section.")
    now = utcnow()
    for adjustment in session.scalars(select(PathAdjustment).where(PathAdjustment.unit_id == unit.id)):
        adjustment.removed_at = adjustment.removed_at or now
        adjustment.unit_id = None
    for row in session.scalars(select(PathUnitStandard).where(PathUnitStandard.unit_id == unit.id)):
        session.delete(row)
    session.flush()
    session.delete(unit)
    _flush(session)


# ------------------------------------------------------------------ prerequisites


def _requires_graph(session: Session, section_id: int) -> dict[int, set[int]]:
    """Every prerequisite edge that could close a cycle in this section: the section's own and every framework
    (CASE) edge, whichever sections assess them (a cycle through standards outside the section is still one)."""
    graph: dict[int, set[int]] = defaultdict(set)
    for competency_id, requires_id in session.execute(
            select(Prerequisite.competency_id, Prerequisite.requires_id)
            .where((Prerequisite.section_id == section_id) | Prerequisite.section_id.is_(None))):
        graph[competency_id].add(requires_id)
    return graph


def _path_between(graph: dict[int, set[int]], start: int, goal: int) -> list[int] | None:
    """A chain start → … → goal following "requires" edges, if any (breadth first)."""
    previous: dict[int, int | None] = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if node == goal:
            chain = [node]
            while previous[chain[-1]] is not None:
                chain.append(previous[chain[-1]])  # type: ignore[arg-type]
            return list(reversed(chain))
        for nxt in graph.get(node, ()):
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return None


def add_prerequisite(session: Session, actor: User, section: Section, *, competency_id: int | None,
                     requires_id: int | None) -> Prerequisite:
    """The teacher says: before ``competency_id``, a student needs ``requires_id`` (for this section)."""
    _require_teacher(actor, section)
    if competency_id is None or requires_id is None:
        raise ServiceError("Choose both standards: the one that needs a prerequisite, and the prerequisite.",
                           "competency_id")
    allowed = set(_section_standard_ids(session, section.id))
    if competency_id not in allowed or requires_id not in allowed:
        raise ServiceError("Both standards must be ones this section assesses.", "requires_id")
    if competency_id == requires_id:
        raise ServiceError("A standard cannot be its own prerequisite.", "requires_id")
    graph = _requires_graph(session, section.id)
    if requires_id in graph.get(competency_id, set()):
        raise ServiceError("That prerequisite is already there.", "requires_id")
    chain = _path_between(graph, requires_id, competency_id)
    if chain is not None:
        codes = dict(session.execute(select(Competency.id, Competency.code).where(Competency.id.in_(chain))).all())
        loop = " needs ".join(codes.get(c, "?") for c in chain)
        raise ServiceError(f"That would make a circle: {loop}, so neither could ever come first. "
                           "Remove one of those prerequisites first.", "requires_id")
    prerequisite = Prerequisite(competency_id=competency_id, requires_id=requires_id, section_id=section.id,
                                source="teacher")
    session.add(prerequisite)
    session.flush()
    return prerequisite


def remove_prerequisite(session: Session, actor: User, section: Section, prerequisite_id: int) -> None:
    """Remove one of the section's own prerequisites (the framework's come with the standards)."""
    _require_teacher(actor, section)
    prerequisite = session.get(Prerequisite, prerequisite_id)
    if prerequisite is None or prerequisite.section_id != section.id:
        raise ServiceError("Only this section's own prerequisites can be removed here; those from the "
                           "framework come with the standards.")
    session.delete(prerequisite)
    session.flush()


# ------------------------------------------------------------------ playlists (activities)


@dataclass(frozen=True)
class ActivityInput:
    competency_id: int | None
    title: str
    instructions: str = ""
    url: str | None = None
    kind: str = "practice"
    minutes: int | None = None
    band: str = "to_mastery"
    for_home: bool = False
    interest_tags: str = ""


def clean_url(url: str | None) -> str | None:
    """A link for an activity: http or https, with a host. Anything else (javascript:, file:, data:) is refused."""
    value = (url or "").strip()
    if not value:
        return None
    if len(value) > 2000:
        raise ServiceError("That link is longer than 2000 characters.", "url")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in value):
        raise ServiceError("A link must start with http:// or https:// (for example https://example.org/video).",
                           "url")
    return value


def clean_tags(text: str | None) -> str:
    """Interest tags, comma-separated and lower-case, without duplicates."""
    tags = [re.sub(r"\s+", " ", t).strip().lower() for t in (text or "").split(",")]
    joined = ", ".join(dict.fromkeys(t for t in tags if t))
    if len(joined) > 300:
        raise ServiceError("Interest tags are limited to 300 characters.", "interest_tags")
    return joined


def tags_of(activity: Activity) -> list[str]:
    return [t.strip() for t in (activity.interest_tags or "").split(",") if t.strip()]


def _validate_activity(session: Session, section: Section, data: ActivityInput) -> dict[str, object]:
    if data.competency_id is None or data.competency_id not in set(_section_standard_ids(session, section.id)):
        raise ServiceError("Choose a standard this section assesses.", "competency_id")
    if data.kind not in ACTIVITY_KINDS:
        raise ServiceError("Choose what kind of activity it is.", "kind")
    if data.band not in ACTIVITY_BANDS:
        raise ServiceError("Choose the level band the activity suits.", "band")
    if data.minutes is not None and not (0 < data.minutes <= MAX_MINUTES):
        raise ServiceError(f"About how long: between 1 and {MAX_MINUTES} minutes.", "minutes")
    return {
        "competency_id": data.competency_id,
        "title": _clean(data.title, limit=200, what="the activity a title", field_name="title", required=True),
        "instructions": _clean(data.instructions, limit=5000, what="what to do", field_name="instructions"),
        "url": clean_url(data.url),
        "kind": data.kind, "minutes": data.minutes, "band": data.band, "for_home": bool(data.for_home),
        "interest_tags": clean_tags(data.interest_tags),
    }


def _store_activity_file(session: Session, actor: User, upload: Upload | None, folder: str | None) -> int | None:
    if upload is None or not (upload.filename or "").strip():
        return None
    if folder is None:
        raise ServiceError("Files cannot be attached here.", "file")
    # Validated like every upload, by content (an executable or a script is refused). The teacher owns it.
    return store_upload(session, upload, folder=folder, owner_student_id=actor.id, uploaded_by=actor).id


def create_activity(session: Session, actor: User, section: Section, data: ActivityInput, *,
                    upload: Upload | None = None, upload_folder: str | None = None) -> Activity:
    _require_teacher(actor, section)
    values = _validate_activity(session, section, data)
    artifact_id = _store_activity_file(session, actor, upload, upload_folder)
    last = session.scalar(select(func.max(Activity.position)).where(
        Activity.section_id == section.id, Activity.competency_id == data.competency_id))
    activity = Activity(section_id=section.id, artifact_id=artifact_id, created_by=actor.id,
                        position=(last + 1) if last is not None else 0, **values)
    session.add(activity)
    session.flush()
    return activity


def activity_or_none(session: Session, section: Section, activity_id: int) -> Activity | None:
    activity = session.get(Activity, activity_id)
    if activity is None or activity.section_id != section.id or activity.deleted_at is not None:
        return None
    return activity


def update_activity(session: Session, actor: User, section: Section, activity: Activity, data: ActivityInput, *,
                    upload: Upload | None = None, upload_folder: str | None = None, remove_file: bool = False,
                    expected_version: int | None = None) -> Activity:
    _require_teacher(actor, section)
    if activity.section_id != section.id or activity.deleted_at is not None:
        raise ServiceError("That activity is not in this section.")
    _check_version(activity, expected_version)
    values = _validate_activity(session, section, data)
    artifact_id = _store_activity_file(session, actor, upload, upload_folder)
    for key, value in values.items():
        setattr(activity, key, value)
    if artifact_id is not None:
        activity.artifact_id = artifact_id
    elif remove_file:
        activity.artifact_id = None
    _flush(session)
    return activity


def delete_activity(session: Session, actor: User, section: Section, activity: Activity) -> None:
    """Soft delete: students' choices and reflections on it are kept."""
    _require_teacher(actor, section)
    if activity.section_id != section.id:
        raise ServiceError("That activity is not in this section.")
    activity.deleted_at = utcnow()
    _flush(session)


def playlists(session: Session, section_id: int) -> dict[int, list[Activity]]:
    """Every live activity of a section, by standard, in playlist order (1 query)."""
    result: dict[int, list[Activity]] = defaultdict(list)
    for activity in session.scalars(select(Activity).where(Activity.section_id == section_id,
                                                           Activity.deleted_at.is_(None))
                                    .order_by(Activity.position, Activity.id)):
        result[activity.competency_id].append(activity)
    return dict(result)


def other_sections_with_playlists(session: Session, actor: User, section: Section) -> list[tuple[Section, int]]:
    """The actor's other sections that have activities on standards this section assesses, with how many."""
    ids = _section_standard_ids(session, section.id)
    if not ids:
        return []
    query = (select(Section, func.count(Activity.id)).join(Activity, Activity.section_id == Section.id)
             .where(Section.id != section.id, Activity.deleted_at.is_(None), Activity.competency_id.in_(ids))
             .group_by(Section.id).order_by(Section.name))
    if actor.role == "admin" and not actor.district_admin:  # a school admin: this section's school
        query = query.where(Section.school_id == section.school_id)
    elif actor.role != "admin":
        query = query.join(SectionTeacher, SectionTeacher.section_id == Section.id).where(
            SectionTeacher.teacher_id == actor.id)
    return [(s, n) for s, n in session.execute(query).all()]


def copy_playlist(session: Session, actor: User, section: Section, *, from_section_id: int | None,
                  competency_id: int | None = None) -> int:
    """Copy the activities of another of the actor's sections into this one (for the standards both assess, or
    only ``competency_id``). An activity already here with the same title and standard is not copied twice.
    Returns how many were copied."""
    _require_teacher(actor, section)
    source = session.get(Section, from_section_id) if from_section_id else None
    if source is None or source.id == section.id or not authz.teaches_section(actor, source.id):
        raise ServiceError("Choose another of your sections to copy from.", "from_section")
    here = set(_section_standard_ids(session, section.id))
    if competency_id is not None and competency_id not in here:
        raise ServiceError("Choose a standard this section assesses.", "competency_id")
    wanted = {competency_id} if competency_id is not None else here
    existing = {(a.competency_id, a.title.lower()) for a in session.scalars(
        select(Activity).where(Activity.section_id == section.id, Activity.deleted_at.is_(None)))}
    positions = dict(session.execute(
        select(Activity.competency_id, func.max(Activity.position)).where(Activity.section_id == section.id)
        .group_by(Activity.competency_id)).all())
    copied = 0
    for activity in session.scalars(select(Activity).where(
            Activity.section_id == source.id, Activity.deleted_at.is_(None), Activity.competency_id.in_(wanted))
            .order_by(Activity.competency_id, Activity.position, Activity.id)):
        key = (activity.competency_id, activity.title.lower())
        if key in existing:
            continue
        existing.add(key)
        position = positions.get(activity.competency_id, -1) + 1
        positions[activity.competency_id] = position
        session.add(Activity(
            section_id=section.id, competency_id=activity.competency_id, title=activity.title,
            instructions=activity.instructions, url=activity.url, artifact_id=activity.artifact_id,
            kind=activity.kind, minutes=activity.minutes, band=activity.band, for_home=activity.for_home,
            interest_tags=activity.interest_tags, position=position, created_by=actor.id))
        copied += 1
    session.flush()
    return copied


def copy_path(session: Session, source: Section, target: Section, *, shift: timedelta = timedelta(0)) -> int:
    """The rollover's copy of a section's learning path into its successor: the units (their dates moved by
    ``shift``, the distance between the two terms' starts) with their standards, the teacher's prerequisites,
    the playlists (activities not removed, their links and files) and the ways to show. Nothing of the
    students' (assignments, choices, focus, "ready to show", own dates) is copied. Returns the rows written."""
    written = 0
    units = list(session.scalars(select(PathUnit).where(PathUnit.section_id == source.id)
                                 .order_by(PathUnit.position, PathUnit.id)))
    placed: dict[int, list[PathUnitStandard]] = defaultdict(list)
    for row in session.scalars(select(PathUnitStandard).where(PathUnitStandard.unit_id.in_([u.id for u in units]))
                               .order_by(PathUnitStandard.position, PathUnitStandard.id)) if units else []:
        placed[row.unit_id].append(row)
    for unit in units:
        new = PathUnit(section_id=target.id, title=unit.title, position=unit.position,
                       starts_on=unit.starts_on + shift, target_on=unit.target_on + shift)
        session.add(new)
        session.flush()
        for row in placed[unit.id]:
            session.add(PathUnitStandard(unit_id=new.id, competency_id=row.competency_id, position=row.position))
        written += 1 + len(placed[unit.id])
    for pre in session.scalars(select(Prerequisite).where(Prerequisite.section_id == source.id)
                               .order_by(Prerequisite.id)):
        session.add(Prerequisite(competency_id=pre.competency_id, requires_id=pre.requires_id,
                                 section_id=target.id, source=pre.source))
        written += 1
    for a in session.scalars(select(Activity).where(Activity.section_id == source.id, Activity.deleted_at.is_(None))
                             .order_by(Activity.competency_id, Activity.position, Activity.id)):
        session.add(Activity(
            section_id=target.id, competency_id=a.competency_id, title=a.title, instructions=a.instructions,
            url=a.url, artifact_id=a.artifact_id, kind=a.kind, minutes=a.minutes, band=a.band,
            for_home=a.for_home, interest_tags=a.interest_tags, position=a.position, created_by=a.created_by))
        written += 1
    for way in session.scalars(select(WayToShow).where(WayToShow.section_id == source.id,
                                                       WayToShow.deleted_at.is_(None))
                               .order_by(WayToShow.competency_id, WayToShow.position, WayToShow.id)):
        session.add(WayToShow(section_id=target.id, competency_id=way.competency_id, title=way.title,
                              description=way.description, position=way.position))
        written += 1
    session.flush()
    return written


# ------------------------------------------------------------------ ways to show


def _standard_in_section(session: Session, section: Section, competency_id: int | None) -> int:
    if competency_id is None or competency_id not in set(_section_standard_ids(session, section.id)):
        raise ServiceError("That standard is not one this section assesses: ways to show belong to its standards.",
                           "competency_id")
    return competency_id


def ways_to_show(session: Session, section_id: int) -> dict[int, list[WayToShow]]:
    """The live ways to show of a section, by standard (1 query)."""
    result: dict[int, list[WayToShow]] = defaultdict(list)
    for way in session.scalars(select(WayToShow).where(WayToShow.section_id == section_id,
                                                       WayToShow.deleted_at.is_(None))
                               .order_by(WayToShow.position, WayToShow.id)):
        result[way.competency_id].append(way)
    return dict(result)


def add_way_to_show(session: Session, actor: User, section: Section, *, competency_id: int | None, title: str,
                    description: str = "") -> WayToShow:
    _require_teacher(actor, section)
    competency_id = _standard_in_section(session, section, competency_id)
    title = _clean(title, limit=120, what="the way to show a name (Test, Project, Video …)", field_name="title",
                   required=True)
    description = _clean(description, limit=500, what="the description", field_name="description")
    duplicate = session.scalar(select(WayToShow.id).where(
        WayToShow.section_id == section.id, WayToShow.competency_id == competency_id,
        WayToShow.deleted_at.is_(None), func.lower(WayToShow.title) == title.lower()))
    if duplicate is not None:
        raise ServiceError(f"“{title}” is already a way to show this standard.", "title")
    last = session.scalar(select(func.max(WayToShow.position)).where(
        WayToShow.section_id == section.id, WayToShow.competency_id == competency_id))
    way = WayToShow(section_id=section.id, competency_id=competency_id, title=title, description=description,
                    position=(last + 1) if last is not None else 0)
    session.add(way)
    session.flush()
    return way


def remove_way_to_show(session: Session, actor: User, section: Section, way_id: int) -> None:
    """Soft delete: open "ready to show" requests that chose it stay in the queue."""
    _require_teacher(actor, section)
    way = session.get(WayToShow, way_id)
    if way is None or way.section_id != section.id or way.deleted_at is not None:
        raise ServiceError("That way to show is not here any more.")
    way.deleted_at = utcnow()
    session.flush()


# ------------------------------------------------------------------ individual adjustments


def _enrolled(session: Session, section: Section, student_id: int | None) -> int:
    enrolled = student_id is not None and session.scalar(select(Enrollment.id).where(
        Enrollment.section_id == section.id, Enrollment.student_id == student_id, Enrollment.active.is_(True)))
    if not enrolled:
        raise ServiceError("That student is not in this section.", "student")
    return student_id  # type: ignore[return-value]


def live_adjustments(session: Session, section_id: int, student_ids: Sequence[int] | None = None
                     ) -> list[PathAdjustment]:
    """Adjustments in force in a section (for some students), oldest first (1 query)."""
    query = select(PathAdjustment).where(PathAdjustment.section_id == section_id,
                                         PathAdjustment.removed_at.is_(None))
    if student_ids is not None:
        query = query.where(PathAdjustment.student_id.in_(list(student_ids)))
    return list(session.scalars(query.order_by(PathAdjustment.created_at, PathAdjustment.id)))


def _reason(reason: str | None) -> str:
    return _clean(reason, limit=300, what="a reason (an accommodation, a skill shown elsewhere …)",
                  field_name="reason", required=True)


def give_own_target_date(session: Session, actor: User, section: Section, *, student_id: int | None,
                         unit_id: int | None, target_on: date | None, reason: str) -> PathAdjustment:
    """One student's own target date for a unit, with a reason. Replaces an earlier one for that unit."""
    _require_teacher(actor, section)
    student_id = _enrolled(session, section, student_id)
    unit = unit_or_none(session, section, unit_id) if unit_id else None
    if unit is None:
        raise ServiceError("Choose a unit of this section's path (a section without units has no unit dates "
                           "to change yet).", "unit_id")
    if target_on is None:
        raise ServiceError("Give the student's own target date.", "target_on")
    if target_on < unit.starts_on:
        raise ServiceError(f"The target date is before the unit starts ({unit.starts_on:%-d %b %Y}).", "target_on")
    reason = _reason(reason)
    now = utcnow()
    for earlier in session.scalars(select(PathAdjustment).where(
            PathAdjustment.section_id == section.id, PathAdjustment.student_id == student_id,
            PathAdjustment.kind == "target_date", PathAdjustment.unit_id == unit.id,
            PathAdjustment.removed_at.is_(None))):
        earlier.removed_at = now
    adjustment = PathAdjustment(section_id=section.id, student_id=student_id, kind="target_date", unit_id=unit.id,
                                target_on=target_on, reason=reason, created_by=actor.id)
    session.add(adjustment)
    session.flush()
    return adjustment


def leave_out_standard(session: Session, actor: User, section: Section, *, student_id: int | None,
                       competency_id: int | None, reason: str) -> PathAdjustment:
    """Leave a standard out of one student's path, with a reason. Their evidence on it is kept."""
    _require_teacher(actor, section)
    student_id = _enrolled(session, section, student_id)
    if competency_id is None or competency_id not in set(_section_standard_ids(session, section.id)):
        raise ServiceError("Choose a standard this section assesses.", "competency_id")
    reason = _reason(reason)
    already = session.scalar(select(PathAdjustment.id).where(
        PathAdjustment.section_id == section.id, PathAdjustment.student_id == student_id,
        PathAdjustment.kind == "left_out", PathAdjustment.competency_id == competency_id,
        PathAdjustment.removed_at.is_(None)))
    if already is not None:
        raise ServiceError("That standard is already left out of this student's path.", "competency_id")
    adjustment = PathAdjustment(section_id=section.id, student_id=student_id, kind="left_out",
                                competency_id=competency_id, reason=reason, created_by=actor.id)
    session.add(adjustment)
    session.flush()
    return adjustment


def remove_adjustment(session: Session, actor: User, section: Section, adjustment_id: int) -> PathAdjustment:
    _require_teacher(actor, section)
    adjustment = session.get(PathAdjustment, adjustment_id)
    if adjustment is None or adjustment.section_id != section.id or adjustment.removed_at is not None:
        raise ServiceError("That adjustment is not in force any more.")
    adjustment.removed_at = utcnow()
    session.flush()
    return adjustment


# ------------------------------------------------------------------ assigning activities ("from your teacher")


def assign_activities(session: Session, actor: User, section: Section, *, activity_ids: Sequence[int],
                      student_ids: Sequence[int], note: str = "") -> int:
    """Assign activities to students (one, a reteach group, …). An activity already assigned to a student is
    left as it was. Returns how many assignments were added."""
    _require_teacher(actor, section)
    note = _clean(note, limit=300, what="the note", field_name="note")
    activity_ids, student_ids = list(dict.fromkeys(activity_ids)), list(dict.fromkeys(student_ids))
    if not activity_ids:
        raise ServiceError("Choose at least one activity to assign.", "activities")
    if not student_ids:
        raise ServiceError("Choose at least one student.", "students")
    found = set(session.scalars(select(Activity.id).where(Activity.id.in_(activity_ids),
                                                          Activity.section_id == section.id,
                                                          Activity.deleted_at.is_(None))))
    if found != set(activity_ids):
        raise ServiceError("One of those activities is not in this section's playlists.", "activities")
    enrolled = set(session.scalars(select(Enrollment.student_id).where(
        Enrollment.section_id == section.id, Enrollment.student_id.in_(student_ids), Enrollment.active.is_(True))))
    if enrolled != set(student_ids):
        raise ServiceError("One of those students is not in this section.", "students")
    existing = set(session.execute(select(ActivityAssignment.activity_id, ActivityAssignment.student_id).where(
        ActivityAssignment.activity_id.in_(activity_ids), ActivityAssignment.student_id.in_(student_ids))).all())
    added = 0
    for student_id in student_ids:
        for activity_id in activity_ids:
            if (activity_id, student_id) not in existing:
                session.add(ActivityAssignment(activity_id=activity_id, student_id=student_id, assigned_by=actor.id,
                                               note=note))
                added += 1
    session.flush()
    return added


def assign_playlist(session: Session, actor: User, section: Section, *, competency_id: int | None,
                    student_ids: Sequence[int], band: str | None = None, note: str = "") -> int:
    """Assign a standard's whole playlist (or one band of it) to students."""
    if competency_id is None or competency_id not in set(_section_standard_ids(session, section.id)):
        raise ServiceError("Choose a standard this section assesses.", "competency_id")
    query = select(Activity.id).where(Activity.section_id == section.id, Activity.competency_id == competency_id,
                                      Activity.deleted_at.is_(None))
    if band:
        query = query.where(Activity.band == band)
    ids = list(session.scalars(query.order_by(Activity.position)))
    if not ids:
        raise ServiceError("That standard has no activities to assign yet: add some to its playlist first.",
                           "competency_id")
    return assign_activities(session, actor, section, activity_ids=ids, student_ids=student_ids, note=note)


def below_mastery_groups(session: Session, section: Section, competency_id: int) -> list[tuple[prof.Level, list[User]]]:
    """The reteach groups of a standard: students below mastery, by level, lowest first (a fixed number of
    queries), so a teacher can assign activities to one group in a click."""
    scale = scale_for(session, section)
    cells = load_cells(session, section, scale, competency_ids=[competency_id])
    by_points: dict[float, list[User]] = defaultdict(list)
    for student in section_students(session, section.id):
        cell = cells.get((student.id, competency_id))
        if cell is not None and cell.level is not None and cell.level.points < scale.mastery.points:
            by_points[cell.level.points].append(student)
    return [(level, by_points[level.points]) for level in sorted(scale.levels, key=lambda lv: lv.points)
            if level.points in by_points]


def unassign_activity(session: Session, actor: User, section: Section, assignment_id: int) -> None:
    _require_teacher(actor, section)
    assignment = session.get(ActivityAssignment, assignment_id)
    activity = session.get(Activity, assignment.activity_id) if assignment else None
    if assignment is None or activity is None or activity.section_id != section.id:
        raise ServiceError("That assignment is not here any more.")
    session.delete(assignment)
    session.flush()


def assignments_for(session: Session, section_id: int, student_id: int) -> list[tuple[ActivityAssignment, Activity]]:
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(ActivityAssignment, Activity).join(Activity, Activity.id == ActivityAssignment.activity_id)
        .where(Activity.section_id == section_id, ActivityAssignment.student_id == student_id,
               Activity.deleted_at.is_(None)).order_by(ActivityAssignment.assigned_at))]


# ------------------------------------------------------------------ the "ready to show" queue


@dataclass(frozen=True)
class QueueItem:
    request: ReadyToShow
    student: User
    standard: Competency
    way: WayToShow
    entry: PortfolioEntry | None


def ready_queue(session: Session, section_id: int) -> list[QueueItem]:
    """Open "ready to show" requests of a section, oldest first; withdrawn and scored ones are not shown (1 query)."""
    rows = session.execute(
        select(ReadyToShow, User, Competency, WayToShow, PortfolioEntry)
        .join(User, User.id == ReadyToShow.student_id)
        .join(Competency, Competency.id == ReadyToShow.competency_id)
        .join(WayToShow, WayToShow.id == ReadyToShow.way_id)
        .outerjoin(PortfolioEntry, (PortfolioEntry.id == ReadyToShow.portfolio_entry_id)
                   & PortfolioEntry.deleted_at.is_(None) & (PortfolioEntry.visibility != "private"))
        .where(ReadyToShow.section_id == section_id, ReadyToShow.status == "open")
        .order_by(ReadyToShow.created_at, ReadyToShow.id)).all()
    return [QueueItem(*row) for row in rows]


def ready_counts(session: Session, section_ids: Sequence[int]) -> dict[int, int]:
    """Open "ready to show" requests per section, for the landing page (1 query)."""
    if not section_ids:
        return {}
    return dict(session.execute(
        select(ReadyToShow.section_id, func.count()).where(ReadyToShow.section_id.in_(list(section_ids)),
                                                          ReadyToShow.status == "open")
        .group_by(ReadyToShow.section_id)).all())


def score_ready_request(session: Session, actor: User, section: Section, request_id: int, *, value: CellValue,
                        observed_on: date | None, feedback: str | None = None) -> Evidence:
    """Score a "ready to show": records evidence (a reassessment, with its revision and the proficiency
    refresh), links the portfolio entry the student brought, and closes the request."""
    _require_teacher(actor, section)
    item = session.get(ReadyToShow, request_id)
    if item is None or item.section_id != section.id or item.status != "open":
        raise ServiceError("That request is not waiting any more: it was scored or withdrawn.")
    evidence = record_evidence(session, actor, section=section, student_id=item.student_id,
                               competency_id=item.competency_id, value=value, observed_on=observed_on,
                               feedback=feedback, is_reassessment=True)
    if item.portfolio_entry_id is not None:
        entry = session.get(PortfolioEntry, item.portfolio_entry_id)
        if entry is not None and entry.deleted_at is None and entry.student_id == item.student_id:
            linked = session.get(PortfolioEntryEvidence, (entry.id, evidence.id))
            if linked is None:
                session.add(PortfolioEntryEvidence(entry_id=entry.id, evidence_id=evidence.id, linked_by_id=actor.id))
            if session.get(PortfolioEntryStandard, (entry.id, item.competency_id)) is None:
                session.add(PortfolioEntryStandard(entry_id=entry.id, competency_id=item.competency_id))
    item.status, item.closed_at, item.closed_by, item.evidence_id = "scored", utcnow(), actor.id, evidence.id
    session.flush()
    return evidence


# ------------------------------------------------------------------ pace


@dataclass(frozen=True)
class StudentAdjustments:
    own_targets: dict[int, PathAdjustment] = field(default_factory=dict)   # unit id -> adjustment
    left_out: dict[int, PathAdjustment] = field(default_factory=dict)      # competency id -> adjustment


def adjustments_by_student(adjustments: Iterable[PathAdjustment]) -> dict[int, StudentAdjustments]:
    result: dict[int, StudentAdjustments] = defaultdict(StudentAdjustments)
    for adjustment in adjustments:
        mine = result[adjustment.student_id]
        if adjustment.kind == "target_date" and adjustment.unit_id is not None:
            mine.own_targets[adjustment.unit_id] = adjustment  # the latest wins
        elif adjustment.kind == "left_out" and adjustment.competency_id is not None:
            mine.left_out[adjustment.competency_id] = adjustment
    return dict(result)


def pace_of(unit: Unit, *, today: date, mastered: set[int], adjustments: StudentAdjustments | None,
            mastery_label: str) -> UnitPace:
    """One student's pace in one unit of the effective path (pure once the data is loaded)."""
    adjustments = adjustments or StudentAdjustments()
    own = adjustments.own_targets.get(unit.id) if unit.id is not None else None
    return unit_pace(today=today, starts_on=unit.starts_on, target_on=unit.target_on,
                     mastered=[sid in mastered for sid in unit.standard_ids],
                     left_out=[sid in adjustments.left_out for sid in unit.standard_ids],
                     own_target_on=own.target_on if own else None, mastery_label=mastery_label)


@dataclass
class PacingRow:
    student: User
    paces: list[UnitPace]
    next: list[int]
    adjustments: StudentAdjustments

    @property
    def behind(self) -> bool:
        return any(p.status == "behind" for p in self.paces)

    @property
    def worst(self) -> int:
        return min((PACE_RANK[p.status] for p in self.paces), default=PACE_RANK["on_track"])


@dataclass
class ClassPacing:
    path: SectionPath
    scale: prof.Scale
    today: date
    rows: list[PacingRow]

    @property
    def units(self) -> list[Unit]:
        return self.path.units

    def counts(self, unit_index: int) -> dict[str, int]:
        result: dict[str, int] = defaultdict(int)
        for row in self.rows:
            result[row.paces[unit_index].status] += 1
        return dict(result)


PACING_SORTS = ("name", "pace")


def mastered_ids(cells: dict[tuple[int, int], object], student_id: int, mastery_points: float) -> set[int]:
    return {cid for (sid, cid), cell in cells.items()
            if sid == student_id and cell.level is not None and cell.level.points >= mastery_points}  # type: ignore[attr-defined]


def class_pacing(session: Session, section: Section, *, today: date | None = None, sort: str = "name",
                 behind_only: bool = False, unit_id: int | None = None) -> ClassPacing:
    """Students × units, each cell the pace from the live proficiency cache (overrides included), in a fixed
    number of queries whatever the class size and path length. ``sort``: "name" or "pace" (the worst pace
    first; with ``unit_id``, that unit's). ``behind_only``: students behind in some unit (or in ``unit_id``)."""
    today = today or date.today()
    scale = scale_for(session, section)
    path = section_path(session, section)
    students = section_students(session, section.id)
    cells = load_cells(session, section, scale, competency_ids=path.order or [0])
    adjustments = adjustments_by_student(live_adjustments(session, section.id))
    mastery = scale.mastery
    by_student: dict[int, set[int]] = defaultdict(set)
    for (sid, cid), cell in cells.items():
        if cell.level is not None and cell.level.points >= mastery.points:
            by_student[sid].add(cid)
    rows = []
    for student in students:
        mine = adjustments.get(student.id, StudentAdjustments())
        done = by_student.get(student.id, set())
        paces = [pace_of(u, today=today, mastered=done, adjustments=mine, mastery_label=mastery.label)
                 for u in path.units]
        rows.append(PacingRow(student, paces, next_standards(path.order, done, path.prerequisites,
                                                             set(mine.left_out)), mine))
    index = next((i for i, u in enumerate(path.units) if u.id == unit_id), None) if unit_id else None
    if behind_only:
        rows = [r for r in rows if (r.paces[index].status == "behind" if index is not None else r.behind)]
    if sort == "pace":
        if index is not None:
            rows.sort(key=lambda r: (PACE_RANK[r.paces[index].status], r.paces[index].at_mastery, r.student.name))
        else:
            rows.sort(key=lambda r: (r.worst, sum(p.at_mastery for p in r.paces), r.student.name))
    return ClassPacing(path, scale, today, rows)


def term_bounds(session: Session, section: Section) -> tuple[date, date]:
    term = _term(session, section)
    return term.starts_on, term.ends_on


def suggested_dates(session: Session, section: Section) -> tuple[date, date]:
    """Dates to prefill a new unit with: from the day after the last unit's target (or the term's start), for
    three weeks, kept inside the term when it can be."""
    start, end = term_bounds(session, section)
    last = session.scalar(select(func.max(PathUnit.target_on)).where(PathUnit.section_id == section.id))
    if last is not None:
        start = last + timedelta(days=1)
    target = start + timedelta(days=20)
    if start <= end < target:
        target = end
    return start, target
