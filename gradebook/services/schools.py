"""Schools of the installation: who belongs to which, and the district's defaults."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook.models import District, School, SchoolMember


def add_members(session: Session, user_id: int, school_ids: Iterable[int | None]) -> int:
    """Make the person a member of these schools (those they belong to already are left); returns how many
    memberships were added."""
    wanted = {s for s in school_ids if s is not None}
    if not wanted:
        return 0
    have = set(session.scalars(select(SchoolMember.school_id).where(SchoolMember.user_id == user_id,
                                                                     SchoolMember.school_id.in_(wanted))))
    for school_id in sorted(wanted - have):
        session.add(SchoolMember(user_id=user_id, school_id=school_id))
    if wanted - have:
        session.flush()
    return len(wanted - have)


def schools_of(session: Session, user_id: int) -> list[School]:
    return list(session.scalars(select(School).join(SchoolMember, SchoolMember.school_id == School.id)
                                .where(SchoolMember.user_id == user_id).order_by(School.name)))


def all_schools(session: Session) -> list[School]:
    return list(session.scalars(select(School).order_by(School.name, School.id)))


def district(session: Session) -> District | None:
    return session.scalar(select(District).order_by(District.id).limit(1))
