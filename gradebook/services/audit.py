"""The audit log's writes: disclosures of a student's record (FERPA 34 CFR §99.32) and changes of who may
see what. Rows are append-only (models/audit.py refuses updates and deletes).

A disclosure writes one row per student disclosed, so a student's log is one indexed query (`student_id`);
the rows of one page are one INSERT, whatever the class size. Routes declare what they disclose with
`authz.discloses(...)`; the web layer calls `record_disclosures` after the view has answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gradebook.models import AuditEvent, User, utcnow


def record_disclosures(session: Session, viewer_id: int, student_ids: Iterable[int], what: str, *,
                       detail: dict[str, Any] | None = None, ip: str | None = None) -> int:
    """One `view.<what>` row per student shown to `viewer_id`, never for the viewer themself; one INSERT.

    Returns how many rows were written."""
    ids = sorted({int(i) for i in student_ids if i is not None} - {viewer_id})
    if not ids:
        return 0
    at = utcnow()
    # Core, not the ORM's bulk insert: the rows are plain values (the table's append-only rule is the ORM's,
    # for updates and deletes); a disclosure is written on every page, so its cost shows.
    session.execute(insert(AuditEvent.__table__), [
        {"at": at, "actor_id": viewer_id, "action": f"view.{what}", "target_type": "student", "target_id": sid,
         "student_id": sid, "detail": detail, "ip": ip}
        for sid in ids])
    return len(ids)


def record_change(session: Session, actor: User | None, action: str, *, student_id: int | None = None,
                  target_type: str | None = None, target_id: int | None = None,
                  detail: dict[str, Any] | None = None, ip: str | None = None) -> AuditEvent:
    """A change of who may see what (a guardian link, an enrolment, a set-password link, a section's teacher)
    or of what they see (an override, a policy), in the transaction that makes it."""
    event = AuditEvent(actor_id=actor.id if actor is not None else None, action=action, target_type=target_type,
                       target_id=target_id, student_id=student_id, detail=detail, ip=ip)
    session.add(event)
    return event


def log_for_student(session: Session, student_id: int, limit: int = 500) -> list[AuditEvent]:
    """A student's record of disclosures and access changes, newest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.student_id == student_id)
                                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
