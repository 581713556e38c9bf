"""A displayed score never contradicts its level: one formatter (Scale.show) for every score beside a level."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradebook.proficiency import DEFAULT_SCALE, Level, Scale

ROOT = Path(__file__).resolve().parents[2]


@st.composite
def scales(draw: st.DrawFn) -> Scale:
    """Scales of 2 to 6 levels, whole or decimal points (2.5, 2.75, 3.333 …), any one of them mastery."""
    points = draw(st.lists(st.one_of(st.integers(0, 10), st.floats(0, 10, allow_nan=False).map(lambda p: round(p, 3))),
                           min_size=2, max_size=6, unique=True))
    mastery = draw(st.integers(0, len(points) - 1))
    return Scale(Level(p, f"Level {i}", "#2a6fb0", i == mastery) for i, p in enumerate(points))


@given(scales(), st.floats(0, 12, allow_nan=False), st.integers(0, 2))
def test_the_displayed_number_maps_to_the_same_level_as_the_score(scale: Scale, score: float, places: int) -> None:
    shown = scale.show(score, places)
    assert scale.level_for(float(shown)) == scale.level_for(score), shown


@given(st.floats(0, 4, allow_nan=False), st.integers(0, 2))
def test_the_display_has_at_most_the_decimals_asked_for_or_the_two_levels_are_decided_on(score: float,
                                                                                          places: int) -> None:
    decimals = len(DEFAULT_SCALE.show(score, places).partition(".")[2])
    assert decimals in (places, 2)


@pytest.mark.parametrize(("score", "places", "shown", "level"), [
    (2.96, 1, "2.96", "Approaching"),  # "3.0" beside Approaching was the defect
    (2.995, 1, "3.0", "Meets"),        # levels are decided on 2 decimals: 3.00 is Meets
    (3.04, 1, "3.0", "Meets"),
    (2.94, 1, "2.9", "Approaching"),
    (2.5, 0, "2.50", "Approaching"),   # "3" would be Meets: a whole-number display never rounds up into it
    (2.96, 2, "2.96", "Approaching"),
])
def test_a_score_near_a_boundary_keeps_the_decimals_that_decide_its_level(score: float, places: int, shown: str,
                                                                          level: str) -> None:
    assert (DEFAULT_SCALE.show(score, places), DEFAULT_SCALE.level_for(score).label) == (shown, level)


# Formatting a score by hand ('%.1f'|format(cell.score), f"{score:.2f}") is how a number came to contradict its
# level: every template and writer goes through Scale.show (or the `score` filter, format_score, for an observed
# piece of evidence).
HAND_FORMATTED = re.compile(r"""'%[^']*[fgd]'\|format\([^)]*score|\{[^{}]*score[^{}]*:\.\d+f\}""")


def test_no_template_or_writer_formats_a_score_by_hand() -> None:
    found = []
    for path in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("gradebook/web/*.py"), *ROOT.glob("gradebook/interop/*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if HAND_FORMATTED.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert found == []
