"""Changing the calculation policy (school default or one section): preview, then apply and recompute.

Evidence is never touched: only the derived cache is rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gradebook import proficiency as prof
from gradebook.models import PolicyChange, ProficiencyRecord, School, Section, User
from gradebook.services import ServiceError
from gradebook.services.audit import record_change
from gradebook.services.proficiency import compute_section, recompute, school_policy, store


@dataclass(frozen=True)
class PolicyPreview:
    up: int
    down: int
    same: int
    gained: int  # had no level, would have one
    lost: int    # had a level, would have none

    @property
    def summary(self) -> str:
        return (ngettext("%(num)d level would go up", "%(num)d levels would go up", self.up)
                + f", {self.down} down, {self.same} stay the same"
                + (f"; {self.gained} would get a level" if self.gained else "")
                + (f"; {self.lost} would wait for more evidence" if self.lost else "") + ".")


def validate_policy(data: dict[str, Any]) -> dict[str, Any]:
    """Check a policy the way the engine will use it; return its normal form."""
    try:
        policy = prof.Policy.from_dict(data)
    except (TypeError, ValueError) as error:
        raise ServiceError(str(error), "policy") from error
    return policy.to_dict()


def preview_section_policy(session: Session, section: Section, new_policy: dict[str, Any]) -> PolicyPreview:
    """How many cached levels the new policy would move, without changing anything: the section is not
    modified (not even for a moment: a flush would write it and bump its version, and the page would then
    carry a version that no longer matches the stored one, so applying the preview would be refused)."""
    proposed = prof.Policy.from_dict(validate_policy({**school_policy(session, section.school_id), **new_policy}))
    computed = compute_section(session, section, policy=proposed)
    current = {
        (r.student_id, r.competency_id): r.level_points
        for r in session.scalars(select(ProficiencyRecord).where(ProficiencyRecord.section_id == section.id))
    }
    up = down = same = gained = lost = 0
    for key, value in computed.items():
        before, after = current.get(key), value.level_points
        if before is None and after is None:
            continue
        if before is None:
            gained += 1
        elif after is None:
            lost += 1
        elif after > before:
            up += 1
        elif after < before:
            down += 1
        else:
            same += 1
    return PolicyPreview(up, down, same, gained, lost)


STALE_POLICY = "Someone else changed this section's policy since you opened it. Reload and try again."


def change_section_policy(session: Session, actor: User, section: Section, new_policy: dict[str, Any] | None,
                          expected_version: int | None = None) -> PolicyPreview:
    """Apply a section's own policy (None: use the school default) and recompute its cache.

    expected_version is the section version the form showed; a change saved since is refused, also when it
    is committed between this check and our UPDATE (whose WHERE carries the version)."""
    if expected_version is not None and expected_version != section.version:
        raise ServiceError(STALE_POLICY)
    preview = preview_section_policy(session, section, new_policy or {})
    old = section.policy
    normal = validate_policy({**school_policy(session, section.school_id), **new_policy}) if new_policy else None
    change = PolicyChange(section_id=section.id, changed_by_id=actor.id, old=old, new=normal,
                          summary=preview.summary)
    try:
        section.policy = normal
        session.add(change)
        session.flush()
    except StaleDataError:
        raise ServiceError(STALE_POLICY) from None
    record_change(session, actor, "policy.section", target_type="section", target_id=section.id,
                  detail={"policy_change_id": change.id, "old": old, "new": normal, "summary": preview.summary})
    store(session, section, compute_section(session, section))
    return preview


STALE_SCHOOL_POLICY = "Someone else changed the school's policy since you opened it. Reload and try again."


def change_school_policy(session: Session, actor: User, new_policy: dict[str, Any] | None,
                         expected_version: int | None = None, *, recompute_cache: bool = True,
                         school: School | None = None, district: bool = False) -> int:
    """Apply a new default policy to one school (``school``; the first school when neither is given), or to
    the district (``district=True``: every school that has no policy of its own follows it); recompute the
    sections it reaches; returns how many cached rows changed. ``new_policy`` None (for a school): follow the
    district's again. expected_version is the version the form showed: a change saved since is refused.

    With ``recompute_cache=False`` the caller queues the recompute as a job (the admin page does: a large
    school's recompute outlasts a request) and 0 is returned."""
    from gradebook.models import District

    target: Any
    if district:
        target = session.scalar(select(District).order_by(District.id).limit(1))
        if target is None:
            first = session.scalar(select(School).order_by(School.id).limit(1))
            target = District(name=first.name if first else "District", default_policy={},
                              default_scale_id=first.default_scale_id if first else None)
            session.add(target)
            session.flush()
    else:
        target = school if school is not None else session.scalar(select(School).order_by(School.id).limit(1))
    if target is None:
        raise ServiceError("Set up the school first.")
    if expected_version is not None and expected_version != target.version:
        raise ServiceError(STALE_SCHOOL_POLICY)
    normal = validate_policy(new_policy) if new_policy is not None else {}
    change = PolicyChange(section_id=None, school_id=None if district else target.id, changed_by_id=actor.id,
                          old=target.default_policy, new=normal)
    old = target.default_policy
    try:
        target.default_policy = normal
        session.add(change)
        session.flush()
    except StaleDataError:
        raise ServiceError(STALE_SCHOOL_POLICY) from None
    reached = None if district else list(session.scalars(select(Section.id).where(Section.school_id == target.id)))
    changed = len(recompute(session, reached).changed) if recompute_cache else 0
    detail: dict[str, Any] = {"policy_change_id": change.id, "old": old, "new": normal}
    detail.update({"levels_changed": changed} if recompute_cache else {"recompute": "queued as a job"})
    record_change(session, actor, "policy.district" if district else "policy.school",
                  target_type="district" if district else "school", target_id=target.id, detail=detail)
    return changed
