from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gradebook.models.base import Base, choice, utcnow

JOB_KINDS = ("case", "standards_csv", "oneroster")
JOB_STATUSES = ("queued", "running", "done", "failed")


class ImportJob(Base):
    """A long import, run in the background; the page polls it for progress and can be left and revisited."""

    __tablename__ = "import_jobs"
    __table_args__ = (choice("kind", JOB_KINDS, "kind"), choice("status", JOB_STATUSES, "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(200), default="Waiting to start")
    message: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stored_name: Mapped[str] = mapped_column(String(80))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
