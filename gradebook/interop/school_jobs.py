"""The school-wide jobs besides imports: the recompute after a scale or policy change, the whole-school export
and a backup. Each is a body for the queue (gradebook/interop/queue.py): it works in the session it is given,
reports progress, and leaves the commit to the runner. Each is idempotent: run again after a crash, it gives
the same result (the recompute rebuilds the cache from evidence; the files are written whole under a
temporary name, then renamed)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook.interop import queue
from gradebook.models import Job, School, Section, User
from gradebook.services import ServiceError

TITLES = {"recompute": "Recompute every section's levels", "export": "School export",
          "backup": "Backup"}
DOWNLOAD_NAMES = {"export": "gradebook-school-export.zip", "backup": "gradebook-backup.zip"}


def folder(app: Flask) -> Path:
    path = Path(app.config["UPLOAD_FOLDER"]) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def create(session: Session, *, kind: str, actor: User, reason: str = "", school_id: int | None = None) -> Job:
    """A queued job of one of these kinds (commit, then queue.enqueue). ``school_id``: the school it belongs to
    (a recompute then touches only that school's sections); None: the district's."""
    if kind not in TITLES:
        raise ServiceError("That is not a job this page can start.")
    stored = secrets.token_hex(16) + ".zip" if kind in DOWNLOAD_NAMES else ""
    filename = DOWNLOAD_NAMES.get(kind, TITLES[kind])
    if kind == "export" and school_id is not None:
        filename = f"gradebook-school-{school_id}-export.zip"
    job = Job(kind=kind, filename=filename, stored_name=stored,
              created_by_id=actor.id, options={"reason": reason[:200]} if reason else {}, school_id=school_id)
    session.add(job)
    session.flush()
    return job


def run_recompute(session: Session, app: Flask, job: Job, progress: queue.Progress) -> tuple[str, dict[str, Any]]:
    from gradebook.services.proficiency import RecomputeReport, compute_section, store

    query = select(Section).order_by(Section.id)
    if job.school_id is not None:  # a school's scale or policy changed: only its sections
        query = query.where(Section.school_id == job.school_id)
    sections = list(session.scalars(query))
    report = RecomputeReport()
    for done, section in enumerate(sections):
        progress(5 + 90 * done // max(1, len(sections)), f"Section {done + 1} of {len(sections)}")
        store(session, section, compute_section(session, section), report=report)
    message = " ".join((
        ngettext("Recomputed %(num)d cached result", "Recomputed %(num)d cached results", report.rows),
        ngettext("in %(num)d section;", "in %(num)d sections;", len(sections)),
        ngettext("%(num)d changed level.", "%(num)d changed level.", len(report.changed)),
        "No evidence was touched."))
    return message, {"summary": message, "facts": [["sections", len(sections)], ["results", report.rows],
                                                   ["changed level", len(report.changed)]],
                     "lists": {}, "links": []}


def run_export(session: Session, app: Flask, job: Job, progress: queue.Progress) -> tuple[str, dict[str, Any]]:
    from gradebook.interop.backup import write_atomically
    from gradebook.interop.export import school_zip

    school_ids = [job.school_id] if job.school_id is not None else None  # None: the whole district
    with write_atomically(folder(app) / job.stored_name) as output:
        counts = school_zip(session, output=output, files_folder=app.config["UPLOAD_FOLDER"], progress=progress,
                            school_ids=school_ids)
    school = session.get(School, job.school_id) if job.school_id is not None else None
    message = " ".join((
        f"{school.name}'s export is ready to download:" if school is not None
        else "The whole district's export is ready to download:",
        ngettext("%(num)d row", "%(num)d rows", sum(counts.values())),
        ngettext("from %(num)d table", "from %(num)d tables", len(counts)),
        ngettext("and %(num)d file.", "and %(num)d files.", counts.files)))
    return message, {"summary": message, "facts": [], "lists": {}, "links": []}


def run_backup(session: Session, app: Flask, job: Job, progress: queue.Progress) -> tuple[str, dict[str, Any]]:
    from gradebook.interop.backup import backup

    summary = backup(session, folder(app) / job.stored_name, files_folder=app.config["UPLOAD_FOLDER"],
                     progress=progress)
    message = (f"The backup is ready to download: {sum(summary.values())} rows and "
               f"{summary.files} files ({summary.file_bytes / 1024 / 1024:.1f} MB).")
    lists = {"missing files": summary.missing} if summary.missing else {}
    return message, {"summary": message, "facts": [], "lists": lists, "links": []}


def _remove_failed_output(app: Flask, job: Job, done: bool) -> None:
    if not done and job.stored_name:
        (folder(app) / job.stored_name).unlink(missing_ok=True)


def output_path(app: Flask, job: Job) -> Path | None:
    """The finished file of an export or backup job, if it is still there."""
    if job.kind not in DOWNLOAD_NAMES or job.status != "done" or not job.stored_name:
        return None
    path = folder(app) / job.stored_name
    return path if path.is_file() else None


queue.register(("recompute",), run_recompute)
queue.register(("export", "backup"), run_export, _remove_failed_output)
queue.register(("backup",), run_backup, _remove_failed_output)
