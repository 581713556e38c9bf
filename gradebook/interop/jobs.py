"""Long imports in the background: the upload is saved, a job row tracks it, a queue worker runs the importer.

The importer runs in one transaction (a failed import leaves the database as it was; an import whose worker
died is run again from the start and gives the same result). How the job runs, its progress and its lease:
gradebook/interop/queue.py.

The import rule (gradebook/interop/rule.py): an upload first runs as a dry run (options ``mode`` =
``dry_run``) whose report the admin reads; `apply_job` then queues the real import of the same stored file
as a second job (``checked_by`` names the dry run, whose ``followed_by`` names it), with ``skip_rejected``
when the admin chose "import the valid rows and skip the N rejected". The stored file is kept while a job's
outcome leaves that choice open and removed once the file is imported (or fails).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from gradebook.interop import queue
from gradebook.models import ImportJob, User, utcnow
from gradebook.models.jobs import IMPORT_KINDS
from gradebook.services import ServiceError

MAX_IMPORT_BYTES = 50 * 1024 * 1024

Importer = Callable[[Session, bytes, User, dict[str, Any]], Any]


def _importers() -> dict[str, Importer]:
    from gradebook.interop import case_import, oneroster, standards_csv

    def rule(opts: dict[str, Any]) -> dict[str, bool]:
        return {"dry_run": opts.get("mode") == "dry_run", "skip_rejected": bool(opts.get("skip_rejected"))}

    return {
        "case": lambda s, data, actor, opts: case_import.import_case(
            s, data, actor=actor, school_id=opts.get("_school_id"), **rule(opts)),
        "standards_csv": lambda s, data, actor, opts: standards_csv.import_standards_csv(
            s, data, framework_title=opts.get("framework_title") or "", actor=actor,
            filename=opts.get("_filename") or "the spreadsheet", school_id=opts.get("_school_id"), **rule(opts)),
        "oneroster": lambda s, data, actor, opts: oneroster.import_oneroster(
            s, data, actor=actor, progress=opts.get("_progress"), base_url=opts.get("base_url") or None,
            school_ids=[opts["_school_id"]] if opts.get("_school_id") is not None else None, **rule(opts)),
    }


def folder(app: Flask) -> Path:
    path = Path(app.config["UPLOAD_FOLDER"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_job(session: Session, app: Flask, *, kind: str, filename: str, data: bytes, actor: User,
               options: dict[str, Any] | None = None) -> ImportJob:
    if kind not in IMPORT_KINDS:
        raise ServiceError("Choose what kind of file this is.", "kind")
    if not data:
        raise ServiceError("Choose a file to import.", "file")
    if len(data) > MAX_IMPORT_BYTES:
        raise ServiceError(f"That file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.", "file")
    stored = secrets.token_hex(16)
    (folder(app) / stored).write_bytes(data)
    job = ImportJob(kind=kind, filename=Path(filename or "upload").name[:255], stored_name=stored,
                    created_by_id=actor.id, options={"mode": "dry_run", **(options or {})})
    session.add(job)
    session.flush()
    return job


CHECK_KEPT_FOR = timedelta(days=7)


def forget_old_checks(app: Flask, recent: list[ImportJob]) -> None:
    """A checked file nobody imported within a week is removed (its report stays)."""
    for job in recent:
        if job.status == "done" and (job.report or {}).get("outcome") in ("dry_run", "blocked") \
                and utcnow() - job.created_at > CHECK_KEPT_FOR:
            (folder(app) / job.stored_name).unlink(missing_ok=True)


def can_apply(app: Flask, job: ImportJob) -> bool:
    """Whether the admin may now import this checked file: a finished dry run (or a blocked import) whose
    file is still here and that has not been imported since."""
    report = job.report or {}
    return (job.status == "done" and report.get("outcome") in ("dry_run", "blocked")
            and not (job.options or {}).get("followed_by") and (folder(app) / job.stored_name).exists())


def apply_job(session: Session, app: Flask, job: ImportJob, *, actor: User, skip_rejected: bool) -> ImportJob:
    """Queue the real import of a checked file (the dry run's report has been seen)."""
    if not can_apply(app, job):
        raise ServiceError("This file can no longer be imported from here (it was imported already, or its check "
                           "did not finish). Upload it again.")
    rejected = int((job.report or {}).get("rejected_count", 0))
    if rejected and not skip_rejected:
        raise ServiceError(f"This file has {rejected} rejected row(s): fix the file and upload it again, or choose "
                           f"to import the valid rows and skip the {rejected} rejected.")
    options = {**(job.options or {}), "mode": "apply", "skip_rejected": bool(skip_rejected), "checked_by": job.id}
    options.pop("followed_by", None)
    follow = ImportJob(kind=job.kind, filename=job.filename, stored_name=job.stored_name, created_by_id=actor.id,
                       options=options, school_id=job.school_id)
    session.add(follow)
    session.flush()
    job.options = {**(job.options or {}), "followed_by": follow.id}
    return follow


def give_up_if_stale(session: Session, job: ImportJob) -> bool:
    """Before a page shows a job: a job whose worker died is run again or failed (see interop/queue.py)."""
    from flask import current_app

    return queue.check(session, current_app._get_current_object(), job)  # type: ignore[attr-defined]


def progress_of(job: ImportJob) -> tuple[int, str]:
    from flask import current_app

    return queue.progress_of(current_app._get_current_object(), job)  # type: ignore[attr-defined]


def report_as_dict(report: Any) -> dict[str, Any]:
    """An importer's report as JSON for the job row: a summary, facts (label, value), and lists.

    Counters become one fact each ("created: 3 users, 2 sections"); ``rejected`` and ``warnings`` stay
    lists of sentences; ``in_person`` (new accounts without e-mail, whose set-password link the admin makes
    on their page) keep their fields so the page can show them as a table. No link is ever stored here: the
    roster import e-mails them.
    """
    out: dict[str, Any] = {"summary": str(getattr(report, "summary", report)), "facts": [],
                           "lists": {}, "links": [], "outcome": getattr(report, "outcome", "imported"),
                           "rejected_count": len(getattr(report, "rejected", []) or [])}
    if not (dataclasses.is_dataclass(report) and not isinstance(report, type)):
        return out
    for f in dataclasses.fields(report):
        value, label = getattr(report, f.name), f.name.replace("_", " ")
        if out["outcome"] != "imported" and f.name in ("created", "updated", "deactivated"):
            label = "would be " + label  # a forecast: nothing was written
        if f.name in ("outcome", "emails_due", "mail_where", "title", "title_note"):
            continue
        if f.name == "in_person":
            out["in_person"] = [dataclasses.asdict(person) for person in value]
        elif f.name == "framework":
            kept = out["outcome"] == "imported"
            out["framework"] = {"id": getattr(value, "id", None) if kept else None,
                                "title": str(getattr(report, "title", "") or getattr(value, "title", value))}
        elif isinstance(value, dict):
            if value:
                out["facts"].append([label, ", ".join(f"{v} {_noun(k, v)}" for k, v in value.items() if v)])
        elif isinstance(value, (list, tuple)):
            if value:
                out["lists"][label] = [str(v) for v in value][:500]
                if len(value) > 500:
                    out["lists"][label].append(f"… and {len(value) - 500} more")
        elif isinstance(value, bool):
            out["facts"].append([label, "yes" if value else "no"])
        elif isinstance(value, (str, int, float)) and (value or label in ("created", "updated", "unchanged")):
            out["facts"].append([label, value])
    return out


def run_import(session: Session, app: Flask, job: ImportJob, progress: queue.Progress) -> tuple[str, dict[str, Any]]:
    """The body of an import job (run by the queue's worker, which commits): the importer, in one transaction."""
    options = dict(job.options or {})
    progress(10, "Checking the file (dry run)" if options.get("mode") == "dry_run" else "Reading the file")
    data = (folder(app) / job.stored_name).read_bytes()
    actor = session.get(User, job.created_by_id)
    options["_progress"] = progress
    options["_filename"] = job.filename
    # A school admin's import reaches only their school (a district admin's, everything, even with a school
    # picked: the picked school only gets the new framework).
    options["_school_id"] = job.school_id if actor is not None and not actor.district_admin else None
    progress(30, "Checking every row and item")
    report = _importers()[job.kind](session, data, actor, options)  # type: ignore[arg-type]
    progress(90, "Saving")
    framework = getattr(report, "framework", None)
    if job.school_id is not None and options.get("mode") != "dry_run" and getattr(framework, "school_id", 0) is None \
            and framework.created_at >= job.created_at:  # a school admin's new framework is their school's
        framework.school_id = job.school_id
    summary = report_as_dict(report)
    return summary.get("summary", "Imported."), summary


def _remove_upload(app: Flask, job: ImportJob, done: bool) -> None:
    """Once an import has ended for good (not when it will be run again), its upload goes, unless it was a
    finished dry run (or a blocked import) that the admin may still choose to import."""
    if not (done and (job.report or {}).get("outcome") in ("dry_run", "blocked")):
        (folder(app) / job.stored_name).unlink(missing_ok=True)


queue.register(IMPORT_KINDS, run_import, _remove_upload)


def start(app: Flask, job_id: int) -> None:
    """Send the job to the queue (after its row is committed); in tests (immediate mode) it runs at once."""
    queue.enqueue(app, job_id)


def _noun(key: str, count: int) -> str:
    """A count's key as words, singular for one: ("guardian_links", 1) -> "guardian link"."""
    words = key.replace("_", " ")
    return words[:-1] if count == 1 and words.endswith("s") else words
