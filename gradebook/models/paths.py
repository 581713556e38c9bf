"""Learning paths (#12): a section's units and prerequisites, playlists of activities, ways to show, the
student's choices, "ready to show" requests and a teacher's individual adjustments.

Pace and "next" are computed (proficiency/pacing.py) from evidence and the path, never stored here."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from gradebook.models.base import Base, choice, utcnow

PREREQUISITE_SOURCES = ("teacher", "case")
ACTIVITY_KINDS = ("watch", "read", "practice", "make", "discuss", "teacher")
ACTIVITY_BANDS = ("getting_started", "to_mastery", "beyond")
CHOICE_STATUSES = ("chosen", "working", "done")
READY_STATUSES = ("open", "scored", "withdrawn")
ADJUSTMENT_KINDS = ("target_date", "left_out")


class PathUnit(Base):
    """An ordered unit of a section's path: the standards it covers between a start and a target date.
    A section without units behaves as one implicit unit spanning its term (computed, not stored)."""

    __tablename__ = "path_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    starts_on: Mapped[date]
    target_on: Mapped[date]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class PathUnitStandard(Base):
    """A standard covered by a unit, in the unit's order (a standard is in at most one unit of a section)."""

    __tablename__ = "path_unit_standards"
    __table_args__ = (UniqueConstraint("unit_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("path_units.id", ondelete="CASCADE"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)


class Prerequisite(Base):
    """``requires_id`` is a prerequisite of ``competency_id``. ``section_id`` NULL: from the framework (CASE
    ``precedes``), applying in every section that assesses both; set: a teacher's, for that section only."""

    __tablename__ = "prerequisites"
    __table_args__ = (
        UniqueConstraint("competency_id", "requires_id", "section_id"),
        # NULLs are distinct in a unique constraint: framework-wide pairs need their own partial index.
        Index(
            "uq_prerequisites_framework_pair", "competency_id", "requires_id", unique=True,
            sqlite_where=text("section_id IS NULL"), postgresql_where=text("section_id IS NULL"),
        ),
        choice("source", PREREQUISITE_SOURCES, "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    requires_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="teacher")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Activity(Base):
    """One item of a standard's playlist in a section: a link or a file, for a level band."""

    __tablename__ = "activities"
    __table_args__ = (
        choice("kind", ACTIVITY_KINDS, "kind"),
        choice("band", ACTIVITY_BANDS, "band"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2000))
    artifact_id: Mapped[int | None] = mapped_column(ForeignKey("artifacts.id"))
    kind: Mapped[str] = mapped_column(String(20), default="practice")
    minutes: Mapped[int | None]
    band: Mapped[str] = mapped_column(String(20), default="to_mastery")
    for_home: Mapped[bool] = mapped_column(Boolean, default=False)
    interest_tags: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class ActivityAssignment(Base):
    """An activity a teacher assigned to one student ("from your teacher")."""

    __tablename__ = "activity_assignments"
    __table_args__ = (UniqueConstraint("activity_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(300), default="")


class ActivityChoice(Base):
    """A student's pick of an activity, and how far they are with it."""

    __tablename__ = "activity_choices"
    __table_args__ = (
        UniqueConstraint("activity_id", "student_id"),
        choice("status", CHOICE_STATUSES, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="chosen")
    reflection: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class WayToShow(Base):
    """A form a student may choose to demonstrate a standard in a section (test, project, video, …)."""

    __tablename__ = "ways_to_show"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None]


class ReadyToShow(Base):
    """"I'm ready to show": a student's request to demonstrate a standard a chosen way, in the teacher's queue."""

    __tablename__ = "ready_to_show"
    __table_args__ = (choice("status", READY_STATUSES, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"))
    way_id: Mapped[int] = mapped_column(ForeignKey("ways_to_show.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    portfolio_entry_id: Mapped[int | None] = mapped_column(ForeignKey("portfolio_entries.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))


class PathFocus(Base):
    """The standard a student chose to focus on in a section."""

    __tablename__ = "path_focus"
    __table_args__ = (UniqueConstraint("section_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PathAdjustment(Base):
    """A teacher's individual adjustment of one student's path, with a reason: their own target date for a
    unit, or a standard left out of their path. Removed ones keep ``removed_at``."""

    __tablename__ = "path_adjustments"
    __table_args__ = (choice("kind", ADJUSTMENT_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("path_units.id"))
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id"))
    target_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
