"""A school's grading policy, and teacher overrides of a calculated result."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ._format import format_result, format_score
from .explanation import Explanation
from .methods import (
    DEFAULT_N,
    DEFAULT_WEIGHT,
    METHODS,
    Result,
    check_params,
    compute,
)
from .observation import Observation, check_score
from .rollup import ROLLUP_RULES, RollupResult
from .scale import Level, Scale

TEACHER_JUDGEMENT = "Teacher judgement"


# A kind of assessment counts at most this many times as much as another: beyond it the arithmetic of a weighted
# mean loses its meaning (and at 1e308 overflows).
MAX_KIND_WEIGHT = 100


def _frozen_mapping(mapping: Mapping[str, float] | None) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Policy:
    """How a school turns evidence into results.

    ``method``/``weight``/``n``/``min_evidence`` are passed to ``compute``;
    ``rollup`` is the roll-up rule for parent standards; ``kind_weights``
    weighs evidence by assessment kind (a kind not listed counts 1; a kind
    with weight 0, e.g. practice, does not count). The default method is
    ``decaying_average``, a common school default, while ``compute()`` on
    its own defaults to ``average``. Construction does not validate, so a
    settings form can build a Policy and show all problems from
    :meth:`problems`; :meth:`validate` raises them.
    """

    method: str = "decaying_average"
    weight: float = DEFAULT_WEIGHT
    n: int = DEFAULT_N
    min_evidence: int = 1
    rollup: str = "average"
    kind_weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.kind_weights, MappingProxyType):
            if not isinstance(self.kind_weights, Mapping):
                raise TypeError(
                    f"kind_weights must be a mapping of kind to weight, got {self.kind_weights!r}."
                )
            object.__setattr__(self, "kind_weights", _frozen_mapping(self.kind_weights))

    def __hash__(self) -> int:
        return hash(
            (
                self.method,
                self.weight,
                self.n,
                self.min_evidence,
                self.rollup,
                tuple(sorted(self.kind_weights.items())),
            )
        )

    def problems(self) -> list[str]:
        """Every problem with this policy, as sentences a person can act on (empty if valid).

        Why: a settings form should show all mistakes at once, not one per save.
        """
        found = []
        if self.method not in METHODS:
            found.append(f"Unknown method {self.method!r}. Choose one of: {', '.join(METHODS)}.")
        for name, value in (("weight", self.weight), ("n", self.n), ("min_evidence", self.min_evidence)):
            kwargs: dict[str, Any] = {"weight": DEFAULT_WEIGHT, "n": 1, "min_evidence": 1}
            kwargs[name] = value
            try:
                check_params("average", kwargs["weight"], kwargs["n"], None, kwargs["min_evidence"])
            except ValueError as exc:
                found.append(str(exc))
        if self.rollup not in ROLLUP_RULES:
            found.append(f"Unknown roll-up rule {self.rollup!r}. Choose one of: {', '.join(ROLLUP_RULES)}.")
        for kind, value in self.kind_weights.items():
            if not isinstance(kind, str):
                found.append(f"Assessment kinds must be text, got {kind!r}.")
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
                or not 0 <= value <= MAX_KIND_WEIGHT
            ):
                found.append(
                    f"The weight for '{kind}' must be from 0 to {MAX_KIND_WEIGHT} (0 means 'does not count'), "
                    f"got {value!r}."
                )
        return found

    def validate(self) -> None:
        """Raise ValueError listing every problem with this policy.

        Why: a broken policy must never silently grade students.
        """
        found = self.problems()
        if found:
            raise ValueError(" ".join(found))

    def weight_for(self, kind: str) -> float:
        """The evidence weight for an assessment kind (1 if the kind is not listed).

        Why: schools weigh e.g. unit tests above quizzes, and not practice at all.
        """
        return self.kind_weights.get(kind, 1.0)

    def apply(self, observations: Iterable[Observation | float]) -> list[Observation]:
        """Return the observations with each weight set from ``kind_weights``.

        Why: the policy, not whoever entered the evidence, decides how much
        each kind of assessment counts. Evidence already given no weight (an
        assessment the teacher set not to count) stays uncounted whatever its
        kind weighs. Plain numbers become Observations with no kind (weight 1).
        """
        out = []
        weights = self.kind_weights
        for i, item in enumerate(observations):
            if isinstance(item, Observation):
                w = 0.0 if item.weight == 0 else weights.get(item.kind, 1.0)
                out.append(item if item.weight == w else replace(item, weight=w))
            else:
                out.append(Observation(score=check_score(item, f"item {i + 1}"), weight=weights.get("", 1.0)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this policy.

        Why: policies are stored as JSON in the database.
        """
        return {
            "method": self.method,
            "weight": self.weight,
            "n": self.n,
            "min_evidence": self.min_evidence,
            "rollup": self.rollup,
            "kind_weights": dict(self.kind_weights),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Rebuild and validate a policy stored with :meth:`to_dict`; missing keys take defaults.

        Why: stored settings may be old or hand-edited; unknown keys are
        refused rather than ignored so a typo cannot silently change grades.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"A stored policy must be a JSON object, got {data!r}.")
        known = {"method", "weight", "n", "min_evidence", "rollup", "kind_weights"}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ValueError(
                f"Unknown policy setting(s): {', '.join(unknown)}. Known settings: {', '.join(sorted(known))}."
            )
        kind_weights = data.get("kind_weights") or {}
        if not isinstance(kind_weights, Mapping):
            raise ValueError(f"kind_weights must be an object of kind to weight, got {kind_weights!r}.")
        policy = cls(**{k: v for k, v in data.items() if k != "kind_weights"}, kind_weights=kind_weights)
        policy.validate()
        return policy


