from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from gradebook.models.base import Base, choice, utcnow
from gradebook.models.users import User

EVIDENCE_STATUSES = ("scored", "missing", "excused", "not_yet")


class ObservationColumns:
    """The columns an observation of one student shares, whether of a standard (Evidence) or of a habit of work
    (HabitEvidence, its own table: see models/habits.py): who, where, which assessment, the status and score,
    when, who recorded it, its removal (never a hard delete) and its version (no lost update). Each model adds
    its own `competency_id` (indexed on evidence only), its own words and its table's constraints."""

    # sort_order keeps each table's columns in the order its migration made them: these first, then the
    # model's competency_id (-1), then these (-1), the model's own words (0), and the rest (0).
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-2)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, sort_order=-2)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), sort_order=-2)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True, sort_order=-1)
    status: Mapped[str] = mapped_column(String(10), default="scored", sort_order=-1)
    score: Mapped[float | None] = mapped_column(Float, sort_order=-1)
    observed_on: Mapped[date] = mapped_column(sort_order=-1)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805  (a declarative directive)
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    def _snapshot(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "score": self.score,
            "observed_on": self.observed_on.isoformat() if self.observed_on else None,
        }


class Evidence(ObservationColumns, Base):
    """One observation of one student on one standard. Never hard-deleted; every change has a revision."""

    __tablename__ = "evidence"
    __table_args__ = (
        choice("status", EVIDENCE_STATUSES, "status"),
        CheckConstraint("(status = 'scored') = (score IS NOT NULL)", name="score_iff_scored"),
        # One live piece per student, assessment and standard; removed ones (deleted_at) step aside.
        Index(
            "uq_evidence_live_cell",
            "student_id", "assessment_id", "competency_id",
            unique=True,
            sqlite_where=text("deleted_at IS NULL AND assessment_id IS NOT NULL"),
            postgresql_where=text("deleted_at IS NULL AND assessment_id IS NOT NULL"),
        ),
        Index("ix_evidence_lookup", "section_id", "student_id", "competency_id"),
        # The grid's missing-work marks: the live pieces marked missing, without reading the section's evidence.
        Index(
            "ix_evidence_missing",
            "section_id", "student_id", "competency_id",
            sqlite_where=text("status = 'missing' AND deleted_at IS NULL"),
            postgresql_where=text("status = 'missing' AND deleted_at IS NULL"),
        ),
        # Accepting a standard shown in an earlier section is done once per student, section and standard.
        Index(
            "uq_evidence_carried_once",
            "student_id", "section_id", "competency_id",
            unique=True,
            sqlite_where=text("deleted_at IS NULL AND carried_from_section_id IS NOT NULL"),
            postgresql_where=text("deleted_at IS NULL AND carried_from_section_id IS NOT NULL"),
        ),
    )

    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True, sort_order=-1)
    feedback: Mapped[str] = mapped_column(Text, default="")
    is_reassessment: Mapped[bool] = mapped_column(Boolean, default=False)
    # Evidence a teacher accepted from the student's record: the earlier section where the standard was shown.
    carried_from_section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))

    recorded_by: Mapped[User] = relationship(foreign_keys="Evidence.recorded_by_id", lazy="raise")

    def snapshot(self) -> dict[str, Any]:
        return {**self._snapshot(), "feedback": self.feedback, "is_reassessment": self.is_reassessment,
                "deleted": self.deleted_at is not None}


class EvidenceRevision(Base):
    """Who changed a piece of evidence, when, and from what to what."""

    __tablename__ = "evidence_revisions"
    __table_args__ = (choice("action", ("create", "update", "delete", "restore"), "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Artifact(Base):
    """An uploaded file (stored under a random name outside static/), attached to evidence or a portfolio entry."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"), index=True)
    portfolio_entry_id: Mapped[int | None] = mapped_column(ForeignKey("portfolio_entries.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]


class FeedbackReply(Base):
    """A student's answer to feedback, or a reflection on a piece of evidence."""

    __tablename__ = "feedback_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_by_teacher_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(lazy="raise")


class FeedbackRead(Base):
    """When a student first read the feedback on a piece of evidence (unread markers)."""

    __tablename__ = "feedback_reads"

    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReassessmentRequest(Base):
    __tablename__ = "reassessment_requests"
    __table_args__ = (choice("status", ("open", "done", "declined"), "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CommentBankEntry(Base):
    """Reusable feedback a teacher builds as they go, per standard (or general when competency is empty)."""

    __tablename__ = "comment_bank"

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id"))
    body: Mapped[str] = mapped_column(Text)
    uses: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
