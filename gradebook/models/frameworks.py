from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gradebook.models.base import Base, choice, utcnow

FRAMEWORK_KINDS = ("standards", "habits")
HABIT_METHODS = ("mode", "most_recent", "average")  # gradebook.proficiency.HABIT_METHODS


class Framework(Base):
    """A published set of competencies (CASE CFDocument), imported or authored.

    A framework of kind `habits` holds habits of work (responsibility, persistence …): recorded on its own
    scale (`scale_id`) and computed by its own method (`habit_method`), never mixed into achievement."""

    __tablename__ = "frameworks"
    __table_args__ = (choice("kind", FRAMEWORK_KINDS, "kind"),
                      choice("habit_method", HABIT_METHODS, "habit_method"))

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str | None] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(120))
    publisher: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(20), default="authored")
    # The school that brought it (a school admin's import), None: the district's library, every school's.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="standards", server_default="standards")
    scale_id: Mapped[int | None] = mapped_column(ForeignKey("proficiency_scales.id"))
    habit_method: Mapped[str] = mapped_column(String(20), default="mode", server_default="mode")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    competencies: Mapped[list[Competency]] = relationship(back_populates="framework", lazy="raise")


class Competency(Base):
    """A node of a framework tree; leaves are standards that evidence is recorded against."""

    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("framework_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id"), index=True)
    identifier: Mapped[str | None] = mapped_column(String(255))
    code: Mapped[str] = mapped_column(String(80), index=True)
    short_name: Mapped[str | None] = mapped_column(String(255))
    statement: Mapped[str] = mapped_column(Text)
    item_type: Mapped[str | None] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    framework: Mapped[Framework] = relationship(back_populates="competencies", lazy="raise")
    parent: Mapped[Competency | None] = relationship(remote_side=[id], lazy="raise")
    descriptors: Mapped[list[LevelDescriptor]] = relationship(
        back_populates="competency", lazy="raise", order_by="LevelDescriptor.points"
    )

    @property
    def label(self) -> str:
        return f"{self.code} {self.short_name or self.statement}"


class LevelDescriptor(Base):
    """What a given level looks like on one competency; feeds next steps."""

    __tablename__ = "level_descriptors"
    __table_args__ = (UniqueConstraint("competency_id", "points"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"), index=True)
    points: Mapped[float] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)

    competency: Mapped[Competency] = relationship(back_populates="descriptors", lazy="raise")


class Crosswalk(Base):
    """A CASE exactMatchOf (or similar) association between competencies of two frameworks."""

    __tablename__ = "crosswalks"
    __table_args__ = (UniqueConstraint("competency_id", "target_identifier", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"), index=True)
    target_identifier: Mapped[str] = mapped_column(String(255))
    target_competency_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id", ondelete="SET NULL"))
    target_label: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(40), default="exactMatchOf")
