"""Structured, plain-English explanations of how a result was reached.

An :class:`Explanation` is a frozen dataclass. Explanations made by
``compute`` are *lazy*: the structure (steps, terms, sentences) is only built
the first time one of its fields is read, so computing thousands of results
for a gradebook page costs little, while any result can still be explained
in full on demand. Once built, a field never changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ._format import format_date, format_score


@dataclass(frozen=True, slots=True)
class Step:
    """One line of an explanation: a piece of evidence (or a child standard) and its role.

    ``role`` is plain English such as "latest — counts 65%",
    "earlier — counts 35% shared", "ignored: below mastery" or
    "not counted: practice". ``coefficient`` is this piece's share of the
    result for methods that are a weighted sum (None otherwise).
    ``position`` is 1-based among the counted evidence (None if not counted).
    """

    label: str
    score: float | None
    role: str
    observed_on: date | None = None
    position: int | None = None
    coefficient: float | None = None
    counted: bool = True
    weight: float = 1.0
    kind: str = ""
    ref: object = None

    def __str__(self) -> str:
        head = ", ".join(
            p for p in (format_date(self.observed_on) if self.observed_on else "", self.label) if p
        )
        if not head:
            head = f"Evidence {self.position}" if self.position else "Evidence"
        value = "no evidence yet" if self.score is None else format_score(self.score)
        return f"{head}: {value} ({self.role})"


@dataclass(frozen=True, slots=True)
class WhatIf:
    """What the result would become after one more piece of evidence at ``points``.

    ``score`` is None when one more piece would still not be enough for a
    result; ``needed`` then says how many more would still be needed.
    """

    points: float
    score: float | None
    level_label: str
    sentence: str
    level: Any = None
    needed: int = 0

    def __str__(self) -> str:
        return self.sentence


def _none() -> None:
    return None


_LAZY_FIELDS = frozenset(
    {"summary", "steps", "arithmetic", "outcome", "what_if", "terms", "a", "b", "curve_at", "curve_bounds"}
)


@dataclass(frozen=True)
class Explanation:
    """How a result was reached, fit for a parent.

    Fields:

    * ``summary`` — the method in one plain sentence.
    * ``steps`` — each piece of evidence, oldest first, with its date, label,
      score and role (including evidence that was not counted).
    * ``arithmetic`` — the working, e.g. "4 × 0.65 + 2.00 × 0.35 = 3.30".
    * ``outcome`` — the result, or why there is none yet and how many more
      pieces of evidence are needed.
    * ``what_if`` — one more piece of evidence at each level (only when a
      scale was given).
    * ``terms`` — (value, coefficient) pairs whose sum of products is the
      unrounded result, for every method that is a weighted sum (latest,
      highest and mode are a single term with coefficient 1). The
      arithmetic string is generated from the same coefficients. ``()`` when
      there is no result; ``None`` for the power-law curve, which is
      described instead by ``a``, ``b``, ``curve_at`` and ``curve_bounds``
      (result = a × curve_at ** b, kept within curve_bounds).

    ``str(explanation)`` joins these into readable English paragraphs.
    """

    summary: str = field(default_factory=str)
    steps: tuple[Step, ...] = field(default_factory=tuple)
    arithmetic: str = field(default_factory=str)
    outcome: str = field(default_factory=str)
    what_if: tuple[WhatIf, ...] = field(default_factory=tuple)
    terms: tuple[tuple[float, float], ...] | None = field(default_factory=tuple)
    a: float | None = field(default_factory=_none)
    b: float | None = field(default_factory=_none)
    curve_at: int | None = field(default_factory=_none)
    curve_bounds: tuple[float, float] | None = field(default_factory=_none)

    def __getattr__(self, name: str) -> Any:
        # Only reached when a field has not been built yet (lazy explanations).
        if name not in _LAZY_FIELDS:
            raise AttributeError(name)
        state = self.__dict__
        render: Callable[[str, Explanation], dict[str, Any]] | None = state.get("_render")
        if render is None:
            raise AttributeError(name)
        state.update(render(name, self))
        return state[name]

    def reproduce(self) -> float | None:
        """Recalculate the unrounded result from ``terms`` (or the curve).

        Why: lets anyone check that the explanation is the calculation, not a
        story told next to it; property tests rely on this.
        """
        terms = self.terms
        if terms is None:
            if self.a is None or self.b is None or self.curve_at is None:
                return None
            value = self.a * self.curve_at**self.b
            if self.curve_bounds is not None:
                low, high = self.curve_bounds
                value = min(max(value, low), high)
            return value
        if not terms:
            return None
        return math.fsum([v * c for v, c in terms])

    def __str__(self) -> str:
        parts = [self.summary] if self.summary else []
        if self.steps:
            parts.append("Evidence, oldest first:\n" + "\n".join(f"- {step}" for step in self.steps))
        if self.arithmetic:
            parts.append(f"Working: {self.arithmetic}")
        if self.outcome:
            parts.append(self.outcome)
        if self.what_if:
            parts.append(
                "What one more piece of evidence would do:\n"
                + "\n".join(f"- {item.sentence}" for item in self.what_if)
            )
        return "\n\n".join(parts)
