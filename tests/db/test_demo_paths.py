"""The demo school's learning paths: every section has a realistic path, and its students are ahead, on track
and behind from their evidence, with choices made, so every path screen shows real-looking data at once."""

from __future__ import annotations

from collections import Counter

from flask import Flask
from sqlalchemy import func, select

from gradebook.demo import DEMO_TODAY, seed_demo
from gradebook.extensions import db
from gradebook.models import LearnerProfile, Section, SectionStandard, User
from gradebook.models.paths import (
    Activity,
    ActivityAssignment,
    ActivityChoice,
    PathAdjustment,
    PathFocus,
    PathUnit,
    Prerequisite,
    ReadyToShow,
    WayToShow,
)
from gradebook.services.path_views import family_summary, split_tags
from gradebook.services.paths import class_pacing


def test_the_demo_gives_every_section_a_realistic_path_and_students_at_every_pace(app: Flask) -> None:
    seed_demo(db.session)
    db.session.commit()
    sections = list(db.session.scalars(select(Section).where(Section.closed_at.is_(None)).order_by(Section.id)))  # last year's has none
    interests = {t for p in db.session.scalars(select(LearnerProfile.interests)) for t in split_tags(p)}
    paces: Counter[str] = Counter()
    for section in sections:
        units = list(db.session.scalars(select(PathUnit).where(PathUnit.section_id == section.id)))
        assert 2 <= len(units) <= 3 and all(u.starts_on <= u.target_on for u in units)
        assert db.session.scalar(select(func.count()).where(Prerequisite.section_id == section.id)) >= 3
        standards = db.session.scalars(select(SectionStandard.competency_id)
                                       .where(SectionStandard.section_id == section.id)).all()
        activities = list(db.session.scalars(select(Activity).where(Activity.section_id == section.id)))
        for standard in standards:
            mine = [a for a in activities if a.competency_id == standard]
            assert len(mine) >= 3 and {a.band for a in mine} == {"getting_started", "to_mastery", "beyond"}
            assert db.session.scalar(select(func.count()).where(WayToShow.competency_id == standard,
                                                                WayToShow.section_id == section.id)) >= 2
        assert any(a.for_home for a in activities)
        assert any(set(split_tags(a.interest_tags)) & interests for a in activities)
        pacing = class_pacing(db.session, section, today=DEMO_TODAY)
        paces.update(p.status for row in pacing.rows for p in row.paces)
    assert paces["ahead"] and paces["behind"] and paces["on_track"] and paces["done"], paces

    def count(model, *where) -> int:  # type: ignore[no-untyped-def]
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    assert count(PathFocus) >= 10
    assert count(ActivityChoice, ActivityChoice.status == "done", ActivityChoice.reflection.is_not(None)) >= 5
    assert count(ActivityChoice, ActivityChoice.status == "working") >= 5
    assert count(ReadyToShow, ReadyToShow.status == "open") >= 2
    assert count(ActivityAssignment) >= 1
    assert count(PathAdjustment, PathAdjustment.kind == "target_date", PathAdjustment.reason != "") == 1
    students = db.session.scalars(select(User).where(User.role == "student").order_by(User.id)).all()
    sentences = " / ".join(family_summary(db.session, s, on=DEMO_TODAY).sentence for s in students)
    assert "Ahead in" in sentences and "Behind in" in sentences and "On track in" in sentences
