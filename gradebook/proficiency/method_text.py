"""The sentences that explain a computed proficiency: the method in a sentence, each piece of evidence and
its role or weight, the arithmetic, and the outcome.

The maths lives in :mod:`.methods`; this module only renders it. A :class:`~.methods.Result` builds its
:class:`Explanation` lazily by calling :func:`_render` here.
"""

from __future__ import annotations

import math
from typing import Any

from ._format import (
    format_coefficient,
    format_percent,
    format_result,
    format_score,
    round_score,
)
from ._i18n import _, ngettext
from .explanation import Explanation, Step
from .methods import POWER_LAW_MIN_POINTS, Values, Weights, _mean, _mode_value, _what_ifs, power_law_fit
from .scale import Level


def _render(name: str, explanation: Explanation) -> dict[str, Any]:
    src = explanation.__dict__["_src"]
    if name in ("terms", "a", "b", "curve_at", "curve_bounds"):
        return _render_terms(src)
    if name == "what_if":
        (method, w, n, mastery, min_evidence, values, weights, *_rest, score, _needed, _level, scale) = src
        if scale is None:
            return {"what_if": ()}
        items = _what_ifs(method, values, weights, w, n, mastery, min_evidence, scale, score)
        return {"what_if": tuple(items)}
    explanation.terms  # noqa: B018 - make sure coefficients are built
    return _render_text(src, explanation.__dict__["_coefs"])


def _coefficients(
    method: str, values: Values, weights: Weights, w: float, mastery: float, raw: float | None
) -> list[float] | None:
    """Each counted piece's share of the result, for methods that are a weighted sum."""
    m = len(values)
    if raw is None:
        return None
    if method == "average" or (method == "power_law" and m < POWER_LAW_MIN_POINTS):
        if weights is None:
            return [1 / m] * m
        total = math.fsum(weights)
        return [x / total for x in weights]
    if method == "power_law":
        return None
    coefs = [0.0] * m
    if method == "latest":
        coefs[-1] = 1.0
    elif method in ("highest", "mode"):
        for i in range(m - 1, -1, -1):
            if values[i] == raw:
                coefs[i] = 1.0
                break
    elif method == "weighted_average":
        if m == 1:
            coefs[0] = 1.0
        else:
            if weights is None:
                coefs[:-1] = [(1 - w) / (m - 1)] * (m - 1)
            else:
                total = math.fsum(weights[:-1])
                coefs[:-1] = [(1 - w) * x / total for x in weights[:-1]]
            coefs[-1] = w
    elif method == "decaying_average":
        keep = 1 - w
        if m == 1:
            coefs[0] = 1.0
        else:
            coefs[0] = keep ** (m - 1)
            for i in range(1, m):
                coefs[i] = w * keep ** (m - 1 - i)
    elif method == "n_mastery":
        each = weights if weights is not None else [1.0] * m
        total = math.fsum([x for v, x in zip(values, each, strict=True) if v >= mastery])
        coefs = [x / total if v >= mastery else 0.0 for v, x in zip(values, each, strict=True)]
    return coefs


def _render_terms(src: tuple) -> dict[str, Any]:
    (method, w, _n, mastery, _me, values, weights, _counted, _ordered, _excl, raw, *_rest) = src
    coefs = _coefficients(method, values, weights, w, mastery, raw)
    out: dict[str, Any] = {"_coefs": coefs, "a": None, "b": None, "curve_at": None, "curve_bounds": None}
    if raw is None:
        out["terms"] = ()
    elif coefs is None:  # power-law curve
        a, b = power_law_fit(values)
        out.update(
            terms=None, a=a, b=b, curve_at=len(values), curve_bounds=(float(min(values)), float(max(values)))
        )
    else:
        out["terms"] = tuple((float(v), c) for v, c in zip(values, coefs, strict=True) if c > 0)
    return out


def _kind_word(kind: str) -> str:
    words = {"practice": _("practice"), "test": _("test"), "project": _("project"),
             "performance_task": _("performance task"), "observation": _("observation"),
             "conversation": _("conversation")}
    return words.get(kind, kind)


def _times(n: int) -> str:
    return ngettext("once", "%(num)d times", n) if n != 2 else _("twice")


