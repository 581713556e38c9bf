"""School data in more than one language: scale labels, level descriptors and standard statements."""

from __future__ import annotations

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gradebook.models.base import Base

# What a school may translate: (table, field) pairs.
TRANSLATABLE = {
    ("scale_levels", "label"), ("scale_levels", "description"),
    ("competencies", "statement"), ("competencies", "short_name"),
    ("level_descriptors", "description"),
}


class TextTranslation(Base):
    """One field of one row in one language; where none exists the original shows, marked with its language."""

    __tablename__ = "text_translations"
    __table_args__ = (UniqueConstraint("table_name", "row_id", "field", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[int] = mapped_column(index=True)
    field: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8), index=True)
    text: Mapped[str] = mapped_column(Text)
