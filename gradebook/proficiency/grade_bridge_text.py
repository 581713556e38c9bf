"""The sentences of the grade bridge, in plain words a family reads: why this grade, what the next one needs,
and the published table itself.

The rule is :mod:`.grade_bridge`; this module only says it, through :mod:`._i18n` (the reader's language once
the web layer installs Flask-Babel behind it, English otherwise). ``label_for`` turns a level's points into
the school's label for it ("Meets").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import _i18n
from ._i18n import _, ngettext
from .grade_bridge import Condition, Count, GradeBridge, Rule, TermGrade

LabelFor = Callable[[float], str]


def _level(label_for: LabelFor, points: float) -> str:
    return _i18n.level_label(label_for(points))


def _and(parts: Sequence[str]) -> str:
    text = parts[0]
    for part in parts[1:]:
        text = _("%(first)s and %(second)s", first=text, second=part)
    return text


def _fact(count: Count, total: int, label_for: LabelFor, first: bool) -> str:
    level = _level(label_for, count.condition.points)
    if count.have == total and total > 1:
        return _("all %(total)d skills are at %(level)s or above", total=total, level=level)
    if first:
        return ngettext("%(have)d of %(num)d skill is at %(level)s or above",
                        "%(have)d of %(num)d skills are at %(level)s or above", total, have=count.have, level=level)
    return ngettext("%(num)d is at %(level)s or above", "%(num)d are at %(level)s or above", count.have, level=level)


def _need(count: Count, total: int, label_for: LabelFor) -> str:
    level = _level(label_for, count.condition.points)
    if count.condition.all:
        return _("all %(total)d at %(level)s or above", total=total, level=level)
    return _("%(need)d at %(level)s or above", need=count.need, level=level)


def because_sentence(result: TermGrade, label_for: LabelFor, *, name: str | None = None) -> str:
    """"Maya's grade is B because all 10 skills are at Meets or above." (``name`` None: "Your grade …")."""
    whose = _("%(name)s's grade", name=name) if name else _("Your grade")
    if result.total == 0:
        return _("%(whose)s is %(grade)s: no skills have a level yet.", whose=whose, grade=result.grade)
    if result.decided_by_a_rule:
        facts = [_fact(c, result.total, label_for, i == 0) for i, c in enumerate(result.because)]
        return _("%(whose)s is %(grade)s because %(facts)s.", whose=whose, grade=result.grade, facts=_and(facts))
    return _("%(whose)s is %(grade)s: it does not fit the rule for a higher grade yet.", whose=whose,
             grade=result.grade)


def next_sentence(result: TermGrade, label_for: LabelFor) -> str:
    """"A grade of A needs 5 at Exceeds or above (now 2)." ("" at the top grade.)"""
    if result.next_grade is None or not result.next_needs:
        return ""
    needs = [_need(c, result.total, label_for) + " " + _("(now %(have)d)", have=c.have) for c in result.next_needs]
    return _("A grade of %(grade)s needs %(needs)s.", grade=result.next_grade, needs=_and(needs))


def no_level_sentence(result: TermGrade) -> str:
    """How skills with no level yet were counted ("" when every skill has one)."""
    if result.no_level == 0:
        return ""
    if result.no_level_mode == "below":
        return ngettext("%(num)d skill has no level yet, so it counts as not reached yet.",
                        "%(num)d skills have no level yet, so they count as not reached yet.", result.no_level)
    return ngettext("%(num)d skill has no level yet and is not counted.",
                    "%(num)d skills have no level yet and are not counted.", result.no_level)


def explain(result: TermGrade, label_for: LabelFor, *, name: str | None = None) -> str:
    """The whole explanation: why this grade, what the next grade needs, how skills without a level count."""
    parts = [because_sentence(result, label_for, name=name), next_sentence(result, label_for),
             no_level_sentence(result)]
    return " ".join(part for part in parts if part)


def condition_words(condition: Condition, label_for: LabelFor) -> str:
    """"all skills at Meets or above", "at least half of the skills at Exceeds or above", "at least 75% …"."""
    level = _level(label_for, condition.points)
    if condition.percent == 100:
        return _("all skills at %(level)s or above", level=level)
    if condition.percent == 50:
        return _("at least half of the skills at %(level)s or above", level=level)
    return _("at least %(percent)d%% of the skills at %(level)s or above", percent=condition.percent, level=level)


def rule_sentence(rule: Rule, label_for: LabelFor) -> str:
    """"B: all skills at Meets or above."""
    return _("%(grade)s: %(conditions)s.", grade=rule.grade,
             conditions=_and([condition_words(c, label_for) for c in rule.conditions]))


def table_sentences(bridge: GradeBridge, label_for: LabelFor) -> list[str]:
    """The published table, one sentence a line, read top to bottom; the first line that fits is the grade."""
    lines = [rule_sentence(rule, label_for) for rule in bridge.rules]
    lines.append(_("%(grade)s: any other case (not yet).", grade=bridge.otherwise))
    return lines
