"""Roll-ups: from the results of child standards (skills) to a parent standard."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

from ._format import format_percent, format_result, format_score, round_score
from .explanation import Explanation, Step
from .scale import Level, Scale

ROLLUP_RULES: tuple[str, ...] = ("average", "lowest", "all_at_mastery")


@dataclass(frozen=True, slots=True)
class ChildResult:
    """The result of one child standard; ``score`` None means not enough evidence yet."""

    code: str
    statement: str
    score: float | None

    @property
    def name(self) -> str:
        """ "ALG.1 (Solve linear equations)" — how the child is named in explanations.

        Why: families need to recognise the skill, not just its code.
        """
        if self.statement and self.code:
            return f"{self.code} ({self.statement})"
        return self.code or self.statement or "a skill"


@dataclass(frozen=True)
class RollupResult:
    """The outcome of :func:`rollup`.

    ``missing`` are children with no score (named in the explanation, never
    silently dropped); ``not_at_mastery`` are scored children below mastery.
    """

    score: float | None
    raw: float | None
    rule: str
    count: int
    level: Level | None
    missing: tuple[ChildResult, ...]
    not_at_mastery: tuple[ChildResult, ...]
    explanation: Explanation
    children: tuple[ChildResult, ...] = field(default_factory=tuple)


def _names(children: Sequence[ChildResult]) -> str:
    names = [c.name for c in children]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def rollup(
    children: Sequence[ChildResult],
    rule: str = "average",
    *,
    mastery: float | None = None,
    scale: Scale | None = None,
) -> RollupResult:
    """Combine child-standard results into one result for the parent standard.

    Rules (why):

    * ``average`` — the parent is the sum of its parts: mean of the children
      that have a score.
    * ``lowest`` — a standard is only as secure as its weakest skill: the
      lowest child score.
    * ``all_at_mastery`` — the parent is mastered only when every skill is:
      if every scored child is at or above mastery, the mean of the children
      (so exceeding still shows); otherwise the lowest child score, which is
      below mastery, and the explanation names the skills not there yet.

    Children without a score (not enough evidence) are left out of the
    calculation under every rule, but always named in the explanation. No
    scored children → score None. ``mastery`` defaults to the scale's
    mastery level, or 3. Unknown rule → ValueError.
    """
    if not isinstance(rule, str) or rule not in ROLLUP_RULES:
        raise ValueError(f"Unknown roll-up rule {rule!r}. Choose one of: {', '.join(ROLLUP_RULES)}.")
    if scale is not None and not isinstance(scale, Scale):
        raise TypeError(f"scale must be a Scale, got {scale!r}.")
    if mastery is None:
        mastery = scale.mastery.points if scale is not None else 3.0
    elif isinstance(mastery, bool) or not isinstance(mastery, numbers.Real) or not 0 <= mastery < math.inf:
        raise ValueError(f"mastery must be a finite number of 0 or more, got {mastery!r}.")
    kids = tuple(children)
    for child in kids:
        if not isinstance(child, ChildResult):
            raise TypeError(f"rollup() takes ChildResult objects, got {child!r}.")
        s = child.score
        if s is not None and (
            isinstance(s, bool) or not isinstance(s, numbers.Real) or not 0 <= s < math.inf
        ):
            raise ValueError(
                f"The score of {child.name} must be a finite number of 0 or more or None, got {s!r}."
            )
    scored_at = [i for i, c in enumerate(kids) if c.score is not None]
    scored = [kids[i] for i in scored_at]
    missing = tuple(c for c in kids if c.score is None)
    below = tuple(c for c in scored if c.score < mastery)  # type: ignore[operator]

    coefs: dict[int, float] = {}  # index in kids -> share of the result
    raw: float | None = None
    use_mean = rule == "average" or (rule == "all_at_mastery" and not below)
    if scored:
        values = [float(c.score) for c in scored]  # type: ignore[arg-type]
        if use_mean:
            raw = math.fsum(values) / len(values)
            coefs = dict.fromkeys(scored_at, 1 / len(values))
        else:
            lowest = min(range(len(values)), key=values.__getitem__)
            raw = values[lowest]
            coefs = {scored_at[lowest]: 1.0}
    score = None if raw is None else round_score(raw)
    level = scale.level_for(score) if scale is not None and score is not None else None

    steps = []
    for i, child in enumerate(kids):
        share = coefs.get(i)
        if child.score is None:
            role = "not included"
        elif use_mean:
            role = f"counts {format_percent(share or 0.0)}"
        elif rule == "all_at_mastery" and child.score < mastery:
            role = "not yet at mastery — lowest, this is the result" if share else "not yet at mastery"
        elif share:
            role = "lowest — this is the result"
        else:
            role = "not used, only the lowest counts"
        steps.append(
            Step(
                child.name, child.score, role, None, None, share, child.score is not None, 1.0, "", child.code
            )
        )
    terms = tuple((float(kids[i].score), c) for i, c in coefs.items())  # type: ignore[arg-type]

    shown_mastery = format_score(mastery)
    if rule == "average":
        summary = "We average the results of the skills that make up this standard, each counting equally."
    elif rule == "lowest":
        summary = "A standard is only as secure as its weakest skill, so we use the lowest skill result."
    else:
        summary = (
            f"The standard is met only when every skill in it is at mastery ({shown_mastery} or above): "
            "then we average the skill results; otherwise we use the lowest skill result."
        )
    if raw is None:
        arithmetic = ""
    elif use_mean:
        arithmetic = (
            f"({' + '.join(format_score(v) for v, _ in terms)}) ÷ {len(terms)} = {format_result(raw)}"
        )
    else:
        arithmetic = f"lowest of {', '.join(format_score(c.score) for c in scored)} = {format_result(raw)}"  # type: ignore[arg-type]

    if raw is None:
        outcome = "No result yet: none of the skills has enough evidence."
    else:
        outcome = f"Result: {format_result(raw)}" + (f" ({level.label})." if level else ".")
    if below and rule == "all_at_mastery":
        verb = "is" if len(below) == 1 else "are"
        outcome += f" Not yet at mastery: {_names(below)} {verb} below {shown_mastery}."
    if missing:
        verb = "has" if len(missing) == 1 else "have"
        outcome += f" No evidence yet: {_names(missing)} {verb} no result yet, so {'it is' if len(missing) == 1 else 'they are'} not included."
    explanation = Explanation(
        summary=summary,
        steps=tuple(steps),
        arithmetic=arithmetic,
        outcome=outcome,
        terms=terms,
    )
    return RollupResult(score, raw, rule, len(scored), level, missing, below, explanation, kids)
