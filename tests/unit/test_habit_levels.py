"""The pure rules of habits of work: their own scale and the three ways a habit's level is found."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradebook.proficiency import HABIT_SCALE, HabitObservation, habit_level, habit_score

START = date(2026, 9, 1)


def _seen(*scores: float) -> list[HabitObservation]:
    return [HabitObservation(score, START + timedelta(days=i), i) for i, score in enumerate(scores)]


@pytest.mark.parametrize(("scores", "method", "expected"), [
    ((2, 3, 3), "mode", 3),
    ((3, 3, 2, 2), "mode", 2),  # a tie goes to the most recent
    ((1, 1, 1, 4, 4, 3, 4), "mode", 4),  # only the latest five count
    ((1, 4), "most_recent", 4),
    ((4, 1), "most_recent", 1),
    ((2, 3), "average", 3),  # 2.5 rounds half up
    ((1, 2, 2), "average", 2),
])
def test_a_habits_level_follows_its_frameworks_method(scores: tuple[float, ...], method: str, expected: float) -> None:
    assert habit_score(_seen(*scores), method) == expected


def test_a_habit_not_seen_yet_has_no_level() -> None:
    assert habit_level(HABIT_SCALE, [], "mode") is None


def test_an_unknown_method_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="mode, most_recent, average"):
        habit_score(_seen(3), "decaying_average")


def test_the_habit_scale_has_its_own_words_and_colours() -> None:
    assert [lv.label for lv in reversed(HABIT_SCALE.levels)] == ["Consistently", "Usually", "Sometimes", "Rarely"]
    from gradebook.proficiency import DEFAULT_SCALE

    assert not {lv.colour for lv in HABIT_SCALE.levels} & {lv.colour for lv in DEFAULT_SCALE.levels}


@given(st.lists(st.sampled_from([1.0, 2.0, 3.0, 4.0]), min_size=1, max_size=20),
       st.sampled_from(["mode", "most_recent", "average"]))
def test_a_habits_level_is_always_one_of_the_scales_levels(scores: list[float], method: str) -> None:
    level = habit_level(HABIT_SCALE, _seen(*scores), method)
    assert level is not None and level in HABIT_SCALE.levels
