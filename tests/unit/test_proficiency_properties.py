"""Property tests (hypothesis) for gradebook.proficiency.compute."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gradebook.proficiency import DEFAULT_SCALE, METHODS, Observation, compute, format_score, round_score

TOL = 1e-9

float_scores = st.lists(st.floats(0, 4, allow_nan=False), min_size=1, max_size=12)
int_scores = st.lists(st.integers(1, 4), min_size=1, max_size=12)
scores = st.one_of(float_scores, int_scores)
weights = st.floats(0.01, 0.99)

BOUNDED = ("average", "weighted_average", "decaying_average", "power_law", "latest", "highest", "mode")


@given(scores, st.sampled_from(BOUNDED), weights)
def test_result_stays_within_the_scores(values: list[float], method: str, w: float) -> None:
    raw = compute(values, method=method, weight=w).raw
    assert min(values) - TOL <= raw <= max(values) + TOL


@given(scores, st.integers(1, 4), st.sampled_from([1.0, 2.0, 3.0, 3.5]))
def test_n_mastery_stays_within_the_scores_at_mastery(values: list[float], n: int, mastery: float) -> None:
    result = compute(values, method="n_mastery", n=n, mastery=mastery)
    at = [v for v in values if v >= mastery]
    if len(at) < n:
        assert result.raw is None and result.needed == n - len(at)
    else:
        assert min(at) - TOL <= result.raw <= max(at) + TOL


@given(scores, st.floats(0, 4, allow_nan=False), weights)
def test_decaying_average_moves_toward_a_new_score(values: list[float], new: float, w: float) -> None:
    old = compute(values, method="decaying_average", weight=w).raw
    updated = compute([*values, new], method="decaying_average", weight=w).raw
    assert min(old, new) - TOL <= updated <= max(old, new) + TOL


@given(scores, st.floats(0, 4, allow_nan=False), weights)
def test_weighted_average_moves_toward_a_new_score_from_the_earlier_mean(
    values: list[float], new: float, w: float
) -> None:
    # weighted_average does NOT always land between its old result and the new
    # score (see test_weighted_average_can_move_away_from_a_new_score): the old
    # latest joins the earlier mean. What holds is that the new result lies
    # between the new score and the mean of everything before it.
    updated = compute([*values, new], method="weighted_average", weight=w).raw
    before = math.fsum(values) / len(values)
    assert min(before, new) - TOL <= updated <= max(before, new) + TOL


def test_weighted_average_can_move_away_from_a_new_score() -> None:
    old = compute([1, 2], method="weighted_average", weight=0.25).raw  # 2 × 0.25 + 1 × 0.75
    updated = compute([1, 2, 1], method="weighted_average", weight=0.25).raw  # 1 × 0.25 + 1.5 × 0.75
    assert (old, updated) == (1.25, 1.375)


@given(scores, st.randoms(use_true_random=False))
def test_reordering_never_changes_average_or_highest(values: list[float], rnd) -> None:  # noqa: ANN001
    shuffled = list(values)
    rnd.shuffle(shuffled)
    for method in ("average", "highest"):
        a = compute(values, method=method)
        b = compute(shuffled, method=method)
        assert math.isclose(a.raw, b.raw, rel_tol=0, abs_tol=TOL)
        assert a.score == b.score


@given(scores, st.sampled_from(["average", "decaying_average"]), weights)
def test_adding_the_current_result_does_not_move_it(values: list[float], method: str, w: float) -> None:
    current = compute(values, method=method, weight=w).raw
    again = compute([*values, current], method=method, weight=w).raw
    assert math.isclose(again, current, rel_tol=0, abs_tol=TOL)


@given(scores, st.sampled_from(METHODS), weights, st.integers(1, 3))
def test_explanation_terms_reproduce_the_result(values: list[float], method: str, w: float, n: int) -> None:
    result = compute(values, method=method, weight=w, n=n)
    e = result.explanation
    if result.raw is None:
        assert e.reproduce() is None and e.terms == ()
        return
    assert math.isclose(e.reproduce(), result.raw, rel_tol=0, abs_tol=TOL)
    assert round_score(e.reproduce()) == result.score
    if method == "power_law" and len(values) >= 3:
        assert e.terms is None
        low, high = e.curve_bounds
        assert min(max(e.a * e.curve_at**e.b, low), high) == result.raw
    else:
        assert e.terms is not None
        assert math.isclose(sum(c for _, c in e.terms), 1.0, abs_tol=TOL)


@given(
    st.lists(
        st.tuples(st.floats(0, 4, allow_nan=False), st.integers(0, 60), st.sampled_from([0, 0.5, 1, 2])),
        min_size=0,
        max_size=10,
    ),
    st.sampled_from(METHODS),
    st.integers(1, 4),
)
def test_str_explanation_mentions_every_counted_score(
    rows: list[tuple[float, int, float]], method: str, min_evidence: int
) -> None:
    start = date(2026, 9, 1)
    observations = [
        Observation(score=s, observed_on=start + timedelta(days=d), weight=wt, label=f"Task {i}", kind="quiz")
        for i, (s, d, wt) in enumerate(rows)
    ]
    result = compute(observations, method=method, min_evidence=min_evidence, scale=DEFAULT_SCALE)
    text = str(result.explanation)
    assert text
    for o in result.observations:
        assert format_score(o.score) in text
    assert len(result.explanation.steps) == len(rows)
    if result.score is None:
        assert result.needed > 0 and "more" in text
    else:
        assert f"{result.score:.2f}" in text


@given(scores, st.sampled_from(METHODS))
def test_plain_numbers_and_undated_observations_agree(values: list[float], method: str) -> None:
    plain = compute(values, method=method)
    wrapped = compute([Observation(score=v) for v in values], method=method)
    assert plain.raw == wrapped.raw and plain.score == wrapped.score