def _summary(method: str, w: float, n: int, mastery: float, m: int, weighted: bool) -> str:
    if method == "average":
        if weighted:
            return _(
                "We take the average of all the work. Some kinds of work count more than others "
                "(each piece shows its weight)."
            )
        return _("We take the average of all the work. Each piece counts the same.")
    if method == "latest":
        return _("We use the most recent work, because it shows where the learner is now.")
    if method == "highest":
        return _("We use the highest score the learner has shown so far.")
    if method == "mode":
        return _("We use the score that comes up most often. If two scores tie, the more recent one counts.")
    if method == "weighted_average":
        return _("The most recent work counts %(share)s. All the work before it counts %(rest)s.",
                 share=format_percent(w), rest=format_percent(1 - w))
    if method == "decaying_average":
        return _("We go through the work in order. Each new piece counts %(share)s and all the work before it "
                 "%(rest)s. So new work counts most, and old work fades.",
                 share=format_percent(w), rest=format_percent(1 - w))
    if method == "n_mastery":
        return _("We wait until the learner has reached the goal (%(mastery)s or above) at least %(times)s. "
                 "Then we average those scores. Lower scores are not held against them.",
                 mastery=format_score(mastery), times=_times(n))
    text = _("We draw a smooth learning curve through the work, in order, and read where it is at the "
             "latest piece. It never goes past the lowest or highest score.")
    if m < POWER_LAW_MIN_POINTS:
        text += " " + _("With fewer than 3 pieces there is no curve yet, so we use the average.")
    return text


def _roles(
    method: str,
    values: Values,
    weights: Weights,
    coefs: list[float] | None,
    raw: float | None,
    w: float,
    mastery: float,
) -> list[str]:
    m = len(values)
    if method == "n_mastery":
        out = []
        for i, v in enumerate(values):
            if v < mastery:
                out.append(_("not counted: below the goal"))
            elif coefs is None:
                out.append(_("at the goal"))
            else:
                out.append(_("at the goal — counts %(share)s", share=format_percent(coefs[i])))
        return out
    if coefs is None:
        if raw is None:
            return [_("counted, but more work is needed for a result")] * m
        return [_("point %(i)d of %(m)d on the learning curve", i=i, m=m) for i in range(1, m + 1)]
    if m == 1:
        return [_("the only piece — counts all")]
    if method == "average" or method == "power_law":
        if weights is None:
            return [_("counts %(share)s", share=format_percent(c)) for c in coefs]
        return [
            _("counts %(share)s, weight %(weight)s", share=format_percent(c), weight=format_score(x))
            for c, x in zip(coefs, weights, strict=True)
        ]
    if method == "latest":
        return [_("earlier — not used, only the latest counts")] * (m - 1) + [_("latest — counts all")]
    if method == "highest":
        return [_("highest — counts all") if c else _("not used, only the highest counts") for c in coefs]
    if method == "mode":
        chosen = coefs.index(1.0)
        value = values[chosen]
        freq = sum(1 for v in values if v == value)
        if freq == 1:
            return [_("no score repeats, so the most recent counts — counts all") if c else _("not used")
                    for c in coefs]
        out = []
        for c, v in zip(coefs, values, strict=True):
            if c:
                out.append(_("most frequent score (%(times)s) — counts all", times=_times(freq)))
            elif v == value:
                out.append(_("most frequent score (%(times)s)", times=_times(freq)))
            else:
                out.append(_("not used, not the most frequent score"))
        return out
    if method == "weighted_average":
        share = format_percent(1 - w)
        if weights is None:
            earlier = [_("earlier — counts %(share)s shared", share=share)] * (m - 1)
        else:
            earlier = [_("earlier — shares %(share)s, weight %(weight)s", share=share, weight=format_score(x))
                       for x in weights[:-1]]
        return [*earlier, _("latest — counts %(share)s", share=format_percent(w))]
    # decaying_average
    return [_("earlier — counts %(share)s", share=format_percent(c)) for c in coefs[:-1]] + [
        _("latest — counts %(share)s", share=format_percent(coefs[-1]))
    ]


def _mean_working(values: Values, weights: Weights) -> str:
    if weights is None:
        inner = " + ".join(format_score(v) for v in values)
        return f"({inner}) ÷ {len(values)}"
    inner = " + ".join(f"{format_score(v)} × {format_score(x)}" for v, x in zip(values, weights, strict=True))
    return f"({inner}) ÷ {format_score(math.fsum(weights))}"


