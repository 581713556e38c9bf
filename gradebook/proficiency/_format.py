"""Rounding and plain-English formatting shared by results and explanations.

Every number a person sees goes through these helpers, so the score on a
report card, the level it maps to and the arithmetic in the explanation all
agree with each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Values within this many hundredths *below* a half are treated as the half.
# Floating-point arithmetic turns 2.675 into 2.67499999999999982..., and two
# algebraically equal calculations can differ in the last bit; neither should
# change what a family sees. 1e-7 hundredths is a billionth of a point: far
# below anything a teacher can enter, far above floating-point noise.
_NUDGE = 1e-7
_HALF = 0.5 + _NUDGE
_HUGE = 1e15
_floor = math.floor


def round_half_up(x: float, places: int = 2) -> float:
    """Round half away from zero, robust to floating-point noise.

    Why: people expect 2.675 to round to 2.68 and 2.5 to 3 ("school
    rounding"), while Python's round() uses banker's rounding on the binary
    value and gives 2.67. A value within a billionth of a half counts as the
    half, so the recurrence and the expanded sum of one calculation, which may
    differ in the last bit, always round the same way.
    """
    if not math.isfinite(x) or abs(x) >= _HUGE:
        return x
    factor = 10**places
    if x >= 0:
        return math.floor(x * factor + _HALF) / factor
    return -(math.floor(-x * factor + _HALF) / factor)


def round_score(x: float) -> float:
    """Round a score to 2 decimals, half away from zero (see round_half_up).

    Why: a single rounding rule is used for results, levels and explanation
    arithmetic, so a family can re-do the sums and get the number on the
    report.
    """
    if 0 <= x < _HUGE:  # fast path, same arithmetic as round_half_up(x, 2)
        return _floor(x * 100 + _HALF) / 100
    return round_half_up(x, 2)


def format_score(x: float) -> str:
    """Show an observed score the way a teacher entered it: 3, 2.5, 2.75.

    Why: whole-number scores read naturally without decimals; anything else
    is shown to at most 2 decimals using the same rounding as results.
    """
    if x == int(x):
        return str(int(x))
    text = f"{round_score(x):.2f}".rstrip("0").rstrip(".")
    return text


def format_result(x: float) -> str:
    """Show a calculated result to exactly 2 decimals (3.30, not 3.3).

    Why: results are calculated, not entered, so a fixed number of decimals
    tells the reader this is the rounded outcome of arithmetic.
    """
    return f"{round_score(x):.2f}"


def format_on_scale(x: float, boundaries: Sequence[float], places: int = 2) -> str:
    """Show a result to ``places`` decimals (0 to 2) without ever crossing a level boundary.

    Why: a level is decided on the score rounded to 2 decimals (see
    Scale.level_for); a shorter display rounds again, and 2.96 shown as
    "3.0" next to "Approaching" contradicts itself. So the short form is
    used only when it lands in the same level as the score; otherwise the
    score is shown to the 2 decimals its level was decided on ("2.96").
    ``boundaries`` are the points where levels start.
    """
    decided = round_score(x)
    places = max(0, min(2, places))
    if places < 2:
        short = round_half_up(decided, places)

        def band(v: float) -> int:
            return sum(1 for b in boundaries if v >= b)

        if band(short) == band(decided):
            return f"{short:.{places}f}"
    return f"{decided:.2f}"


def format_date(d: date) -> str:
    """Format a date as "8 Sep 2026".

    Why: day-month-year with a named month is unambiguous for families in
    any country, and does not depend on the server's locale.
    """
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def format_percent(share: float) -> str:
    """Show a share (0..1) as a percentage: 65%, 33.3%, less than 1%.

    Why: families understand "counts 65%" better than a coefficient 0.65;
    very small shares are shown as "less than 1%" rather than a misleading 0%.
    """
    pct = share * 100
    if pct == 0:
        return "0%"
    if pct < 0.5:
        return "less than 1%"
    rounded = round_half_up(pct, 1)
    if rounded == int(rounded):
        return f"{int(rounded)}%"
    return f"{rounded:.1f}%"


def format_coefficient(c: float) -> str:
    """Show a multiplier in the arithmetic: 0.65, 0.0429, 1.

    Why: four decimals are enough for a reader to check the sum to the
    nearest hundredth; shares too small to show are written as ≈0.
    """
    text = f"{round_half_up(c, 4):.4f}".rstrip("0").rstrip(".")
    if text in ("0", "-0") and c != 0:
        return "≈0"
    return text


def plural(count: int, word: str, words: str | None = None) -> str:
    """Return "1 piece" / "3 pieces".

    Why: explanations are read by families; "1 pieces" looks careless.
    """
    return f"{count} {word if count == 1 else (words or word + 's')}"


def pieces(count: int) -> str:
    """Return "1 piece" / "2 pieces" (of evidence).

    Why: the unit every explanation counts in.
    """
    return plural(count, "piece")
