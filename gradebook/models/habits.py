from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gradebook.models.base import Base, choice, utcnow
from gradebook.models.evidence import ObservationColumns

# A habit is scored on its scale, or marked missing / late / excused (visible states, never a level).
HABIT_STATUSES = ("scored", "missing", "late", "excused")


class SectionHabit(Base):
    """A habit of work (a competency of a framework of kind `habits`) that a section tracks, in display order."""

    __tablename__ = "section_habits"

    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class HabitEvidence(ObservationColumns, Base):
    """One observation of one student on one habit of work. Kept apart from achievement evidence by its own
    table, so nothing that computes a level, a roll-up, a pace or a grade can read it. Never hard-deleted;
    every change has a revision."""

    __tablename__ = "habit_evidence"
    __table_args__ = (
        choice("status", HABIT_STATUSES, "status"),
        CheckConstraint("(status = 'scored') = (score IS NOT NULL)", name="score_iff_scored"),
        Index(
            "uq_habit_evidence_live_cell",
            "student_id", "assessment_id", "competency_id",
            unique=True,
            sqlite_where=text("deleted_at IS NULL AND assessment_id IS NOT NULL"),
            postgresql_where=text("deleted_at IS NULL AND assessment_id IS NOT NULL"),
        ),
        Index("ix_habit_evidence_lookup", "section_id", "student_id", "competency_id"),
    )

    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), sort_order=-1)
    note: Mapped[str] = mapped_column(Text, default="")

    def snapshot(self) -> dict[str, Any]:
        return {**self._snapshot(), "note": self.note, "deleted": self.deleted_at is not None}


class HabitRevision(Base):
    """Who changed a habit observation, when, and from what to what."""

    __tablename__ = "habit_revisions"
    __table_args__ = (choice("action", ("create", "update", "delete", "restore"), "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    habit_evidence_id: Mapped[int] = mapped_column(ForeignKey("habit_evidence.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)