def _arithmetic(
    method: str,
    values: Values,
    weights: Weights,
    coefs: list[float] | None,
    raw: float,
    w: float,
    mastery: float,
) -> str:
    m = len(values)
    result = format_result(raw)
    if method == "average" or (method == "power_law" and m < POWER_LAW_MIN_POINTS):
        return f"{_mean_working(values, weights)} = {result}"
    if method == "power_law":
        a, b = power_law_fit(values)
        curve = a * m**b
        text = _("learning curve") + f" {format_result(a)} × {m}^({b:.3f}) = {format_result(curve)}"
        if round_score(curve) != round_score(raw):
            text += ", " + _("kept within the lowest and highest scores (%(low)s to %(high)s)",
                             low=format_score(min(values)), high=format_score(max(values))) + f" = {result}"
        return text
    if method == "latest":
        return _("%(score)s (the most recent)", score=format_score(values[-1])) + f" = {result}"
    if method == "highest":
        return _("highest of %(scores)s", scores=", ".join(format_score(v) for v in values)) + f" = {result}"
    if method == "mode":
        value, freq = _mode_value(values)
        if freq == 1:
            return _("no score repeats, so the most recent, %(score)s, counts", score=format_score(value)) \
                + f" = {result}"
        counts: dict[float, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        tied = [format_score(v) for v, c in counts.items() if c == freq and v != value]
        shown = format_score(value)
        if tied:
            return _("%(score)s and %(tied)s each appear %(times)s; the more recent, %(score)s, counts",
                     score=shown, tied=", ".join(tied), times=_times(freq)) + f" = {result}"
        return _("%(score)s appears %(times)s, more than any other score", score=shown,
                 times=_times(freq)) + f" = {result}"
    if m == 1:
        return _("%(score)s (the only piece)", score=format_score(values[0])) + f" = {result}"
    if method == "weighted_average":
        latest = f"{format_score(values[-1])} × {format_coefficient(w)}"
        if m == 2:
            return f"{latest} + {format_score(values[0])} × {format_coefficient(1 - w)} = {result}"
        earlier_weights = None if weights is None else weights[:-1]
        earlier = format_result(_mean(values[:-1], earlier_weights))
        return (
            _("earlier work") + f" {_mean_working(values[:-1], earlier_weights)} = {earlier}; "
            + _("then") + f" {latest} + {earlier} × {format_coefficient(1 - w)} = {result}"
        )
    if method == "decaying_average":
        assert coefs is not None
        shown = [format_coefficient(c) for c in coefs]
        tiny = 0
        while tiny < m - 1 and shown[tiny] == "≈0":
            tiny += 1
        parts = [f"{format_score(v)} × {c}" for v, c in zip(values[tiny:], shown[tiny:], strict=True)]
        if tiny > 1:  # the oldest evidence has faded to nothing: say so once
            parts.insert(0, _("the %(count)d oldest pieces × ≈0 each", count=tiny))
        elif tiny == 1:
            parts.insert(0, f"{format_score(values[0])} × ≈0")
        return f"{' + '.join(parts)} = {result}"
    # n_mastery
    at = [i for i, v in enumerate(values) if v >= mastery]
    at_values = [values[i] for i in at]
    at_weights = None if weights is None else [weights[i] for i in at]
    return f"{_mean_working(at_values, at_weights)} = {result}"


def _outcome(
    method: str,
    values: Values,
    n: int,
    mastery: float,
    min_evidence: int,
    raw: float | None,
    level: Level | None,
    excluded: int,
) -> str:
    count = len(values)
    if raw is not None:
        if level is not None:
            text = _("Result: %(score)s (%(level)s).", score=format_result(raw), level=level.label)
        else:
            text = _("Result: %(score)s.", score=format_result(raw))
    else:
        parts = [_("No result yet.")]
        if count < min_evidence:
            more = min_evidence - count
            parts.append(ngettext("So far there is %(num)d piece of work.", "So far there are %(num)d pieces of work.",
                                  count) if count else _("So far there is no work."))
            parts.append(ngettext("We need %(num)d more.", "We need %(num)d more.", more))
        if method == "n_mastery":
            at = sum(1 for v in values if v >= mastery)
            if at < n:
                parts.append(_("%(at)d of %(n)d at the goal (%(mastery)s or above) so far.", at=at, n=n,
                               mastery=format_score(mastery)))
                parts.append(ngettext("We need %(num)d more at the goal.", "We need %(num)d more at the goal.",
                                      n - at))
        text = " ".join(parts)
    if excluded:
        text += " " + ngettext("%(num)d piece was not counted.", "%(num)d pieces were not counted.", excluded)
    return text


def _render_text(src: tuple, coefs: list[float] | None) -> dict[str, Any]:
    (
        method,
        w,
        n,
        mastery,
        min_evidence,
        values,
        weights,
        counted,
        ordered,
        excluded,
        raw,
        _score,
        _needed,
        level,
        _scale,
    ) = src
    roles = _roles(method, values, weights, coefs, raw, w, mastery)
    steps = []
    if counted is None:
        for i, v in enumerate(values):
            steps.append(Step("", v, roles[i], None, i + 1, None if coefs is None else coefs[i]))
    else:
        i = 0
        for o in ordered:
            if o.weight > 0:
                steps.append(
                    Step(
                        o.label,
                        o.score,
                        roles[i],
                        o.observed_on,
                        i + 1,
                        None if coefs is None else coefs[i],
                        True,
                        o.weight,
                        o.kind,
                        o.ref,
                    )
                )
                i += 1
            else:
                role = _("not counted: %(kind)s", kind=_kind_word(o.kind)) if o.kind else _("not counted: given no weight")
                steps.append(
                    Step(o.label, o.score, role, o.observed_on, None, None, False, o.weight, o.kind, o.ref)
                )
    return {
        "summary": _summary(method, w, n, mastery, len(values), weights is not None),
        "steps": tuple(steps),
        "arithmetic": "" if raw is None else _arithmetic(method, values, weights, coefs, raw, w, mastery),
        "outcome": _outcome(method, values, n, mastery, min_evidence, raw, level, excluded),
    }
