"""The comment bank: reusable feedback a teacher builds as they go, offered again per standard."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gradebook.models import CommentBankEntry, User

MAX_BANK = 200


def remember_comment(session: Session, teacher: User, competency_ids: Iterable[int], body: str) -> None:
    """Each feedback a teacher writes joins their bank for those standards (once; its use is counted)."""
    body = body.strip()
    if not body or len(body) > 1000:
        return
    for competency_id in set(competency_ids):
        entry = session.scalar(select(CommentBankEntry).where(
            CommentBankEntry.teacher_id == teacher.id, CommentBankEntry.competency_id == competency_id,
            CommentBankEntry.body == body))
        if entry is None:
            session.add(CommentBankEntry(teacher_id=teacher.id, competency_id=competency_id, body=body, uses=1))
        else:
            entry.uses += 1


def bank_for(session: Session, teacher: User, competency_ids: Iterable[int], limit: int = 40) -> list[str]:
    """The teacher's most used comments for these standards, then their general ones."""
    ids = list(competency_ids)
    rows = session.scalars(
        select(CommentBankEntry.body).where(
            CommentBankEntry.teacher_id == teacher.id,
            or_(CommentBankEntry.competency_id.in_(ids), CommentBankEntry.competency_id.is_(None)))
        .order_by(CommentBankEntry.uses.desc(), CommentBankEntry.id.desc()).limit(MAX_BANK))
    seen: dict[str, None] = {}
    for body in rows:
        seen.setdefault(body, None)
    return list(seen)[:limit]
