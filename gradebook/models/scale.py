from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gradebook.models.base import Base


class ProficiencyScale(Base):
    """Ordered levels with points, label and colour; exactly one is the mastery level."""

    __tablename__ = "proficiency_scales"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    allow_decimals: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)

    levels: Mapped[list[ScaleLevel]] = relationship(
        back_populates="scale", lazy="raise", order_by="ScaleLevel.points.desc()", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class ScaleLevel(Base):
    __tablename__ = "scale_levels"
    __table_args__ = (UniqueConstraint("scale_id", "points"), UniqueConstraint("scale_id", "label"))

    id: Mapped[int] = mapped_column(primary_key=True)
    scale_id: Mapped[int] = mapped_column(ForeignKey("proficiency_scales.id", ondelete="CASCADE"), index=True)
    points: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(60))
    colour: Mapped[str] = mapped_column(String(7))
    is_mastery: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")

    scale: Mapped[ProficiencyScale] = relationship(back_populates="levels", lazy="raise")
