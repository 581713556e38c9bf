"""The pure rules of the student's path page: the level band of a level, and interest matches."""

from __future__ import annotations

import pytest

from gradebook.proficiency import DEFAULT_SCALE
from gradebook.services.path_views import band_for, interest_matches, interest_words


@pytest.mark.parametrize(("points", "band"), [
    (None, "getting_started"), (1, "getting_started"), (2, "to_mastery"), (3, "beyond"), (4, "beyond"),
])
def test_the_band_follows_the_level_under_mastery_and_mastery(points, band) -> None:  # type: ignore[no-untyped-def]
    level = DEFAULT_SCALE.level_with_points(points) if points is not None else None
    assert band_for(level, DEFAULT_SCALE) == band


@pytest.mark.parametrize(("interests", "tags", "matched"), [
    ("drawing, football", ["drawing"], ["drawing"]),
    ("Coding games; music", ["coding", "games", "coding games"], ["coding", "games", "coding games"]),
    ("I love animals", ["animals", "robotics"], ["animals"]),
    ("reading fantasy", ["reading science fiction"], []),
    ("", ["drawing"], []),
])
def test_interest_matches_take_a_whole_phrase_or_every_word_of_a_tag(interests, tags, matched) -> None:  # type: ignore[no-untyped-def]
    assert interest_matches(tags, *interest_words(interests)) == matched
