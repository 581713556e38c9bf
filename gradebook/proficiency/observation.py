"""A single piece of evidence: one score on one standard at one time."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ._format import format_date


def describe_evidence(label: str = "", observed_on: date | None = None) -> str:
    """Name a piece of evidence for an error message or a flag: "Unit test, 3 Oct 2026".

    Why: a person fixing bad data needs to know which assessment it was.
    """
    parts = [p for p in (label, format_date(observed_on) if observed_on else "") if p]
    return ", ".join(parts)


def check_score(value: object, where: str = "") -> float:
    """Accept a score only if it is a finite number of 0 or more.

    Why: a negative, missing (NaN) or infinite score is a data-entry or import
    error; averaging it in would silently produce a nonsense grade, so it is
    refused with a message saying which evidence is wrong.
    """
    suffix = f" ({where})" if where else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise TypeError(f"A score must be a number, got {value!r}{suffix}.")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"A score must be a finite number, got {value!r}{suffix}.")
    if number < 0:
        raise ValueError(f"A score cannot be negative, got {value!r}{suffix}. Scores start at 0.")
    return value if type(value) in (int, float) else number  # type: ignore[return-value]


def check_evidence_weight(value: object, where: str = "") -> float:
    """Accept an evidence weight only if it is a finite number of 0 or more.

    Why: a weight says how much a kind of assessment counts; 0 means "does
    not count" (e.g. practice), and a negative weight has no meaning.
    """
    suffix = f" ({where})" if where else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise TypeError(f"An evidence weight must be a number, got {value!r}{suffix}.")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(
            f"An evidence weight must be 0 or more (0 means 'does not count'), got {value!r}{suffix}."
        )
    return value if type(value) in (int, float) else number  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Observation:
    """One piece of evidence.

    ``weight`` is how much this piece counts by kind of assessment (1 by
    default; 0 means "does not count", e.g. practice). ``average``,
    ``weighted_average`` (for the earlier evidence) and ``n_mastery`` use it
    as a weighted mean; the other methods ignore it except that weight-0
    evidence is left out entirely and the explanation says so.

    ``label`` (e.g. the assessment title), ``kind`` and ``ref`` (an opaque id
    for the caller) are carried into the explanation steps. A ``datetime``
    given as ``observed_on`` is reduced to its date.
    """

    score: float
    observed_on: date | None = None
    recorded_at: datetime | None = None
    weight: float = 1.0
    label: str = ""
    kind: str = ""
    ref: object = None

    def __post_init__(self) -> None:
        score = self.score
        if type(score) is not int and type(score) is not float or not (0 <= score < math.inf):
            where = describe_evidence(self.label, self._date_or_none())
            object.__setattr__(self, "score", check_score(score, where))
        weight = self.weight
        if type(weight) is not float and type(weight) is not int or not (0 <= weight < math.inf):
            where = describe_evidence(self.label, self._date_or_none())
            object.__setattr__(self, "weight", check_evidence_weight(weight, where))
        observed_on = self.observed_on
        if observed_on is not None:
            if isinstance(observed_on, datetime):
                object.__setattr__(self, "observed_on", observed_on.date())
            elif not isinstance(observed_on, date):
                raise TypeError(f"observed_on must be a date or None, got {observed_on!r}.")
        if self.recorded_at is not None and not isinstance(self.recorded_at, datetime):
            raise TypeError(f"recorded_at must be a datetime or None, got {self.recorded_at!r}.")

    def _date_or_none(self) -> date | None:
        return self.observed_on if isinstance(self.observed_on, date) else None
