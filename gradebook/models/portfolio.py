from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gradebook.models.base import Base, choice, utcnow

VISIBILITIES = ("private", "teachers", "family")
GOAL_STATUSES = ("active", "achieved", "dropped")


class PortfolioEntry(Base):
    """Student-curated work (artifacts + reflection) linked to standards, shared as the student chooses."""

    __tablename__ = "portfolio_entries"
    __table_args__ = (choice("visibility", VISIBILITIES, "visibility"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    reflection: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(10), default="teachers")
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PortfolioEntryStandard(Base):
    __tablename__ = "portfolio_entry_standards"

    entry_id: Mapped[int] = mapped_column(ForeignKey("portfolio_entries.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)


class PortfolioEntryEvidence(Base):
    """A teacher's link between a portfolio entry and a piece of evidence."""

    __tablename__ = "portfolio_entry_evidence"

    entry_id: Mapped[int] = mapped_column(ForeignKey("portfolio_entries.id", ondelete="CASCADE"), primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), primary_key=True)
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Comment(Base):
    """A comment on a portfolio entry or a goal (exactly one of the two)."""

    __tablename__ = "comments"
    __table_args__ = (
        choice("subject_type", ("entry", "goal"), "subject_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Goal(Base):
    """A student's goal on competencies, with steps and a target date (the personal learning plan)."""

    __tablename__ = "goals"
    __table_args__ = (choice("status", GOAL_STATUSES, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    target_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class GoalCompetency(Base):
    __tablename__ = "goal_competencies"

    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)


class GoalStep(Base):
    __tablename__ = "goal_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(default=0)


class LearnerProfile(Base):
    """Strengths, needs, interests and how the student learns best: the student's words and the teacher's."""

    __tablename__ = "learner_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    strengths: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[str] = mapped_column(Text, default="")
    interests: Mapped[str] = mapped_column(Text, default="")
    learns_best: Mapped[str] = mapped_column(Text, default="")
    teacher_notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Narrative(Base):
    """The teacher's narrative on a student for a section, read at conferences."""

    __tablename__ = "narratives"
    __table_args__ = (UniqueConstraint("section_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
