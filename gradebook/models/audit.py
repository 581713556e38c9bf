from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Delete, ForeignKey, String, Update, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from gradebook.models.base import Base, utcnow


class AuditEvent(Base):
    """Who did or saw what, when: every change of who may see what, and every disclosure of a student's
    record to someone else (one row per student; `detail` names the route). Append-only: the ORM refuses
    to update or delete a row (see the listeners below)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None]
    student_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))


class AuditLogIsAppendOnly(RuntimeError):
    """An attempt to change or remove an audit row: a programming error, never a user's."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit row {target.id} cannot be changed: the audit log is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit row {target.id} cannot be deleted: the audit log is append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    """`session.execute(update(AuditEvent))` or `delete(...)` (ORM or Core) bypasses the mapper events."""
    statement = state.statement
    if isinstance(statement, Update | Delete) and getattr(statement.table, "name", None) == AuditEvent.__tablename__:
        raise AuditLogIsAppendOnly("the audit log is append-only: no UPDATE or DELETE of audit_log")