def compute_with_policy(
    observations: Iterable[Observation | float],
    policy: Policy,
    *,
    scale: Scale | None = None,
) -> Result:
    """Compute a result the way the school's policy says.

    Why: one call site for the app, so every page grades the same way. The
    policy is validated first; mastery is the scale's mastery level (3
    without a scale).
    """
    policy.validate()
    return compute(
        policy.apply(observations),
        method=policy.method,
        weight=policy.weight,
        n=policy.n,
        min_evidence=policy.min_evidence,
        scale=scale,
    )


@dataclass(frozen=True)
class OverriddenResult:
    """A teacher's judgement that replaces a calculated result, keeping the calculation for display.

    ``level`` and ``score`` (the level's points) are the teacher's;
    ``computed`` is the calculated Result (or RollupResult) it overrides.
    """

    computed: Result | RollupResult
    level: Level
    reason: str
    by: str
    source: str = TEACHER_JUDGEMENT

    @property
    def score(self) -> float:
        """The reported score: the chosen level's points.

        Why: an override is a judgement of level, so its score is the level.
        """
        return self.level.points

    @property
    def is_override(self) -> bool:
        """Always True.

        Why: templates can tell overridden and calculated results apart.
        """
        return True

    @property
    def computed_level(self) -> Level | None:
        """The level the calculation gave.

        Why: shown alongside the teacher's judgement for transparency.
        """
        return self.computed.level

    @property
    def explanation(self) -> Explanation:
        """The calculated result's explanation.

        Why: families can still see what the evidence said.
        """
        return self.computed.explanation

    def __str__(self) -> str:
        computed = self.computed
        if computed.score is None:
            calc = "There was no calculated result yet."
        else:
            lvl = f" ({computed.level.label})" if computed.level is not None else ""
            calc = f"The calculated result was {format_result(computed.score)}{lvl}."
        reason = self.reason if self.reason[-1:] in ".!?" else self.reason + "."
        return (
            f"{self.source}: {self.level.label} ({format_score(self.level.points)}), set by {self.by}. "
            f"Reason: {reason} {calc}"
        )


def apply_override(
    result: Result | RollupResult,
    *,
    level_points: float,
    reason: str,
    by: str,
    scale: Scale,
) -> OverriddenResult:
    """Replace a calculated result's level with a teacher's judgement.

    Why: the teacher knows things the numbers do not (absence, a conversation
    showing understanding). The final level is the teacher's, labelled
    "Teacher judgement" with the reason; the calculated result is kept so
    the difference stays visible. A reason is required because families and
    colleagues are owed one; ``level_points`` must be a level on the scale.
    """
    if not isinstance(scale, Scale):
        raise TypeError(f"scale must be a Scale, got {scale!r}.")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("An override needs a reason (e.g. 'Showed mastery in conference on 3 Oct').")
    if not isinstance(by, str) or not by.strip():
        raise ValueError("An override must say who made it (the teacher's name).")
    level = scale.level_with_points(level_points)
    return OverriddenResult(result, level, reason.strip(), by.strip())
