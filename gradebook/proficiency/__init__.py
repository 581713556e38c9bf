"""Proficiency maths for the gradebook.

Pure functions over plain dataclasses, standard library only: nothing here
imports Flask, SQLAlchemy or the rest of the project, so every rule can be
tested and explained on its own.

    >>> from datetime import date
    >>> from gradebook.proficiency import Observation, compute
    >>> result = compute([Observation(score=1, observed_on=date(2026, 9, 1)),
    ...                   Observation(score=2, observed_on=date(2026, 9, 8))],
    ...                  method="decaying_average", weight=0.65, mastery=3)
    >>> result.score
    1.65
"""

from ._format import format_date, format_result, format_score, round_half_up, round_score
from .explanation import Explanation, Step, WhatIf
from .habits import (
    DEFAULT_HABIT_METHOD,
    HABIT_LEVELS,
    HABIT_METHODS,
    HABIT_SCALE,
    HABIT_SCALE_NAME,
    HabitObservation,
    habit_level,
    habit_score,
)
from .mastery_path import (
    MAX_PIECES,
    PathToMastery,
    Route,
    at_mastery,
    path_to_mastery,
    path_to_mastery_with_policy,
)
from .mastery_path_text import path_sentence
from .methods import (
    DEFAULT_MASTERY,
    DEFAULT_METHOD,
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_N,
    DEFAULT_WEIGHT,
    METHODS,
    POWER_LAW_FLOOR,
    Result,
    check_params,
    compute,
    power_law_fit,
    what_if,
)
from .observation import Observation
from .policy import TEACHER_JUDGEMENT, OverriddenResult, Policy, apply_override, compute_with_policy
from .rollup import ROLLUP_RULES, ChildResult, RollupResult, rollup
from .scale import (
    AA_CONTRAST,
    DEFAULT_LEVELS,
    DEFAULT_SCALE,
    DEFAULT_SCALE_NAME,
    WHITE,
    Level,
    Scale,
    contrast_ratio,
)
from .signals import FLAG_CODES, TRENDS, Flag, flags, trend
from .summary import Summariser, Summary, summarise, summarise_rollup

__all__ = [
    "AA_CONTRAST",
    "DEFAULT_HABIT_METHOD",
    "HABIT_LEVELS",
    "HABIT_METHODS",
    "HABIT_SCALE",
    "HABIT_SCALE_NAME",
    "HabitObservation",
    "habit_level",
    "habit_score",
    "DEFAULT_MASTERY",
    "DEFAULT_METHOD",
    "DEFAULT_MIN_EVIDENCE",
    "DEFAULT_N",
    "DEFAULT_LEVELS",
    "DEFAULT_SCALE",
    "DEFAULT_SCALE_NAME",
    "DEFAULT_WEIGHT",
    "FLAG_CODES",
    "MAX_PIECES",
    "METHODS",
    "POWER_LAW_FLOOR",
    "ROLLUP_RULES",
    "TEACHER_JUDGEMENT",
    "TRENDS",
    "WHITE",
    "ChildResult",
    "Explanation",
    "Flag",
    "Level",
    "Observation",
    "OverriddenResult",
    "PathToMastery",
    "Policy",
    "Result",
    "RollupResult",
    "Route",
    "Scale",
    "Step",
    "Summariser",
    "Summary",
    "WhatIf",
    "apply_override",
    "at_mastery",
    "check_params",
    "compute",
    "compute_with_policy",
    "contrast_ratio",
    "flags",
    "format_date",
    "format_result",
    "format_score",
    "path_sentence",
    "path_to_mastery",
    "path_to_mastery_with_policy",
    "power_law_fit",
    "round_half_up",
    "round_score",
    "rollup",
    "summarise",
    "summarise_rollup",
    "trend",
    "what_if",
]
