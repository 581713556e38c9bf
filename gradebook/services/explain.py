"""Explanations of one student's proficiency on one standard, from evidence (not the cache)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook import proficiency as prof
from gradebook.models import Assessment, Evidence, Section
from gradebook.services.proficiency import observation_for, policy_for, scale_for


def observations(session: Session, section: Section, student_id: int, competency_id: int,
                 policy: prof.Policy | None = None) -> list[prof.Observation]:
    policy = policy or policy_for(session, section)
    rows = session.execute(
        select(Evidence, Assessment).outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .where(Evidence.section_id == section.id, Evidence.student_id == student_id,
               Evidence.competency_id == competency_id, Evidence.status == "scored", Evidence.deleted_at.is_(None))
    ).all()
    return sorted((observation_for(e, a, policy) for e, a in rows), key=lambda o: o.ref)  # as the cache


def for_standard(session: Session, section: Section, student_id: int, competency_id: int) -> prof.Result:
    """The engine's result, with its explanation and what-if, for one student on one standard."""
    policy = policy_for(session, section)
    scale = scale_for(session, section)
    return prof.compute_with_policy(observations(session, section, student_id, competency_id, policy), policy,
                                    scale=scale)
