"""One cached result per student and standard: what the proficiency cache stores, computed two ways.

:func:`summarise` is the definition: the policy applied to :class:`Observation` objects, ``compute``, the
trend of the counted evidence and the date of the newest counted piece. :class:`Summariser` gives the same
:class:`Summary`, value for value, from plain rows as a database cursor returns them, without building an
object per piece of evidence; recomputing a district's cache reads millions of rows, and that object was
most of the cost. ``Summariser.rollup`` does the same for :func:`rollup` (a parent standard from its
children's scores) without writing the explanation. tests/unit/test_proficiency_summary.py proves the two
ways equal on random evidence, for every method, roll-up rule and policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple

from ._format import round_score
from .methods import _FUNCS, DEFAULT_MASTERY, compute
from .observation import Observation, check_evidence_weight, check_score, describe_evidence
from .policy import Policy
from .rollup import ChildResult, rollup
from .scale import Scale
from .signals import _slope, trend

_INF = math.inf
_DATE = itemgetter(-5)  # the rows' tail: (observed_on, recorded_at, ref, score, source)
_FLOAT = {float}
_NUMBER = {float, int}
TREND_WINDOW = 3
TREND_THRESHOLD = 0.25


class Summary(NamedTuple):
    """A cached result, in the cache's column order (a tuple, so a stored row compares with ``==``)."""

    score: float | None
    level_points: float | None
    evidence_count: int
    needed: int
    method: str
    trend: str | None
    last_observed_on: date | None


def summarise(observations: Sequence[Observation], policy: Policy, scale: Scale | None = None) -> Summary:
    """A standard's result from its evidence, the way the policy says (validated first): the score, its
    level's points (None without a score or a scale), how many pieces counted, how many more are needed,
    the method, the trend of the counted evidence and the date of the newest counted piece."""
    policy.validate()
    applied = policy.apply(observations)
    result = compute(applied, method=policy.method, weight=policy.weight, n=policy.n,
                     min_evidence=policy.min_evidence, scale=scale)
    level = result.level
    counted = [o for o in applied if o.weight > 0]
    return Summary(
        result.score,
        level.points if level is not None and result.score is not None else None,
        result.count,
        result.needed,
        policy.method,
        trend(counted) if counted else None,
        max((o.observed_on for o in counted if o.observed_on), default=None),
    )


def summarise_rollup(scores: Sequence[float | None], rule: str, scale: Scale | None = None,
                     codes: Sequence[str] | None = None) -> Summary:
    """A parent standard's result from its children's scores (None: no result yet), by :func:`rollup`."""
    children = [ChildResult(code=(codes[i] if codes else f"#{i + 1}"), statement="", score=s)
                for i, s in enumerate(scores)]
    result = rollup(children, rule, mastery=scale.mastery.points if scale is not None else None, scale=scale)
    return Summary(
        result.score,
        result.level.points if result.level is not None and result.score is not None else None,
        result.count,
        len(result.missing),
        f"rollup:{rule}",
        None,
        None,
    )


def _window_slope(values: list[float]) -> float:
    """signals._slope of 2 or 3 values, the same arithmetic: with centred positions (-0.5, 0.5) or (-1, 0, 1),
    the sum of the products is that of two terms (the middle one is zero), and a sum of two floats is
    exactly what math.fsum gives for them (one correctly rounded addition)."""
    k = len(values)
    if k == 3:
        v0, _v1, v2 = values
        mean_y = math.fsum(values) / 3
        return ((v2 - mean_y) - (v0 - mean_y)) / 2.0
    if k == 2:
        v0, v1 = values
        mean_y = math.fsum(values) / 2
        return (-0.5 * (v0 - mean_y) + 0.5 * (v1 - mean_y)) / 0.5
    return _slope(values)


def _date_then_time(row: Sequence[Any]) -> tuple[Any, bool, Any]:
    recorded_at = row[-4]
    return (row[-5], recorded_at is not None, recorded_at)


