"""Explanations of one student's proficiency on one standard, from evidence (not the cache)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gradebook import proficiency as prof
from gradebook.models import Section
from gradebook.services.proficiency import cell_observations, policy_for, scale_for


def observations(session: Session, section: Section, student_id: int, competency_id: int,
                 policy: prof.Policy | None = None) -> list[prof.Observation]:
    return cell_observations(session, section.id, student_id, competency_id, policy or policy_for(session, section))


def for_standard(session: Session, section: Section, student_id: int, competency_id: int) -> prof.Result:
    """The engine's result, with its explanation and what-if, for one student on one standard."""
    policy = policy_for(session, section)
    scale = scale_for(session, section)
    return prof.compute_with_policy(observations(session, section, student_id, competency_id, policy), policy,
                                    scale=scale)


def path_for(session: Session, section: Section, student_id: int, competency_id: int) -> prof.PathToMastery | None:
    """What it would take to reach mastery on one standard, by the section's policy (None: already there)."""
    policy = policy_for(session, section)
    return prof.path_to_mastery_with_policy(observations(session, section, student_id, competency_id, policy),
                                            policy, scale=scale_for(session, section))
