"""Calculation methods: from a series of evidence to one proficiency score.

The entry point is :func:`compute`. It accepts :class:`Observation` objects
and/or plain numbers, orders them, leaves out evidence with weight 0, applies
one of :data:`METHODS` and returns a :class:`Result` with a lazy
:class:`Explanation`.

Ordering: when every piece of evidence has an ``observed_on`` date, evidence
is ordered by date, then by ``recorded_at`` (evidence without a recorded
time first), then by the order given (a stable sort). If any piece has no
date, it cannot be placed in time, so the order given is trusted for all of
them; plain numbers are always taken as already in observed order.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any

from ._format import (
    format_result,
    format_score,
    round_score,
)
from .explanation import Explanation, WhatIf
from .observation import Observation, check_score
from .scale import Level, Scale

METHODS: tuple[str, ...] = (
    "average",
    "latest",
    "highest",
    "mode",
    "weighted_average",
    "decaying_average",
    "n_mastery",
    "power_law",
)
DEFAULT_METHOD = "average"
DEFAULT_WEIGHT = 0.65
DEFAULT_N = 2
DEFAULT_MASTERY = 3.0
DEFAULT_MIN_EVIDENCE = 1
POWER_LAW_FLOOR = 0.1
"""Scores below this are lifted to it before taking logarithms (ln 0 is undefined)."""
POWER_LAW_MIN_POINTS = 3
"""With fewer scores than this the power law falls back to the (weighted) average."""

_LOG_FLOOR = math.log(POWER_LAW_FLOOR)
_INF = math.inf
_new = object.__new__
_by_date = attrgetter("observed_on")

Values = Sequence[float]
Weights = Sequence[float] | None  # None: every piece counts 1


# --------------------------------------------------------------------------- methods
# Each takes (values, weights, w, n, mastery) for the counted evidence, oldest
# first, and returns the unrounded result. They are only called with enough
# evidence (at least min_evidence >= 1 pieces; n at mastery for n_mastery).


def _mean(values: Values, weights: Weights) -> float:
    if weights is None:
        return math.fsum(values) / len(values)
    return math.fsum([v * x for v, x in zip(values, weights, strict=True)]) / math.fsum(weights)


def _average(values: Values, weights: Weights, w: float, n: int, mastery: float) -> float:
    return _mean(values, weights)


def _latest(values: Values, weights: Weights, w: float, n: int, mastery: float) -> float:
    return float(values[-1])


def _highest(values: Values, weights: Weights, w: float, n: int, mastery: float) -> float:
    return float(max(values))


def _mode_value(values: Values) -> tuple[float, int]:
    counts: dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    best = max(counts.values())
    for v in reversed(values):
        if counts[v] == best:
            return v, best
    raise AssertionError("unreachable")  # pragma: no cover


def _mode(values: Values, weights: Weights, w: float, n: int, mastery: float) -> float:
    return float(_mode_value(values)[0])


def _weighted_average(values: Values, weights: Weights, w: float, n: int, mastery: float) -> float:
    if len(values) == 1:
        return float(values[0])
    earlier = _mean(values[:-1], None if weights is None else weights[:-1])
    return values[-1] * w + earlier * (1 - w)


def _decaying_average(values: Values, weights: Weights, w: float, n: int, mastery: float) -> float:
    keep = 1 - w
    it = iter(values)
    d = float(next(it))
    for s in it:
        d = d * keep + s * w
    return d


def _n_mastery(values: Values, weights: Weights, w: float, n: int, mastery: float) -> float | None:
    if weights is None:
        at = [v for v in values if v >= mastery]
        return math.fsum(at) / len(at) if len(at) >= n else None
    pairs = [(v, x) for v, x in zip(values, weights, strict=True) if v >= mastery]
    if len(pairs) < n:
        return None
    return math.fsum([v * x for v, x in pairs]) / math.fsum([x for _, x in pairs])


@lru_cache(maxsize=512)
def _log_design(m: int) -> tuple[tuple[float, ...], float, float]:
    xs = [math.log(i) for i in range(1, m + 1)]
    mean_x = math.fsum(xs) / m
    centred = tuple(x - mean_x for x in xs)
    return centred, mean_x, math.fsum([c * c for c in centred])


def power_law_fit(values: Values) -> tuple[float, float]:
    """Least-squares fit of ln(score) = ln a + b·ln(i), i = 1..n; returns (a, b).

    Why: learning tends to follow a power curve (fast early gains, then
    levelling off), so the curve's value at the latest point estimates
    current proficiency while smoothing out a single bad day. Scores below
    POWER_LAW_FLOOR (0.1) are lifted to it, because ln 0 is undefined.
    Needs at least 2 values.
    """
    m = len(values)
    centred, mean_x, sxx = _log_design(m)
    ys = [math.log(v) if v >= POWER_LAW_FLOOR else _LOG_FLOOR for v in values]
    mean_y = math.fsum(ys) / m
    b = math.fsum([c * y for c, y in zip(centred, ys, strict=True)]) / sxx
    a = math.exp(mean_y - b * mean_x)
    return a, b


def _power_law(values: Values, weights: Weights, w: float, n: int, mastery: float) -> float:
    m = len(values)
    if m < POWER_LAW_MIN_POINTS:
        return _mean(values, weights)
    a, b = power_law_fit(values)
    value = a * m**b
    low = min(values)
    if value < low:
        return float(low)
    high = max(values)
    if value > high:
        return float(high)
    return value


_FUNCS: dict[str, Callable[[Values, Weights, float, int, float], float | None]] = {
    "average": _average,
    "latest": _latest,
    "highest": _highest,
    "mode": _mode,
    "weighted_average": _weighted_average,
    "decaying_average": _decaying_average,
    "n_mastery": _n_mastery,
    "power_law": _power_law,
}


# --------------------------------------------------------------------------- validation


def _unknown_method(method: object) -> ValueError:
    return ValueError(f"Unknown method {method!r}. Choose one of: {', '.join(METHODS)}.")


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return None
    return float(value)


# No policy asks for more pieces of evidence than this (n for n_mastery, min_evidence): a bound that keeps a typo
# (1000000) from quietly hiding every level.
MAX_COUNT = 100


def check_params(
    method: str,
    weight: float,
    n: int,
    mastery: float | None,
    min_evidence: int,
    scale: Scale | None = None,
) -> float:
    """Validate calculation settings and return the mastery threshold to use.

    Why: a typo in a school's settings must fail loudly with a message a
    person can act on, not quietly produce different grades. The mastery
    threshold defaults to the scale's mastery level, or 3 without a scale.
    """
    if not isinstance(method, str) or method not in _FUNCS:
        raise _unknown_method(method)
    if not (type(weight) is float or type(weight) is int) or not 0 < weight < 1:
        number = _as_number(weight)
        if number is None or not 0 < number < 1:
            raise ValueError(
                f"weight must be between 0 and 1 (exclusive), got {weight!r}. "
                "It is the share the newest evidence counts for, e.g. 0.65."
            )
    if type(n) is not int or not 1 <= n <= MAX_COUNT:
        raise ValueError(f"n must be a whole number from 1 to {MAX_COUNT}, got {n!r}.")
    if type(min_evidence) is not int or not 1 <= min_evidence <= MAX_COUNT:
        raise ValueError(f"min_evidence must be a whole number from 1 to {MAX_COUNT}, got {min_evidence!r}.")
    if scale is not None and not isinstance(scale, Scale):
        raise TypeError(f"scale must be a Scale, got {scale!r}.")
    if mastery is None:
        return scale.mastery.points if scale is not None else DEFAULT_MASTERY
    if not (type(mastery) is float or type(mastery) is int) or not 0 <= mastery < _INF:
        number = _as_number(mastery)
        if number is None or not 0 <= number < _INF:
            raise ValueError(f"mastery must be a finite number of 0 or more, got {mastery!r}.")
        return number
    return mastery


# --------------------------------------------------------------------------- preparation

_Prepared = tuple[list, list | None, list | None, list, int]
_NUMBER_TYPES = frozenset({int, float})
_OBSERVATION_TYPE = frozenset({Observation})


def _prepare(observations: Iterable[Observation | float]) -> _Prepared:
    """Order the evidence and split off what does not count.

    Returns (values, weights or None, counted Observations or None for plain
    numbers, all evidence in order, number not counted).
    """
    items = observations if isinstance(observations, (list, tuple)) else list(observations)
    types = set(map(type, items))
    if types <= _NUMBER_TYPES:
        values = list(items)
        if values:
            total = sum(values)
            if not (0 <= total < _INF) or min(values) < 0:
                for i, v in enumerate(values):
                    check_score(v, f"score {i + 1} of {len(values)}")
        return values, None, None, values, 0
    if types != _OBSERVATION_TYPE:
        converted = []
        for i, item in enumerate(items):
            if isinstance(item, Observation):
                converted.append(item)
            elif isinstance(item, bool) or not isinstance(item, numbers.Real | Decimal):
                raise TypeError(
                    f"compute() takes numbers or Observation objects, got {item!r} "
                    f"(item {i + 1} of {len(items)})."
                )
            else:
                converted.append(Observation(score=check_score(item, f"score {i + 1} of {len(items)}")))
        items = converted
    dates = [o.observed_on for o in items]
    try:
        in_order = sorted(dates) == dates
    except TypeError:  # some evidence has no date: trust the order given
        ordered = list(items)
    else:
        # Skip the keyed sort when the evidence already arrives in date order
        # (the common case: a database query ordered by date).
        ordered = list(items) if in_order else sorted(items, key=_by_date)
        # recorded_at only breaks ties between pieces observed on the same day.
        if len(set(dates)) < len(dates) and any(o.recorded_at is not None for o in items):
            ordered.sort(key=_date_then_time)
    weights = [o.weight for o in ordered]
    if 0.0 in weights:
        counted = [o for o in ordered if o.weight > 0]
        weights = [o.weight for o in counted]
    else:
        counted = ordered
    values = [o.score for o in counted]
    if weights.count(1.0) == len(weights):
        weights = None
    return values, weights, counted, ordered, len(ordered) - len(counted)


def _date_then_time(o: Observation) -> tuple[Any, bool, Any]:
    # (date, has time, time): evidence without a recorded time sorts first on
    # its day, and None is never compared with a datetime.
    return (o.observed_on, o.recorded_at is not None, o.recorded_at)


def _evaluate(
    method: str,
    values: Values,
    weights: Weights,
    w: float,
    n: int,
    mastery: float,
    min_evidence: int,
) -> tuple[float | None, int]:
    count = len(values)
    needed = min_evidence - count if count < min_evidence else 0
    if method == "n_mastery":
        at = 0
        for v in values:
            if v >= mastery:
                at += 1
        if at < n and n - at > needed:
            needed = n - at
    if needed:
        return None, needed
    return _FUNCS[method](values, weights, w, n, mastery), 0


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Result:
    """The outcome of :func:`compute`.

    ``score`` is rounded to 2 decimals (half away from zero); ``raw`` is the
    unrounded value. Both are None when there is not yet enough evidence;
    ``needed`` then says how many more pieces are needed (0 otherwise).
    ``count`` is the number of counted pieces; ``observations`` are those
    pieces in the order used. ``level`` is set when a scale was given.
    """

    score: float | None
    raw: float | None
    method: str
    params: dict[str, Any]
    count: int
    needed: int
    level: Level | None
    explanation: Explanation
    observations: tuple[Observation, ...] = field(default_factory=tuple)

    def __getattr__(self, name: str) -> Any:
        # ``explanation`` and ``observations`` of a computed result are built
        # on first use, from the calculation's inputs kept in ``_src``.
        state = self.__dict__
        src = state.get("_src")
        if src is None:
            raise AttributeError(name)
        if name == "explanation":
            explanation = _new(Explanation)
            from .method_text import _render  # the sentences live apart from the maths

            explanation.__dict__.update(_render=_render, _src=src)
            state["explanation"] = explanation
            return explanation
        if name == "observations":
            values, counted = src[5], src[7]
            built = tuple(Observation(score=v) for v in values) if counted is None else tuple(counted)
            state["observations"] = built
            return built
        raise AttributeError(name)


def compute(
    observations: Iterable[Observation | float],
    *,
    method: str = DEFAULT_METHOD,
    weight: float = DEFAULT_WEIGHT,
    n: int = DEFAULT_N,
    mastery: float | None = None,
    min_evidence: int = DEFAULT_MIN_EVIDENCE,
    scale: Scale | None = None,
) -> Result:
    """Turn a series of evidence into one proficiency score, with its explanation.

    Why each method exists (w = ``weight``, default 0.65):

    * ``average`` — every piece counts (by its evidence weight): fair when
      evidence is equally current.
    * ``latest`` — learning changes over time; the newest evidence says most.
    * ``highest`` — credits the best the learner has shown.
    * ``mode`` — the most typical score; a tie goes to the tied score seen most recently.
    * ``weighted_average`` — latest × w + (weighted) mean of the earlier ones
      × (1 − w); one piece → that piece.
    * ``decaying_average`` — d = first; then d = d × (1 − w) + s × w for each
      next score: recent evidence counts most, old evidence fades gradually.
    * ``n_mastery`` — (weighted) mean of the scores at or above ``mastery``
      once at least ``n`` exist; before that no result ("k of n at mastery").
    * ``power_law`` — least-squares fit of ln(score) = ln a + b·ln(i),
      i = 1..k over the k counted scores, read at i = k; scores below 0.1 are
      lifted to 0.1 before the log; fewer than 3 scores → ``average`` (weighted,
      exactly as the ``average`` method). The
      value is kept within the lowest and highest counted score, because a
      curve may extrapolate beyond anything the learner has actually shown.

    Evidence weights: ``average``, the earlier part of ``weighted_average``
    and ``n_mastery`` are weighted means; other methods ignore weights, except
    that evidence with weight 0 (e.g. practice) is never counted by any
    method and the explanation says so.

    With fewer than ``min_evidence`` counted pieces there is no score yet and
    ``needed`` says how many more are needed. ``mastery`` defaults to the
    scale's mastery level, or 3 without a scale. With a ``scale``, the result
    gets a ``level`` and the explanation gets what-if sentences.
    Raises ValueError for an unknown method, out-of-range settings, or a
    negative, NaN or infinite score.
    """
    if (
        type(weight) is float
        and 0 < weight < 1
        and mastery is None
        and scale is None
        and type(n) is int
        and 0 < n <= MAX_COUNT
        and type(min_evidence) is int
        and 0 < min_evidence <= MAX_COUNT
        and type(method) is str
        and method in _FUNCS
    ):
        mastery = DEFAULT_MASTERY  # fast path: the usual settings, already valid
    else:
        mastery = check_params(method, weight, n, mastery, min_evidence, scale)
    values, weights, counted, ordered, excluded = _prepare(observations)
    raw, needed = _evaluate(method, values, weights, weight, n, mastery, min_evidence)
    if raw is None:
        score = level = None
    else:
        score = round_score(raw)
        level = None if scale is None else scale.level_for(score)
    result = _new(Result)
    state = result.__dict__
    state["score"] = score
    state["raw"] = raw
    state["method"] = method
    state["params"] = {"weight": weight, "n": n, "mastery": mastery, "min_evidence": min_evidence}
    state["count"] = len(values)
    state["needed"] = needed
    state["level"] = level
    state["_src"] = (
        method,
        weight,
        n,
        mastery,
        min_evidence,
        values,
        weights,
        counted,
        ordered,
        excluded,
        raw,
        score,
        needed,
        level,
        scale,
    )
    return result


def what_if(
    observations: Iterable[Observation | float],
    *,
    scale: Scale,
    method: str = DEFAULT_METHOD,
    weight: float = DEFAULT_WEIGHT,
    n: int = DEFAULT_N,
    mastery: float | None = None,
    min_evidence: int = DEFAULT_MIN_EVIDENCE,
) -> list[WhatIf]:
    """For each level of the scale, the result after one more piece of evidence at that level.

    Why: "what would it take?" is the question families and students ask;
    answering it per level shows how much the next assessment matters. The
    extra piece is taken as the newest (dated after the last, weight 1).
    """
    if not isinstance(scale, Scale):
        raise TypeError(f"what_if needs a Scale, got {scale!r}.")
    mastery = check_params(method, weight, n, mastery, min_evidence, scale)
    values, weights, _counted, _ordered, _excluded = _prepare(observations)
    raw, _needed = _evaluate(method, values, weights, weight, n, mastery, min_evidence)
    current = None if raw is None else round_score(raw)
    return _what_ifs(method, values, weights, weight, n, mastery, min_evidence, scale, current)


def _what_ifs(
    method: str,
    values: Values,
    weights: Weights,
    w: float,
    n: int,
    mastery: float,
    min_evidence: int,
    scale: Scale,
    current: float | None,
) -> list[WhatIf]:
    extended = [*values, 0.0]
    extended_weights = None if weights is None else [*weights, 1.0]
    out = []
    for level in scale.levels:
        points = level.points
        extended[-1] = points
        raw, needed = _evaluate(method, extended, extended_weights, w, n, mastery, min_evidence)
        shown = format_score(points)
        if raw is None:
            if method == "n_mastery" and len(extended) >= min_evidence:
                at = sum(1 for v in extended if v >= mastery)
                why = f"{at} of {n} at mastery"
            else:
                why = f"{needed} more needed"
            out.append(
                WhatIf(
                    points, None, "", f"One more {shown} would still leave no result: {why}.", None, needed
                )
            )
            continue
        score = round_score(raw)
        new_level = scale.level_for(score)
        label = new_level.label if new_level else ""
        verb = "keep this at" if current is not None and score == current else "bring this to"
        sentence = f"One more {shown} would {verb} {format_result(score)}, {label}."
        out.append(WhatIf(points, score, label, sentence, new_level, 0))
    return out
