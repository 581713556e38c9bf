"""Pace on a learning path, and the standards a student may take on next. Pure: no Flask, no SQLAlchemy.

The rule (DESIGN.md "Personalized learning"): the share of a unit's standards expected at mastery grows
linearly from the unit's start (0) to its target date (1). A student is *behind* when fewer standards are at
mastery than expected minus one standard, *ahead* when more than expected plus one, else *on track*; a unit
with every counted standard at mastery is *done*; a unit whose start is still to come is *not started*.
A standard a teacher left out of the student's path never counts; a student's own target date replaces the
unit's. Every pace carries a plain sentence that explains it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ._format import format_date, plural, round_half_up

PACE_STATUSES: tuple[str, ...] = ("not_started", "on_track", "behind", "ahead", "done")
PACE_LABELS: dict[str, str] = {
    "not_started": "Not started",
    "on_track": "On track",
    "behind": "Behind",
    "ahead": "Ahead",
    "done": "Done",
}
# Worst first: sorting a class by pace puts the students who need help at the top.
PACE_RANK: dict[str, int] = {"behind": 0, "on_track": 1, "not_started": 2, "ahead": 3, "done": 4}


@dataclass(frozen=True)
class UnitPace:
    status: str            # 'not_started' | 'on_track' | 'behind' | 'ahead' | 'done'
    at_mastery: int        # standards of the unit (not left out) at mastery
    total: int             # standards of the unit counted (left-out ones excluded)
    expected: float        # standards expected at mastery by today
    sentence: str          # "3 of 5 skills at Meets; by today about 4 are expected."
    target_on: date        # the target date used (the student's own when set)
    own_target: bool       # True when a teacher gave this student their own date

    @property
    def label(self) -> str:
        return PACE_LABELS[self.status]

    @property
    def expected_about(self) -> int:
        """The expected count as the sentence says it ("about 4"), rounded half up."""
        return int(round_half_up(self.expected, 0))


def expected_share(today: date, starts_on: date, target_on: date) -> float:
    """The share of the unit expected at mastery by ``today``: 0 at the start, 1 on the target date, linear in
    between, clamped to [0, 1]. A target on or before the start means everything is due from the start."""
    if today < starts_on:
        return 0.0
    if today >= target_on:
        return 1.0
    return (today - starts_on).days / (target_on - starts_on).days


def unit_pace(*, today: date, starts_on: date, target_on: date, mastered: Sequence[bool],
              left_out: Sequence[bool] | None = None, own_target_on: date | None = None,
              mastery_label: str = "Meets") -> UnitPace:
    """The pace of one student in one unit; ``mastered[i]`` (and ``left_out[i]``) are about the unit's i-th
    standard."""
    flags = list(left_out) if left_out is not None else [False] * len(mastered)
    if len(flags) != len(mastered):
        raise ValueError("mastered and left_out must describe the same standards")
    counted = [m for m, out in zip(mastered, flags, strict=True) if not out]
    skipped = len(mastered) - len(counted)
    total = len(counted)
    at_mastery = sum(1 for m in counted if m)
    target = own_target_on or target_on
    expected = expected_share(today, starts_on, target) * total

    if total > 0 and at_mastery == total:
        status = "done"
    elif today < starts_on:
        status = "not_started"
    elif at_mastery < expected - 1:
        status = "behind"
    elif at_mastery > expected + 1:
        status = "ahead"
    else:
        status = "on_track"

    sentence = _sentence(status, today=today, starts_on=starts_on, target=target, at_mastery=at_mastery,
                         total=total, expected=expected, mastery_label=mastery_label)
    extras = []
    if own_target_on is not None:
        extras.append(f"Own target date: {format_date(own_target_on)}.")
    if skipped:
        extras.append(f"{plural(skipped, 'skill')} left out of this path.")
    if extras:
        sentence = " ".join([sentence, *extras])
    return UnitPace(status=status, at_mastery=at_mastery, total=total, expected=expected, sentence=sentence,
                    target_on=target, own_target=own_target_on is not None)


def _sentence(status: str, *, today: date, starts_on: date, target: date, at_mastery: int, total: int,
              expected: float, mastery_label: str) -> str:
    if total == 0:
        return "No skills count in this unit."
    skills = "skill" if total == 1 else "skills"
    have = f"{at_mastery} of {total} {skills} at {mastery_label}"
    if status == "done":
        return f"All {plural(total, 'skill')} at {mastery_label}." if total > 1 else f"The skill is at {mastery_label}."
    if status == "not_started":
        return f"Starts {format_date(starts_on)}; {have} already."
    if today >= target:
        return f"{have}; all {total} were expected by {format_date(target)}."
    about = int(round_half_up(expected, 0))  # as UnitPace.expected_about
    if about == 0:
        return f"{have}; by today none are expected yet."
    verb = "is" if about == 1 else "are"
    return f"{have}; by today about {about} {verb} expected."


def next_standards(standards: Sequence[int], mastered: set[int], prerequisites: Mapping[int, set[int]],
                   left_out: set[int]) -> list[int]:
    """The standards not at mastery (and not left out) whose prerequisites are all at mastery (or left out),
    in path order. A prerequisite the path does not contain still has to be at mastery."""
    settled = mastered | left_out
    return [
        s for s in standards
        if s not in settled and all(p in settled for p in prerequisites.get(s, set()))
    ]
