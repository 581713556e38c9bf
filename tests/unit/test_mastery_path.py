"""What it would take: the fewest further pieces of work at a level that bring a result to mastery."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradebook.proficiency import (
    DEFAULT_SCALE,
    METHODS,
    Observation,
    Policy,
    at_mastery,
    compute,
    path_sentence,
    path_to_mastery,
    path_to_mastery_with_policy,
)

SCALE = DEFAULT_SCALE
MEETS = SCALE.mastery
scores = st.lists(st.sampled_from([0, 1, 2, 3, 4, 1.5, 2.5]), min_size=0, max_size=8)
methods = st.sampled_from(METHODS)


def reaches(values: list[float], method: str, extra: int, points: float) -> bool:
    result = compute([*values, *[points] * extra], method=method, scale=SCALE)
    return result.score is not None and result.score >= MEETS.points


@pytest.mark.parametrize(("method", "values", "pieces", "points"), [
    ("decaying_average", [1, 3, 3], 4, 3),        # steady 3s held at 2.99 by an old 1
    ("average", [1, 2], 3, 4),                    # the mean of 1, 2 and 3s never reaches 3 within reach
    ("average", [2, 2], 2, 4),
    ("latest", [1, 2], 1, 3),
    ("highest", [1, 2], 1, 3),
    ("mode", [2, 2, 1], 2, 3),                    # a tie goes to the more recent 3
    ("weighted_average", [1, 1, 1], 2, 4),
    ("n_mastery", [2, 3], 1, 3),
    ("n_mastery", [], 2, 3),
    ("power_law", [1, 2], 1, 3),                  # three points: the curve, kept within 1 to 3
])
def test_route_for_each_method(method: str, values: list[float], pieces: int, points: float) -> None:
    path = path_to_mastery(values, scale=SCALE, method=method)
    assert path is not None
    assert (path.route.pieces, path.route.level.points) == (pieces, points)


def test_a_faster_route_at_a_higher_level_is_offered_beside_the_mastery_one() -> None:
    path = path_to_mastery([1, 3, 3], scale=SCALE, method="decaying_average")
    assert path is not None and path.faster is not None
    assert (path.faster.pieces, path.faster.level.label) == (1, "Exceeds")
    assert path_sentence(path) == "Four more pieces of work at Meets would bring this to Meets, or one more at Exceeds."


def test_sentence_for_one_piece_is_singular() -> None:
    assert path_sentence(path_to_mastery([2], scale=SCALE, method="latest")) == (
        "One more piece of work at Meets would bring this to Meets.")


def test_no_sentence_when_already_at_mastery() -> None:
    assert path_to_mastery([3, 4], scale=SCALE, method="average") is None
    assert path_sentence(None) == ""


def test_policy_weights_by_kind_count() -> None:
    policy = Policy(method="average", kind_weights={"test": 3})
    observations = [Observation(1, kind="test"), Observation(3, kind="quiz")]
    # (1×3 + 3) / 4 = 1.5; with k more 4s (6 + 4k) / (4 + k) reaches 3 at k = 6 (3s never get there)
    path = path_to_mastery_with_policy(observations, policy, scale=SCALE)
    assert path is not None and path.route.level.label == "Exceeds"
    assert path.route.pieces == 6


@settings(max_examples=150, deadline=None)
@given(values=scores, method=methods)
def test_k_pieces_reach_mastery_and_one_fewer_does_not(values: list[float], method: str) -> None:
    path = path_to_mastery(values, scale=SCALE, method=method)
    if path is None:
        return
    for route in (path.route, path.faster):
        if route is None:
            continue
        assert reaches(values, method, route.pieces, route.level.points)
        assert not reaches(values, method, route.pieces - 1, route.level.points)


@settings(max_examples=150, deadline=None)
@given(values=scores, method=methods)
def test_never_needed_when_already_at_mastery(values: list[float], method: str) -> None:
    if at_mastery(values, scale=SCALE, method=method):
        assert path_to_mastery(values, scale=SCALE, method=method) is None
    else:
        # Not at mastery: a route exists unless even the top level cannot get there in MAX_PIECES.
        path = path_to_mastery(values, scale=SCALE, method=method)
        assert path is None or path.route.level.points >= MEETS.points


@settings(max_examples=150, deadline=None)
@given(values=scores, method=methods)
def test_the_mastery_level_is_preferred_when_it_gets_there(values: list[float], method: str) -> None:
    path = path_to_mastery(values, scale=SCALE, method=method)
    if path is not None and path.route.level != MEETS:
        assert not any(reaches(values, method, k, MEETS.points) for k in range(1, 13))


@settings(max_examples=150, deadline=None)
@given(history=st.lists(st.sampled_from([0, 1, 2, 2.5]), min_size=1, max_size=4),
       threes=st.integers(min_value=1, max_value=8))
def test_steady_threes_held_at_approaching_by_a_decaying_average_always_get_a_sentence(
        history: list[float], threes: int) -> None:
    values = [*history, *[3] * threes]
    result = compute(values, method="decaying_average", scale=SCALE)
    if result.level != MEETS:
        sentence = path_sentence(path_to_mastery(values, scale=SCALE, method="decaying_average"))
        assert sentence.endswith("would bring this to Meets.") or "would bring this to Meets, or" in sentence
