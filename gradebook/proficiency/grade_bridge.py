"""The grade bridge: a school's published decision table from a student's levels to a term grade.

Districts still need a term grade for the SIS. A school that publishes how levels become a grade keeps
families' trust, so the rule is a short table anyone can read, not a formula:

    A  when all skills are at Meets or above and at least half are at Exceeds or above
    B  when all skills are at Meets or above
    C  when at least 75% of skills are at Meets or above
    D  when at least half of skills are at Meets or above
    I  otherwise (not yet)

The rule: rules are read top to bottom and **the first rule whose conditions all hold decides**; when none
holds the grade is the table's ``otherwise``. A condition says "at least p% of the skills are at level L or
above"; with n skills counted it needs ⌈p·n/100⌉ of them. Grades run best first: a grade may repeat on
consecutive rules (two ways to an A) but not come back after another grade, so that raising any level never
lowers the grade (a condition that held still holds, so the deciding rule can only move up the table).

A skill with no level yet either counts as not reached (``no_level="below"``, below every level: the
default, the honest one at the end of a term) or is left out of the count (``no_level="left_out"``).

Habits of work never enter here: the table is given achievement levels only.

Pure: plain values in, plain values out. The sentences live in :mod:`.grade_bridge_text`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GRADE_MAX_LENGTH = 12
MAX_RULES = 12
MAX_CONDITIONS = 4
NO_LEVEL_MODES = ("below", "left_out")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BridgeError(ValueError):
    """A table that cannot be published, with every reason in plain words (``problems``)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(" ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Condition:
    """At least ``percent`` % of the skills are at ``points`` (a level of the scale) or above."""

    percent: int
    points: float

    def needed(self, total: int) -> int:
        """How many of ``total`` skills must be at the level or above: ⌈percent·total/100⌉ (exact integers)."""
        return (self.percent * total + 99) // 100

    @property
    def all(self) -> bool:
        return self.percent == 100


@dataclass(frozen=True, slots=True)
class Rule:
    """``grade`` when every condition holds."""

    grade: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class GradeBridge:
    """An ordered decision table: the first rule that holds decides; none → ``otherwise``."""

    rules: tuple[Rule, ...]
    otherwise: str = "I"
    no_level: str = "below"

    @property
    def grades(self) -> tuple[str, ...]:
        """The grades best first, each once, ending with ``otherwise``."""
        seen: list[str] = []
        for rule in self.rules:
            if rule.grade not in seen:
                seen.append(rule.grade)
        if self.otherwise not in seen:
            seen.append(self.otherwise)
        return tuple(seen)

    def rank(self, grade: str) -> int:
        """0 for the best grade; higher is lower."""
        return self.grades.index(grade)

    def thresholds(self) -> tuple[float, ...]:
        """Every level a condition names, highest first."""
        return tuple(sorted({c.points for r in self.rules for c in r.conditions}, reverse=True))

    def to_dict(self) -> dict[str, Any]:
        return {"rules": [{"grade": r.grade, "conditions": [{"percent": c.percent, "points": c.points}
                                                            for c in r.conditions]} for r in self.rules],
                "otherwise": self.otherwise, "no_level": self.no_level}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradeBridge:
        """Read a stored or posted table; shapes that are not a table raise :class:`BridgeError`."""
        try:
            rules = tuple(
                Rule(str(r["grade"]), tuple(Condition(_whole(c["percent"]), _number(c["points"]))
                                            for c in r["conditions"]))
                for r in data["rules"])
            return cls(rules, str(data.get("otherwise", "I")), str(data.get("no_level", "below")))
        except (KeyError, TypeError, ValueError) as error:
            raise BridgeError([f"This is not a grade table ({error})."]) from None

    def validate(self, levels: Iterable[float] | None = None) -> GradeBridge:
        """Raise :class:`BridgeError` naming every problem (rule by number, from 1); return self when sound.

        ``levels``: the points of the school's scale; a condition must name one of them."""
        problems: list[str] = []
        points = None if levels is None else {float(p) for p in levels}
        if not self.rules:
            problems.append("Add at least one rule.")
        if len(self.rules) > MAX_RULES:
            problems.append(f"Keep the table to {MAX_RULES} rules or fewer.")
        if self.no_level not in NO_LEVEL_MODES:
            problems.append(f"“{self.no_level}” is not a way to count skills with no level yet.")
        for what, grade in [*((f"Rule {i}", r.grade) for i, r in enumerate(self.rules, 1)),
                            ("The grade for “otherwise”", self.otherwise)]:
            if not grade.strip():
                problems.append(f"{what} needs a grade (for example B).")
            elif len(grade) > GRADE_MAX_LENGTH or _CONTROL.search(grade) or grade != grade.strip():
                problems.append(f"{what}: a grade is a short word of at most {GRADE_MAX_LENGTH} characters, "
                                f"without spaces around it.")
        for i, rule in enumerate(self.rules, 1):
            if not rule.conditions:
                problems.append(f"Rule {i} ({rule.grade}) has no condition; the grade for “otherwise” is the "
                                f"rule that needs none.")
            if len(rule.conditions) > MAX_CONDITIONS:
                problems.append(f"Rule {i} ({rule.grade}) has more than {MAX_CONDITIONS} conditions.")
            for c in rule.conditions:
                if not 1 <= c.percent <= 100:
                    problems.append(f"Rule {i} ({rule.grade}): a share of skills is from 1% to 100%, "
                                    f"not {c.percent}%.")
                if points is not None and float(c.points) not in points:
                    problems.append(f"Rule {i} ({rule.grade}): {c.points:g} is not a level of the scale.")
        seen: list[str] = []
        for i, rule in enumerate(self.rules, 1):
            if rule.grade in seen and seen[-1] != rule.grade:
                problems.append(f"Rule {i} gives {rule.grade} again after {seen[-1]}: list the grades best first, "
                                f"with the rules for one grade together.")
            if not seen or seen[-1] != rule.grade:
                seen.append(rule.grade)
        if self.otherwise in seen:
            problems.append(f"“Otherwise” gives {self.otherwise}, which a rule gives too: otherwise is the "
                            f"grade below every rule.")
        for i, later in enumerate(self.rules, 1):
            for j, earlier in enumerate(self.rules[: i - 1], 1):
                if later.conditions and _implies(later, earlier):
                    problems.append(f"Rule {i} ({later.grade}) can never decide: every student it fits is "
                                    f"already given {earlier.grade} by rule {j}.")
                    break
        if problems:
            raise BridgeError(problems)
        return self


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    number = float(value)
    if not math.isfinite(number) or number != int(number):
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a number")
    return number


def _implies(later: Rule, earlier: Rule) -> bool:
    """Whenever ``later`` holds, ``earlier`` holds: each of earlier's conditions is asked for at least as
    strongly (as big a share at as high a level) by one of later's."""
    return all(any(c.percent >= e.percent and c.points >= e.points for c in later.conditions)
               for e in earlier.conditions)


DEFAULT_BRIDGE = GradeBridge(
    rules=(
        Rule("A", (Condition(100, 3.0), Condition(50, 4.0))),
        Rule("B", (Condition(100, 3.0),)),
        Rule("C", (Condition(75, 3.0),)),
        Rule("D", (Condition(50, 3.0),)),
    ),
    otherwise="I",
    no_level="below",
)
"""The table a school starts from, on the default scale (4 Exceeds · 3 Meets · 2 Approaching · 1 Beginning)."""


@dataclass(frozen=True, slots=True)
class Count:
    """``have`` of the counted skills are at the condition's level or above; ``need`` are asked for."""

    condition: Condition
    have: int
    need: int

    @property
    def holds(self) -> bool:
        return self.have >= self.need

    @property
    def missing(self) -> int:
        return max(0, self.need - self.have)


@dataclass(frozen=True, slots=True)
class TermGrade:
    """The grade, the rule that decided it (None: no rule held, the grade is ``otherwise``), the counts
    behind it, and what the next better grade asks for that is not there yet."""

    grade: str
    rule: int | None
    total: int
    no_level: int
    no_level_mode: str
    because: tuple[Count, ...]
    next_grade: str | None = None
    next_needs: tuple[Count, ...] = field(default=())

    @property
    def decided_by_a_rule(self) -> bool:
        return self.rule is not None


def _counts(rule: Rule, counted: Sequence[float], total: int) -> tuple[Count, ...]:
    return tuple(Count(c, sum(1 for p in counted if p >= c.points), c.needed(total)) for c in rule.conditions)


def term_grade(levels: Sequence[float | None], bridge: GradeBridge) -> TermGrade:
    """The term grade for one student in one class from the level points of each of its skills (None: no
    level yet), by the first rule of ``bridge`` that holds. With no skill counted, the grade is ``otherwise``.
    """
    no_level = sum(1 for p in levels if p is None)
    counted = [float(p) for p in levels if p is not None]
    total = len(levels) if bridge.no_level == "below" else len(counted)
    if total == 0:
        return TermGrade(bridge.otherwise, None, 0, no_level, bridge.no_level, ())
    decided: int | None = None
    because: tuple[Count, ...] = ()
    for index, rule in enumerate(bridge.rules):
        counts = _counts(rule, counted, total)
        if all(c.holds for c in counts):
            decided, because = index, counts
            break
    grade = bridge.rules[decided].grade if decided is not None else bridge.otherwise
    next_grade, next_needs = _next_better(bridge, grade, counted, total)
    return TermGrade(grade, decided, total, no_level, bridge.no_level, because, next_grade, next_needs)


def _next_better(bridge: GradeBridge, grade: str, counted: Sequence[float],
                 total: int) -> tuple[str | None, tuple[Count, ...]]:
    """The grade just above, by its rule with the fewest skills still missing, and those unmet counts."""
    rank = bridge.rank(grade)
    if rank == 0:
        return None, ()
    better = bridge.grades[rank - 1]
    options = [_counts(rule, counted, total) for rule in bridge.rules if rule.grade == better]
    best = min(options, key=lambda counts: sum(c.missing for c in counts))
    return better, tuple(c for c in best if not c.holds)
