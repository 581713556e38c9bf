"""Habits of work: their scale and how a habit's level is found from its observations.

A habit (responsibility, persistence, collaboration …) is recorded on its own scale and computed by its
own method, apart from achievement: nothing here is used by the methods, roll-ups, pacing or signals of
achievement, and nothing of theirs is used here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .scale import Level, Scale

# (points, label, colour, is the expected level, description, symbol). Colours differ from the achievement
# scale's (teal to rust, not green to purple), so a habit column never reads as an achievement level.
HABIT_LEVELS: tuple[tuple[int, str, str, bool, str, str], ...] = (
    (4, "Consistently", "#0f6b6b", False, "Does this every time, without being asked.", "●"),
    (3, "Usually", "#3d6f8f", True, "Does this most of the time.", "◕"),
    (2, "Sometimes", "#a35a1f", False, "Does this now and then, often with a reminder.", "◑"),
    (1, "Rarely", "#8c3b3b", False, "Seldom does this yet.", "◔"),
)
HABIT_SCALE_NAME = "Habits of work"
HABIT_SCALE = Scale(tuple(Level(*row) for row in HABIT_LEVELS))
HABIT_METHODS = ("mode", "most_recent", "average")
DEFAULT_HABIT_METHOD = "mode"
MODE_WINDOW = 5


@dataclass(frozen=True)
class HabitObservation:
    """One scored observation of a habit (missing, late and excused marks are counted, never scored)."""

    score: float
    observed_on: date
    ref: int = 0  # orders observations of the same day (the evidence id)


def habit_score(observations: Iterable[HabitObservation], method: str = DEFAULT_HABIT_METHOD) -> float | None:
    """A habit's level points from its scored observations, or None when there are none.

    - `mode`: the most frequent score among the latest five, a tie going to the most recent of them
      (a habit is what a student usually does now, not what they did once);
    - `most_recent`: the latest score;
    - `average`: the mean of all scores, rounded half up to a whole level.
    """
    if method not in HABIT_METHODS:
        raise ValueError(f"Unknown habit method {method!r}: choose one of {', '.join(HABIT_METHODS)}.")
    ordered = sorted(observations, key=lambda o: (o.observed_on, o.ref))
    if not ordered:
        return None
    if method == "most_recent":
        return ordered[-1].score
    if method == "average":
        mean = sum(o.score for o in ordered) / len(ordered)
        return float(int(mean + 0.5))
    window = ordered[-MODE_WINDOW:]
    counts = Counter(o.score for o in window)
    best = max(counts.values())
    for observation in reversed(window):
        if counts[observation.score] == best:
            return observation.score
    return None  # pragma: no cover - the window is not empty


def habit_level(scale: Scale, observations: Iterable[HabitObservation],
                method: str = DEFAULT_HABIT_METHOD) -> Level | None:
    """The habit's level on its scale (None when it has no scored observation yet)."""
    return scale.level_for(habit_score(observations, method))
