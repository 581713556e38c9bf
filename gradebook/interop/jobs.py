"""Long imports in the background: the upload is saved, a job row tracks it, a queue worker runs the importer.

The importer runs in one transaction (a failed import leaves the database as it was; an import whose worker
died is run again from the start and gives the same result). How the job runs, its progress and its lease:
gradebook/interop/queue.py.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from gradebook.interop import queue
from gradebook.models import ImportJob, User
from gradebook.models.jobs import IMPORT_KINDS
from gradebook.services import ServiceError

MAX_IMPORT_BYTES = 50 * 1024 * 1024

Importer = Callable[[Session, bytes, User, dict[str, Any]], Any]


def _importers() -> dict[str, Importer]:
    from gradebook.interop import case_import, oneroster, standards_csv

    return {
        "case": lambda s, data, actor, _opts: case_import.import_case(s, data, actor=actor),
        "standards_csv": lambda s, data, actor, opts: standards_csv.import_standards_csv(
            s, data, framework_title=opts.get("framework_title") or "Imported standards", actor=actor),
        "oneroster": lambda s, data, actor, opts: oneroster.import_oneroster(
            s, data, actor=actor, progress=opts.get("_progress")),
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
                    created_by_id=actor.id, options=options or {})
    session.add(job)
    session.flush()
    return job


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
    lists of sentences; set-password ``links`` keep their fields so the page can show them as a table.
    """
    out: dict[str, Any] = {"summary": str(getattr(report, "summary", report)), "facts": [],
                           "lists": {}, "links": []}
    if not (dataclasses.is_dataclass(report) and not isinstance(report, type)):
        return out
    for f in dataclasses.fields(report):
        value, label = getattr(report, f.name), f.name.replace("_", " ")
        if f.name == "links":
            out["links"] = [dataclasses.asdict(link) if dataclasses.is_dataclass(link) else {"path": str(link)}
                            for link in value]
        elif f.name == "framework":
            out["framework"] = {"id": getattr(value, "id", None), "title": str(getattr(value, "title", value))}
        elif isinstance(value, dict):
            if value:
                out["facts"].append([label, ", ".join(f"{v} {_noun(k, v)}" for k, v in value.items() if v)])
        elif isinstance(value, (list, tuple)):
            if value:
                out["lists"][label] = [str(v) for v in value][:500]
        elif isinstance(value, bool):
            out["facts"].append([label, "yes" if value else "no"])
        elif isinstance(value, (str, int, float)) and (value or label in ("created", "updated", "unchanged")):
            out["facts"].append([label, value])
    return out


def run_import(session: Session, app: Flask, job: ImportJob, progress: queue.Progress) -> tuple[str, dict[str, Any]]:
    """The body of an import job (run by the queue's worker, which commits): the importer, in one transaction."""
    progress(10, "Reading the file")
    data = (folder(app) / job.stored_name).read_bytes()
    actor = session.get(User, job.created_by_id)
    options = dict(job.options or {})
    options["_progress"] = progress
    progress(30, "Checking every row and item")
    report = _importers()[job.kind](session, data, actor, options)  # type: ignore[arg-type]
    progress(90, "Saving")
    summary = report_as_dict(report)
    return summary.get("summary", "Imported."), summary


def _remove_upload(app: Flask, job: ImportJob, _done: bool) -> None:
    """Once an import has ended for good (not when it will be run again), its upload goes."""
    (folder(app) / job.stored_name).unlink(missing_ok=True)


queue.register(IMPORT_KINDS, run_import, _remove_upload)


def start(app: Flask, job_id: int) -> None:
    """Send the job to the queue (after its row is committed); in tests (immediate mode) it runs at once."""
    queue.enqueue(app, job_id)


def _noun(key: str, count: int) -> str:
    """A count's key as words, singular for one: ("guardian_links", 1) -> "guardian link"."""
    words = key.replace("_", " ")
    return words[:-1] if count == 1 and words.endswith("s") else words
