from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gradebook.models.base import Base, choice, utcnow
from gradebook.models.frameworks import Competency

ASSESSMENT_KINDS = ("test", "project", "performance_task", "observation", "conversation", "practice")


class Assessment(Base):
    """A task, test, project, observation or conversation, aligned to one or more standards."""

    __tablename__ = "assessments"
    __table_args__ = (choice("kind", ASSESSMENT_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="test")
    assessed_on: Mapped[date]
    description: Mapped[str] = mapped_column(Text, default="")
    counts: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    standards: Mapped[list[Competency]] = relationship(
        secondary="assessment_standards", lazy="raise", order_by=Competency.code
    )

    __mapper_args__ = {"version_id_col": version}


class AssessmentStandard(Base):
    __tablename__ = "assessment_standards"

    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True, index=True)
