"""Builders for learning paths in tests: units, prerequisites, playlists and ways to show, written straight to
the tables (the teacher-side services have their own tests)."""

from __future__ import annotations

from datetime import date

from gradebook.extensions import db
from gradebook.models import Competency
from gradebook.models.paths import (
    Activity,
    ActivityAssignment,
    PathAdjustment,
    PathUnit,
    PathUnitStandard,
    Prerequisite,
    WayToShow,
)
from tests.builders import SectionWorld


def make_unit(world: SectionWorld, standards: list[Competency], title: str = "Unit", position: int = 0,
              starts_on: date = date(2026, 9, 1), target_on: date = date(2026, 10, 30)) -> PathUnit:
    unit = PathUnit(section_id=world.section.id, title=title, position=position, starts_on=starts_on,
                    target_on=target_on)
    db.session.add(unit)
    db.session.flush()
    for i, standard in enumerate(standards):
        db.session.add(PathUnitStandard(unit_id=unit.id, competency_id=standard.id, position=i))
    db.session.commit()
    return unit


def make_prerequisite(world: SectionWorld, standard: Competency, requires: Competency,
                      framework: bool = False) -> Prerequisite:
    row = Prerequisite(competency_id=standard.id, requires_id=requires.id,
                       section_id=None if framework else world.section.id, source="case" if framework else "teacher")
    db.session.add(row)
    db.session.commit()
    return row


def make_activity(world: SectionWorld, standard: Competency, title: str = "Activity", band: str = "to_mastery",
                  kind: str = "practice", for_home: bool = False, tags: str = "", position: int = 0,
                  url: str | None = "https://example.org/activity", minutes: int | None = 15) -> Activity:
    activity = Activity(section_id=world.section.id, competency_id=standard.id, title=title,
                        instructions=f"Do {title.lower()}.", url=url, kind=kind, minutes=minutes, band=band,
                        for_home=for_home, interest_tags=tags, position=position, created_by=world.teacher.id)
    db.session.add(activity)
    db.session.commit()
    return activity


def make_way(world: SectionWorld, standard: Competency, title: str = "Conversation", position: int = 0) -> WayToShow:
    way = WayToShow(section_id=world.section.id, competency_id=standard.id, title=title,
                    description=f"Show it by {title.lower()}.", position=position)
    db.session.add(way)
    db.session.commit()
    return way


def assign(world: SectionWorld, activity: Activity, student_id: int, note: str = "") -> ActivityAssignment:
    row = ActivityAssignment(activity_id=activity.id, student_id=student_id, assigned_by=world.teacher.id, note=note)
    db.session.add(row)
    db.session.commit()
    return row


def adjust(world: SectionWorld, student_id: int, kind: str, reason: str, unit: PathUnit | None = None,
           standard: Competency | None = None, target_on: date | None = None) -> PathAdjustment:
    row = PathAdjustment(section_id=world.section.id, student_id=student_id, kind=kind,
                         unit_id=unit.id if unit else None, competency_id=standard.id if standard else None,
                         target_on=target_on, reason=reason, created_by=world.teacher.id)
    db.session.add(row)
    db.session.commit()
    return row


def make_path(world: SectionWorld, per_unit: int, units: int = 2, activities: int = 3) -> list[PathUnit]:
    """`units` units of `per_unit` standards each (the section needs units × per_unit standards), each standard
    requiring the one before it, with one activity per band (the first for home) and two ways to show."""
    made = []
    for u in range(units):
        standards = world.standards[u * per_unit:(u + 1) * per_unit]
        made.append(make_unit(world, standards, title=f"Unit {u + 1}", position=u,
                              starts_on=date(2026, 9, 1 + 7 * u), target_on=date(2026, 10, 30 + u)))
    bands = ("getting_started", "to_mastery", "beyond")
    for i, standard in enumerate(world.standards[:units * per_unit]):
        if i:
            make_prerequisite(world, standard, world.standards[i - 1])
        for k in range(activities):
            make_activity(world, standard, title=f"Activity {i + 1}.{k + 1}", band=bands[k % 3], for_home=k == 0,
                          tags="drawing" if k == 1 else "", position=k)
        make_way(world, standard, "Conversation", 0)
        make_way(world, standard, "Project", 1)
    return made
