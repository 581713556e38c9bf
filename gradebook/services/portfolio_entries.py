"""A student's portfolio entries: add, edit, re-share, remove and bring back, each change in the audit log.

Who may see an entry is the student's choice and can be taken back: a change of visibility is a change of
who may see what, and like every edit and removal it writes an audit row (who, when, what it was, what it
became). Removal is soft (``deleted_at``) and can be undone; the entry's files stay with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gradebook.models import VISIBILITIES, Artifact, PortfolioEntry, PortfolioEntryStandard, User, utcnow
from gradebook.proficiency._i18n import N_, _
from gradebook.services import ServiceError, StaleWrite
from gradebook.services.artifacts import Upload, store_upload
from gradebook.services.audit import record_change

MAX_FILES = 10
WHO_SEES = {"private": N_("only you see it"), "teachers": N_("you and your teachers see it"),
            "family": N_("your teachers and your family see it")}


def _snapshot(entry: PortfolioEntry, standard_ids: Iterable[int]) -> dict[str, Any]:
    return {"title": entry.title, "reflection": entry.reflection, "visibility": entry.visibility,
            "featured": entry.featured, "standards": sorted(standard_ids),
            "removed": entry.deleted_at is not None}


def _standard_ids(session: Session, entry_id: int) -> list[int]:
    return list(session.scalars(select(PortfolioEntryStandard.competency_id)
                                .where(PortfolioEntryStandard.entry_id == entry_id)))


def _check(title: str, visibility: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ServiceError(_("Give your work a title."), "title")
    if len(title) > 200:
        raise ServiceError(_("Keep the title under 200 characters."), "title")
    if visibility not in VISIBILITIES:
        raise ServiceError(_("Choose who may see it: only you, you and your teachers, or your teachers and family."),
                           "visibility")
    return title


def _store_files(session: Session, entry: PortfolioEntry, actor: User, uploads: Sequence[Upload], folder: str) -> None:
    present = [u for u in uploads if u.filename]
    kept = len(list(session.scalars(select(Artifact.id).where(Artifact.portfolio_entry_id == entry.id,
                                                               Artifact.deleted_at.is_(None)))))
    if kept + len(present) > MAX_FILES:
        raise ServiceError(_("An entry holds up to %(max)d files.", max=MAX_FILES), "files")
    for upload in present:
        store_upload(session, upload, folder=folder, owner_student_id=entry.student_id, uploaded_by=actor,
                     portfolio_entry_id=entry.id)


def create_entry(session: Session, student: User, *, title: str, reflection: str, visibility: str,
                 featured: bool, standard_ids: Iterable[int], uploads: Sequence[Upload] = (),
                 folder: str = "") -> PortfolioEntry:
    """A new entry with its standards and any number of files (an image and a PDF of one project)."""
    title = _check(title, visibility)
    entry = PortfolioEntry(student_id=student.id, title=title, reflection=reflection or "", visibility=visibility,
                           featured=featured)
    session.add(entry)
    session.flush()
    ids = sorted(set(standard_ids))
    for cid in ids:
        session.add(PortfolioEntryStandard(entry_id=entry.id, competency_id=cid))
    _store_files(session, entry, student, uploads, folder)
    record_change(session, student, "portfolio.entry.create", student_id=student.id, target_type="portfolio_entry",
                  target_id=entry.id, detail={"new": _snapshot(entry, ids)})
    return entry


def update_entry(session: Session, student: User, entry: PortfolioEntry, *, version: int | None, title: str,
                 reflection: str, visibility: str, featured: bool, standard_ids: Iterable[int],
                 uploads: Sequence[Upload] = (), remove_file_ids: Iterable[int] = (), folder: str = "") -> None:
    """Edit an entry: its words, its standards, who may see it, whether it is featured; add or remove files.

    A stale form (the entry changed since it was opened) is refused with the entry as it now is."""
    if version is not None and version != entry.version:
        raise StaleWrite(_("This entry was changed since you opened it (in another tab?). It is now called "
                           "\u201c%(title)s\u201d, and %(who)s. What you typed is still here: save again to keep it.",
                           title=entry.title, who=_(WHO_SEES[entry.visibility])), entry)
    title = _check(title, visibility)
    old = _snapshot(entry, _standard_ids(session, entry.id))
    entry.title, entry.reflection, entry.visibility, entry.featured = title, reflection or "", visibility, featured
    entry.updated_at = utcnow()
    ids = sorted(set(standard_ids))
    session.execute(delete(PortfolioEntryStandard).where(PortfolioEntryStandard.entry_id == entry.id))
    for cid in ids:
        session.add(PortfolioEntryStandard(entry_id=entry.id, competency_id=cid))
    removed = []
    for artifact in session.scalars(select(Artifact).where(Artifact.portfolio_entry_id == entry.id,
                                                            Artifact.id.in_(list(remove_file_ids)),
                                                            Artifact.deleted_at.is_(None))):
        artifact.deleted_at = utcnow()
        removed.append(artifact.original_name)
    _store_files(session, entry, student, uploads, folder)
    new = _snapshot(entry, ids)
    detail: dict[str, Any] = {"old": old, "new": new}
    if removed:
        detail["files_removed"] = removed
    added = [u.filename for u in uploads if u.filename]
    if added:
        detail["files_added"] = added
    action = "portfolio.entry.visibility" if old["visibility"] != new["visibility"] else "portfolio.entry.update"
    record_change(session, student, action, student_id=student.id, target_type="portfolio_entry",
                  target_id=entry.id, detail=detail)


def remove_entry(session: Session, student: User, entry: PortfolioEntry) -> None:
    """Take an entry out of the portfolio (soft: it can be brought back); nobody else sees it meanwhile."""
    if entry.deleted_at is not None:
        return
    entry.deleted_at = utcnow()
    entry.updated_at = entry.deleted_at
    record_change(session, student, "portfolio.entry.remove", student_id=student.id, target_type="portfolio_entry",
                  target_id=entry.id, detail={"title": entry.title, "visibility": entry.visibility})


def restore_entry(session: Session, student: User, entry: PortfolioEntry) -> None:
    """Undo a removal: the entry comes back as it was, shared as it was."""
    if entry.deleted_at is None:
        return
    entry.deleted_at = None
    entry.updated_at = utcnow()
    record_change(session, student, "portfolio.entry.restore", student_id=student.id, target_type="portfolio_entry",
                  target_id=entry.id, detail={"title": entry.title, "visibility": entry.visibility})
