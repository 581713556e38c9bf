from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gradebook.models.base import Base, utcnow
from gradebook.models.frameworks import Competency
from gradebook.models.scale import ProficiencyScale
from gradebook.models.users import User


class District(Base):
    """The installation (one district): the defaults every school follows unless it has its own.

    One row at most. A school's own `default_scale_id` (when set) and `default_policy` (field by field) win
    over these; a section's own scale and policy win over its school's."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    default_scale_id: Mapped[int | None] = mapped_column(ForeignKey("proficiency_scales.id"))
    default_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class School(Base):
    """A school of the installation, with its own defaults (scale and calculation policy) or the district's:
    a null `default_scale_id` and an empty `default_policy` follow the district."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sourced_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    default_scale_id: Mapped[int | None] = mapped_column(ForeignKey("proficiency_scales.id"))
    default_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)

    default_scale: Mapped[ProficiencyScale | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class SchoolMember(Base):
    """Who belongs to which school (a person may belong to several: a teacher teaching in two, a guardian
    with children in two). A school admin sees and changes the people of their schools."""

    __tablename__ = "school_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class Term(Base):
    """A term of one school; `school_id` null: a district-wide term (a roster's academic session), which
    every school's sections may use."""

    __tablename__ = "terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    sourced_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Section(Base):
    """A class a teacher teaches in a term: its standards, scale and calculation policy."""

    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    code: Mapped[str | None] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(120))
    scale_id: Mapped[int | None] = mapped_column(ForeignKey("proficiency_scales.id"))
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sourced_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    term: Mapped[Term] = relationship(lazy="raise")
    teachers: Mapped[list[User]] = relationship(secondary="section_teachers", lazy="raise", order_by=User.name)
    standards: Mapped[list[SectionStandard]] = relationship(
        lazy="raise", order_by="SectionStandard.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class SectionTeacher(Base):
    __tablename__ = "section_teachers"

    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("section_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sourced_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    student: Mapped[User] = relationship(lazy="raise")
    section: Mapped[Section] = relationship(lazy="raise")


class SectionStandard(Base):
    """A standard (leaf competency) that a section assesses, in display order."""

    __tablename__ = "section_standards"

    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    competency: Mapped[Competency] = relationship(lazy="raise")