class Summariser:
    """:func:`summarise` and :func:`summarise_rollup` for many cells of one policy and scale, on rows.

    A row is any sequence ending with ``(observed_on, recorded_at, ref, score, source)`` (what comes before,
    the caller's grouping columns, is ignored): the fields of an :class:`Observation`, with ``source`` a
    key of ``sources``, which gives the piece's ``(weight, kind)`` as an Observation would carry them (the
    policy's kind weights are applied here, as ``Policy.apply`` does). A cell's rows are taken in the order
    given, as ``summarise`` takes Observations. Dates may be dates or anything that orders the same way
    (ISO text as SQLite returns it): ``date_of`` then turns the newest into a date.
    """

    def __init__(self, policy: Policy, scale: Scale | None = None,
                 sources: Mapping[Hashable, tuple[float, str]] | None = None,
                 date_of: Callable[[Any], Any] | None = None) -> None:
        policy.validate()
        self.policy = policy
        self.scale = scale
        self.method = policy.method
        self._mastery = scale.mastery.points if scale is not None else DEFAULT_MASTERY
        kind_weights = policy.kind_weights
        self._sources = dict(sources or {None: (1.0, "")})
        self.weights: dict[Hashable, float] = {}
        for key, (weight, kind) in self._sources.items():
            check_evidence_weight(weight, f"source {key!r}")
            self.weights[key] = 0.0 if weight == 0 else kind_weights.get(kind, 1.0)
        self._plain = all(w == 1 for w in self.weights.values())
        self.date_of = date_of
        self._func = _FUNCS[policy.method]
        self._n_mastery = policy.method == "n_mastery"
        self._w, self._n, self._min_evidence = policy.weight, policy.n, policy.min_evidence
        self._levels: dict[float, float | None] = {}
        self._rollup_method = f"rollup:{policy.rollup}"
        self.empty = self._result([], None, None)

    def _level_points(self, score: float | None) -> float | None:
        if score is None or self.scale is None:
            return None
        points = self._levels.get(score, self)
        if points is self:
            level = self.scale.level_for(score)
            points = self._levels[score] = level.points if level is not None else None
        return points  # type: ignore[return-value]

    def _result(self, values: list[Any], weights: list[float] | None, last: Any) -> Summary:
        """methods._evaluate, round_score, the level, and signals.trend of the counted values."""
        count = len(values)
        min_evidence = self._min_evidence
        needed = min_evidence - count if count < min_evidence else 0
        if self._n_mastery:
            mastery = self._mastery
            at = 0
            for v in values:
                if v >= mastery:
                    at += 1
            if at < self._n and self._n - at > needed:
                needed = self._n - at
        score = None if needed else round_score(self._func(values, weights, self._w, self._n, self._mastery))
        if count < 2:
            direction = None
        else:
            slope = _window_slope(values[-TREND_WINDOW:])
            direction = "improving" if slope > TREND_THRESHOLD else "slipping" if slope < -TREND_THRESHOLD \
                else "steady"
        if last is not None and self.date_of is not None:
            last = self.date_of(last)
        if score is None or self.scale is None:
            points = None
        else:
            points = self._levels.get(score, self)
            if points is self:
                points = self._level_points(score)
        return Summary(score, points, count, needed, self.method, direction, last)

    def summarise(self, rows: Sequence[Sequence[Any]]) -> Summary:
        """``summarise`` of the Observations these rows stand for (no rows: the empty result)."""
        n = len(rows)
        if n == 0:
            return self.empty
        dates = [r[-5] for r in rows]
        ordered = rows
        if n > 1:
            try:
                distinct = sorted(set(dates))
            except TypeError:  # an undated piece (or dates that do not compare): rare, by the object path
                return self._by_observations(rows)
            if distinct != dates:  # not strictly in date order: as methods._prepare orders Observations
                if None in dates:
                    return self._by_observations(rows)
                if sorted(dates) != dates:
                    ordered = sorted(rows, key=_DATE)
                if len(distinct) < n and any(r[-4] is not None for r in rows):
                    ordered = sorted(ordered, key=_date_then_time)
                if ordered is not rows:
                    dates = [r[-5] for r in ordered]
        scores = [r[-2] for r in ordered]
        try:
            valid = 0 <= sum(scores) < _INF and min(scores) >= 0 and set(map(type, scores)) == _FLOAT
        except TypeError:
            valid = False
        if not valid:  # what Observation would refuse, or convert (an int stays an int, as it does there)
            scores = [check_score(r[-2], describe_evidence("", r[-5] if isinstance(r[-5], date) else None))
                      for r in ordered]
        table = self.weights
        weights = [table[r[-1]] for r in ordered]  # (a KeyError names a source the caller did not give)
        if self._plain:  # every source counts 1: the usual case
            return self._result(scores, None, max(filter(None, dates), default=None))
        if 0.0 in weights:
            kept = [i for i, w in enumerate(weights) if w > 0]
            scores = [scores[i] for i in kept]
            weights = [weights[i] for i in kept]
            dates = [dates[i] for i in kept]
        return self._result(scores, None if weights.count(1.0) == len(weights) else weights,
                            max(filter(None, dates), default=None))

    def _by_observations(self, rows: Sequence[Sequence[Any]]) -> Summary:
        observations = [Observation(score=r[-2], observed_on=r[-5], recorded_at=r[-4], weight=self._sources[r[-1]][0],
                                    kind=self._sources[r[-1]][1], ref=r[-3]) for r in rows]
        result = summarise(observations, self.policy, self.scale)
        if result.last_observed_on is not None and self.date_of is not None:
            result = result._replace(last_observed_on=self.date_of(result.last_observed_on))
        return result

    def rollup(self, scores: Sequence[float | None]) -> Summary:
        """``summarise_rollup`` of these child scores under the policy's roll-up rule."""
        values = [s for s in scores if s is not None]
        missing = len(scores) - len(values)
        if not values:
            return Summary(None, None, 0, missing, self._rollup_method, None, None)
        types = set(map(type, values))
        if not types <= _NUMBER or not (0 <= sum(values) < _INF and min(values) >= 0):
            return summarise_rollup(scores, self.policy.rollup, self.scale)  # rollup() names the refused score
        if types != _FLOAT:
            values = [float(v) for v in values]
        rule = self.policy.rollup
        if rule == "average" or (rule == "all_at_mastery" and min(values) >= self._mastery):
            raw = math.fsum(values) / len(values)
        else:
            raw = min(values)
        score = round_score(raw)
        return Summary(score, self._level_points(score), len(values), missing, self._rollup_method, None, None)
