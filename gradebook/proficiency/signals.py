"""Signals for teachers: the direction of recent evidence, and things worth a second look."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ._format import format_date, format_score, pieces
from .methods import _prepare
from .observation import Observation

TRENDS: tuple[str, ...] = ("improving", "steady", "slipping")
FLAG_CODES: tuple[str, ...] = ("too_little_evidence", "stale", "outlier")


def _slope(values: list[float]) -> float:
    k = len(values)
    mean_x = (k - 1) / 2
    mean_y = math.fsum(values) / k
    sxx = math.fsum([(i - mean_x) ** 2 for i in range(k)])
    return math.fsum([(i - mean_x) * (v - mean_y) for i, v in enumerate(values)]) / sxx


def trend(
    observations: Iterable[Observation | float],
    *,
    window: int = 3,
    threshold: float = 0.25,
) -> str | None:
    """Direction of the most recent evidence: "improving", "steady" or "slipping".

    Why: a score says where a learner is; the direction says where they are
    heading, which changes what a teacher does next. Rule: the least-squares
    slope of the last ``window`` counted scores against their position
    (0, 1, 2, ...) — the average change per piece of evidence. Above
    ``threshold`` is "improving", below −``threshold`` is "slipping",
    otherwise "steady". Evidence with weight 0 is not counted. Fewer than 2
    counted pieces → None (no direction from one point).
    """
    if type(window) is not int or window < 2:
        raise ValueError(f"window must be a whole number of at least 2, got {window!r}.")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold < math.inf:
        raise ValueError(f"threshold must be a finite number of 0 or more, got {threshold!r}.")
    values = _prepare(observations)[0][-window:]
    if len(values) < 2:
        return None
    slope = _slope(values)
    if slope > threshold:
        return "improving"
    if slope < -threshold:
        return "slipping"
    return "steady"


@dataclass(frozen=True, slots=True)
class Flag:
    """Something a teacher may want to look at, in plain English.

    ``code`` is one of "too_little_evidence", "stale", "outlier";
    ``observation`` is the evidence concerned, if any.
    """

    code: str
    message: str
    observation: Observation | None = None

    @property
    def ref(self) -> object:
        """The caller's id of the evidence concerned, if any.

        Why: lets the web layer link the flag to the evidence.
        """
        return None if self.observation is None else self.observation.ref

    def __str__(self) -> str:
        return self.message


def _name(o: Observation, position: int) -> str:
    text = f"The {format_score(o.score)}"
    if o.observed_on is not None:
        text += f" on {format_date(o.observed_on)}"
    if o.label:
        text += f" ({o.label})"
    if o.observed_on is None and not o.label:
        text += f" (evidence {position})"
    return text


def flags(
    observations: Iterable[Observation | float],
    *,
    today: date,
    min_evidence: int,
    stale_after_days: int = 120,
    outlier_distance: float = 1.5,
) -> list[Flag]:
    """Plain-English warnings about a series of evidence.

    Why each exists:

    * "too_little_evidence" — fewer counted pieces than ``min_evidence``: a
      result would not yet be trustworthy.
    * "stale" — the newest dated, counted piece is more than
      ``stale_after_days`` old: the result may no longer describe the learner.
    * "outlier" — with at least 3 counted pieces, a score at least
      ``outlier_distance`` away from the median of the other scores: it may be
      a bad day, a data-entry slip or a real change, and is worth a look.

    Evidence with weight 0 is not counted.
    """
    if not isinstance(today, date):
        raise TypeError(f"today must be a date, got {today!r}.")
    if type(min_evidence) is not int or min_evidence < 1:
        raise ValueError(f"min_evidence must be a whole number of at least 1, got {min_evidence!r}.")
    if type(stale_after_days) is not int or stale_after_days < 1:
        raise ValueError(f"stale_after_days must be a whole number of at least 1, got {stale_after_days!r}.")
    if (
        isinstance(outlier_distance, bool)
        or not isinstance(outlier_distance, int | float)
        or not 0 < outlier_distance < math.inf
    ):
        raise ValueError(f"outlier_distance must be a number greater than 0, got {outlier_distance!r}.")
    values, _weights, counted, _ordered, _excluded = _prepare(observations)
    evidence = counted if counted is not None else [Observation(score=v) for v in values]
    out: list[Flag] = []
    count = len(evidence)
    if count < min_evidence:
        more = min_evidence - count
        have = (
            "There is no evidence yet"
            if count == 0
            else (f"There {'is' if count == 1 else 'are'} only {pieces(count)} of evidence")
        )
        out.append(
            Flag(
                "too_little_evidence",
                f"{have}; {more} more {'is' if more == 1 else 'are'} needed before a result is shown.",
            )
        )
    dated = [o for o in evidence if o.observed_on is not None]
    if dated:
        newest = max(dated, key=lambda o: o.observed_on)  # type: ignore[arg-type,return-value]
        age = (today - newest.observed_on).days  # type: ignore[operator]
        if age > stale_after_days:
            what = f" ({newest.label})" if newest.label else ""
            out.append(
                Flag(
                    "stale",
                    f"The most recent evidence{what} is from {format_date(newest.observed_on)}, "  # type: ignore[arg-type]
                    f"{age} days ago; the result may no longer show where the learner is.",
                    newest,
                )
            )
    if count >= 3:
        for i, o in enumerate(evidence):
            others = values[:i] + values[i + 1 :]
            if abs(o.score - statistics.median(others)) >= outlier_distance:
                out.append(Flag("outlier", f"{_name(o, i + 1)} is far from the other scores.", o))
    return out
