"""What it would take: the shortest way from here to the mastery level.

"Why this level?" says how a level was reached; a student's next question is how far mastery is. This
module answers it with the same calculation that gives the level: it adds k further pieces of evidence at
one level of the scale (each the newest, weight 1) and finds the smallest k that reaches mastery, first at
the mastery level itself, then at each level above it. The sentences live in :mod:`.mastery_path_text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ._format import round_score
from .methods import (
    DEFAULT_METHOD,
    DEFAULT_MIN_EVIDENCE,
    DEFAULT_N,
    DEFAULT_WEIGHT,
    _evaluate,
    _prepare,
    check_params,
)
from .observation import Observation
from .policy import Policy
from .scale import Level, Scale

MAX_PIECES = 12
"""Beyond this many further pieces a route is not offered: nobody plans a dozen more assessments on one skill."""


@dataclass(frozen=True, slots=True)
class Route:
    """``pieces`` more pieces of work at ``level`` would bring the result to mastery (and ``pieces`` − 1 would not)."""

    pieces: int
    level: Level


@dataclass(frozen=True, slots=True)
class PathToMastery:
    """The shortest route to mastery, preferring work at the mastery level; ``faster`` is a route at a higher
    level that needs fewer pieces ("or one more at Exceeds"), when there is one."""

    route: Route
    faster: Route | None
    mastery: Level


def _reaches(method: str, values: list, weights: list | None, w: float, n: int, mastery: float,
             min_evidence: int) -> bool:
    raw, _needed = _evaluate(method, values, weights, w, n, mastery, min_evidence)
    return raw is not None and round_score(raw) >= mastery


def _fewest(method: str, values: list, weights: list | None, w: float, n: int, mastery: float,
            min_evidence: int, points: float, max_pieces: int) -> int | None:
    extended = list(values)
    extended_weights = None if weights is None else list(weights)
    for k in range(1, max_pieces + 1):
        extended.append(points)
        if extended_weights is not None:
            extended_weights.append(1.0)
        if _reaches(method, extended, extended_weights, w, n, mastery, min_evidence):
            return k
    return None


def at_mastery(observations: Iterable[Observation | float], *, scale: Scale, method: str = DEFAULT_METHOD,
               weight: float = DEFAULT_WEIGHT, n: int = DEFAULT_N, min_evidence: int = DEFAULT_MIN_EVIDENCE) -> bool:
    """True when the evidence as it stands gives a result at or above the scale's mastery level."""
    mastery = check_params(method, weight, n, None, min_evidence, scale)
    values, weights, *_ = _prepare(observations)
    return _reaches(method, values, weights, weight, n, mastery, min_evidence)


def path_to_mastery(
    observations: Iterable[Observation | float],
    *,
    scale: Scale,
    method: str = DEFAULT_METHOD,
    weight: float = DEFAULT_WEIGHT,
    n: int = DEFAULT_N,
    min_evidence: int = DEFAULT_MIN_EVIDENCE,
    max_pieces: int = MAX_PIECES,
) -> PathToMastery | None:
    """The smallest number k of further pieces at a level L that bring the result to mastery.

    Rule: each further piece is the newest and counts 1 (as in :func:`~.methods.what_if`); k pieces at L
    reach mastery and k − 1 do not. The route at the mastery level is preferred; when it is out of reach
    within ``max_pieces`` (an average pulled down by a long history), the lowest higher level that reaches
    it is the route. ``faster`` is the first higher level that needs fewer pieces than the route.
    None when the result is already at mastery (nothing is needed) or no level reaches it within
    ``max_pieces``.

    Why: "Two more pieces of work at Meets would bring this to Meets" is the next step in numbers, and a
    decaying average that keeps steady 3s at 2.99 ("Approaching") must still tell the student how close it is.
    """
    if not isinstance(scale, Scale):
        raise TypeError(f"path_to_mastery needs a Scale, got {scale!r}.")
    if type(max_pieces) is not int or max_pieces < 1:
        raise ValueError(f"max_pieces must be a whole number of at least 1, got {max_pieces!r}.")
    mastery = check_params(method, weight, n, None, min_evidence, scale)
    values, weights, *_ = _prepare(observations)
    if _reaches(method, values, weights, weight, n, mastery, min_evidence):
        return None
    routes = []
    for level in scale.levels:
        if level.points < mastery:
            continue
        k = _fewest(method, values, weights, weight, n, mastery, min_evidence, level.points, max_pieces)
        if k is not None:
            routes.append(Route(k, level))
    if not routes:
        return None
    route = routes[0]
    faster = next((r for r in routes[1:] if r.pieces < route.pieces), None)
    return PathToMastery(route, faster, scale.mastery)


def path_to_mastery_with_policy(observations: Iterable[Observation | float], policy: Policy, *,
                                scale: Scale, max_pieces: int = MAX_PIECES) -> PathToMastery | None:
    """:func:`path_to_mastery` the way a school's policy computes (its method, weights by kind, minimum)."""
    policy.validate()
    return path_to_mastery(policy.apply(observations), scale=scale, method=policy.method, weight=policy.weight,
                           n=policy.n, min_evidence=policy.min_evidence, max_pieces=max_pieces)
