"""The grade bridge a school publishes: its decision table from levels to a term grade, and every change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from gradebook.models.base import Base, utcnow


class GradeBridgeTable(Base):
    """One school's published table (``table``: :meth:`gradebook.proficiency.grade_bridge.GradeBridge.to_dict`).

    No row: the school uses the default table. ``version`` refuses a stale save (two admins at once)."""

    __tablename__ = "grade_bridges"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), unique=True)
    table: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class GradeBridgeChange(Base):
    """Each save of a school's table: who, when, the table before and after, and the preview's counts."""

    __tablename__ = "grade_bridge_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
