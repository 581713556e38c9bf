"""The comment bank: reusable feedback a teacher builds as they go, offered again per standard.

What is offered is the teacher's own words: the comments they saved to the bank, and every feedback they
have written before on these standards (counted as often as they gave it), most used first.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import Session

from gradebook.models import CommentBankEntry, Evidence, User
from gradebook.services import ServiceError

MAX_BANK = 200
MAX_COMMENT = 1000  # characters of a comment worth offering again


def remember_comment(session: Session, teacher: User, competency_ids: Iterable[int], body: str) -> None:
    """Each feedback a teacher writes joins their bank for those standards (once; its use is counted)."""
    body = body.strip()
    if not body or len(body) > MAX_COMMENT:
        return
    for competency_id in set(competency_ids):
        entry = session.scalar(select(CommentBankEntry).where(
            CommentBankEntry.teacher_id == teacher.id, CommentBankEntry.competency_id == competency_id,
            CommentBankEntry.body == body))
        if entry is None:
            session.add(CommentBankEntry(teacher_id=teacher.id, competency_id=competency_id, body=body, uses=1))
        else:
            entry.uses += 1


def save_to_bank(session: Session, teacher: User, competency_ids: Iterable[int], body: str) -> bool:
    """"Save to bank": the comment is offered from now on for these standards, used or not. True if new."""
    body = body.strip()
    if not body:
        raise ServiceError("Type the comment first, then save it to your bank.", "body")
    if len(body) > MAX_COMMENT:
        raise ServiceError(f"A comment in the bank is at most {MAX_COMMENT} characters; this one has {len(body)}.",
                           "body")
    ids = sorted(set(competency_ids))
    if not ids:
        raise ServiceError("Choose the standards this comment is for.", "body")
    known = set(session.scalars(select(CommentBankEntry.competency_id).where(
        CommentBankEntry.teacher_id == teacher.id, CommentBankEntry.competency_id.in_(ids),
        CommentBankEntry.body == body)))
    for competency_id in ids:
        if competency_id not in known:
            session.add(CommentBankEntry(teacher_id=teacher.id, competency_id=competency_id, body=body, uses=1))
    return len(known) < len(ids)


def bank_for(session: Session, teacher: User, competency_ids: Iterable[int], limit: int = 40) -> list[str]:
    """The teacher's comments for these standards, most used first: those in their bank (and their general
    ones) and the feedback they wrote before on these standards, in one statement."""
    ids = list(competency_ids)
    saved = select(CommentBankEntry.body.label("body"), CommentBankEntry.uses.label("uses")).where(
        CommentBankEntry.teacher_id == teacher.id,
        or_(CommentBankEntry.competency_id.in_(ids), CommentBankEntry.competency_id.is_(None)))
    written = select(Evidence.feedback.label("body"), func.count(Evidence.id).label("uses")).where(
        Evidence.recorded_by_id == teacher.id, Evidence.competency_id.in_(ids), Evidence.deleted_at.is_(None),
        Evidence.feedback != "", func.length(Evidence.feedback) <= MAX_COMMENT).group_by(Evidence.feedback)
    both = union_all(saved, written).subquery()
    uses = func.max(both.c.uses)
    return list(session.scalars(
        select(both.c.body).group_by(both.c.body).order_by(uses.desc(), both.c.body).limit(min(limit, MAX_BANK))))

