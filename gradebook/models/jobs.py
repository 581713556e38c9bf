from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gradebook.models.base import Base, choice, utcnow

IMPORT_KINDS = ("case", "standards_csv", "oneroster")
# Long work that runs on the job queue: imports, the school-wide recompute after a scale or policy change,
# the whole-school export and a backup.
JOB_KINDS = (*IMPORT_KINDS, "recompute", "export", "backup")
JOB_STATUSES = ("queued", "running", "done", "failed")


class ImportJob(Base):
    """A long job run by a queue worker; the page polls it for progress and can be left and revisited.

    (The table kept its first name, ``import_jobs``; it holds every kind of job.) A worker claims a queued job
    by writing its name into ``worker`` and counting the attempt; while it runs, its heartbeat and progress
    live in the queue's store, which every web worker reads (see gradebook.interop.queue). ``stored_name`` is
    the file the job reads (an upload) or writes (an export, a backup) under the upload folder, "" for none.
    """

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
    # The school the job belongs to (a school admin's), None: the district's (a district admin's).
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(120))  # "host:pid" of the worker that claimed it
    started_at: Mapped[datetime | None]


Job = ImportJob
