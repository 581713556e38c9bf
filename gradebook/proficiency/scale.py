"""Proficiency scales: the named levels a score is reported as."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ._format import format_on_scale, format_score, round_score

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
WHITE = "#ffffff"
DARK = "#111111"
AA_CONTRAST = 4.5  # WCAG 2 AA, normal text


def _relative_luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(colour_a: str, colour_b: str) -> float:
    """WCAG 2 contrast ratio between two "#rrggbb" colours (1 to 21).

    Why: level badges must stay readable; 4.5 or more is the WCAG AA
    threshold for normal text.
    """
    lighter, darker = sorted((_relative_luminance(colour_a), _relative_luminance(colour_b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True, slots=True)
class Level:
    """One level of a proficiency scale, e.g. 3 = "Meets" (the mastery level).

    ``colour`` is the badge background ("#rrggbb"); ``symbol`` is a
    non-colour cue (★ ✓ ◐ ○) so the level can be told apart without colour.
    """

    points: float
    label: str
    colour: str
    is_mastery: bool
    description: str = ""
    symbol: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.points, bool) or not isinstance(self.points, numbers.Real | Decimal):
            raise TypeError(f"Level points must be a number, got {self.points!r}.")
        if type(self.points) not in (int, float):
            object.__setattr__(self, "points", float(self.points))
        if not math.isfinite(self.points) or self.points < 0:
            raise ValueError(f"Level points must be a number of 0 or more, got {self.points!r}.")
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError(
                f"Every level needs a label (e.g. 'Meets'); the level at {self.points} has none."
            )
        if not isinstance(self.colour, str) or not _HEX.match(self.colour):
            raise ValueError(
                f"Level colour must look like '#1a7f5a', got {self.colour!r} for '{self.label}'."
            )

    @property
    def pattern(self) -> str:
        """The non-colour cue (alias of ``symbol``).

        Why: colour alone fails colour-blind readers and black-and-white
        printouts.
        """
        return self.symbol

    @property
    def text_colour(self) -> str:
        """White or near-black, whichever contrasts more with ``colour``.

        Why: badge text must be readable on every level colour (WCAG AA).
        """
        on_white = contrast_ratio(self.colour, WHITE)
        on_dark = contrast_ratio(self.colour, DARK)
        return WHITE if on_white >= on_dark else DARK

    @property
    def text_contrast(self) -> float:
        """The contrast of the badge's text with its colour (at least ``AA_CONTRAST`` to be readable)."""
        return contrast_ratio(self.colour, self.text_colour)


@dataclass(frozen=True, init=False)
class Scale:
    """A validated proficiency scale, levels kept in ascending order of points.

    Rules: at least 2 levels, distinct points, points of 0 or more, exactly
    one mastery level. Scores from the lowest level's points to the top level's are valid.
    """

    levels: tuple[Level, ...]

    def __init__(self, levels: Iterable[Level]) -> None:
        items = tuple(levels)
        for item in items:
            if not isinstance(item, Level):
                raise TypeError(f"A scale is made of Level objects, got {item!r}.")
        if len(items) < 2:
            raise ValueError(f"A scale needs at least 2 levels, got {len(items)}.")
        ordered = tuple(sorted(items, key=lambda lv: lv.points))
        for lower, upper in zip(ordered, ordered[1:], strict=False):
            if lower.points == upper.points:
                raise ValueError(
                    f"Two levels share {format_score(lower.points)} points ('{lower.label}' and "
                    f"'{upper.label}'); each level needs its own points."
                )
        mastery = [lv for lv in ordered if lv.is_mastery]
        if len(mastery) != 1:
            found = ", ".join(f"'{lv.label}'" for lv in mastery)
            detail = f" ({found})" if found else ""
            raise ValueError(
                f"A scale needs exactly one mastery level, found {len(mastery)}{detail}. "
                "Mark the level that means 'has mastered this standard'."
            )
        object.__setattr__(self, "levels", ordered)

    @property
    def mastery(self) -> Level:
        """The level that means "has mastered this standard".

        Why: n_mastery, roll-ups and what-if sentences measure against it.
        """
        return next(lv for lv in self.levels if lv.is_mastery)

    @property
    def max_points(self) -> float:
        """Points of the top level.

        Why: the top of the scale bounds valid scores.
        """
        return self.levels[-1].points

    @property
    def min_points(self) -> float:
        """Points of the lowest level.

        Why: below this, a score still reports as the lowest level.
        """
        return self.levels[0].points

    def is_valid_score(self, score: float) -> bool:
        """True if ``score`` is a finite number from the lowest level's points to the top level's.

        Why: a score is a point on the scale. On a 1–4 scale a 0 is no level
        at all (a piece not handed in is "missing", not a zero), so the rule
        that evidence is recorded by is this one.
        """
        if isinstance(score, bool) or not isinstance(score, int | float):
            return False
        return math.isfinite(score) and self.min_points <= score <= self.max_points

    def level_for(self, score: float | None) -> Level | None:
        """The highest level whose points the score reaches, after rounding to 2 decimals.

        Why: families see the rounded score, so the level must agree with it
        (2.995 shows as 3.00 and is "Meets"; 2.99 is "Approaching"). A score
        below the lowest level's points still reports as the lowest level:
        the lowest level ("Beginning") is the floor of the scale, not a fail
        line. Scores above the top level report as the top level. ``None``
        (no result yet) has no level.
        """
        if score is None:
            return None
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            raise ValueError(f"A level can only be found for a finite score, got {score!r}.")
        if score < 0:
            raise ValueError(f"A score cannot be negative, got {score!r}.")
        rounded = round_score(score)
        for level in reversed(self.levels):
            if rounded >= level.points:
                return level
        return self.levels[0]

    def show(self, score: float | None, places: int = 2) -> str:
        """A result as people read it, next to its level: at most ``places`` decimals, never rounded
        into another level (2.96 is "2.96", not "3.0", when 3 is where Meets starts). None is "".

        Why: the one display of a computed score (grid, panel, family pages,
        CSV), so the number and the level beside it always agree.
        """
        if score is None:
            return ""
        return format_on_scale(score, [lv.points for lv in self.levels], places)

    def level_with_points(self, points: float) -> Level:
        """The level with exactly these points.

        Why: a teacher's override picks a level, not an arbitrary number.
        """
        for level in self.levels:
            if level.points == points:
                return level
        choices = ", ".join(f"{format_score(lv.points)} ({lv.label})" for lv in self.levels)
        raise ValueError(f"No level has {points!r} points. Choose one of: {choices}.")


# The default scale every new school starts with: (points, label, colour, is mastery, description, symbol).
# The one source of it: the database's first scale row and the importers take these values.
DEFAULT_LEVELS: tuple[tuple[int, str, str, bool, str, str], ...] = (
    (4, "Exceeds", "#1a7f5a", False, "Goes beyond: uses it in new places on their own.", "★"),
    (3, "Meets", "#2a6fb0", True, "Has got it: does it right, and on their own.", "✓"),
    (2, "Approaching", "#b7791f", False, "Getting there: does it with some help; a few gaps are left.", "◐"),
    (1, "Beginning", "#8a4fb0", False, "Starting out: does parts of it with close help.", "○"),
)
DEFAULT_SCALE_NAME = "Four-level scale"

DEFAULT_SCALE = Scale(tuple(Level(*row) for row in DEFAULT_LEVELS))
