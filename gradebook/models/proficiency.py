from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from gradebook.models.base import Base, utcnow


class ProficiencyRecord(Base):
    """Cached computed proficiency of one student on one competency in one section.

    Derived data: rebuilt from evidence alone by `flask gradebook recompute`.
    """

    __tablename__ = "proficiency_records"
    __table_args__ = (UniqueConstraint("student_id", "competency_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"))
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    level_points: Mapped[float | None] = mapped_column(Float)
    evidence_count: Mapped[int] = mapped_column(default=0)
    needed: Mapped[int] = mapped_column(default=0)
    method: Mapped[str] = mapped_column(String(30))
    trend: Mapped[str | None] = mapped_column(String(12))
    last_observed_on: Mapped[date | None]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Override(Base):
    """A teacher's professional judgement replacing a computed level, with a reason. Cleared, never deleted."""

    __tablename__ = "overrides"
    __table_args__ = (
        Index(
            "uq_overrides_live",
            "student_id", "competency_id", "section_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"))
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    level_points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None]
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PolicyChange(Base):
    """A record of each change of calculation policy or scale, with the preview counts shown before it."""

    __tablename__ = "policy_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    # A school's default changed (section_id null); both null: the district's default.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
