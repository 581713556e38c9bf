"""Calculation methods, ordering, validation and explanations of gradebook.proficiency.compute."""

from __future__ import annotations

import math
import pickle
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from gradebook.proficiency import (
    DEFAULT_SCALE,
    METHODS,
    Explanation,
    Observation,
    Result,
    compute,
    power_law_fit,
    round_score,
    what_if,
)

D = date(2026, 9, 1)


def dated(*scores: float, **extra: object) -> list[Observation]:
    return [
        Observation(score=s, observed_on=D + timedelta(days=7 * i), **extra) for i, s in enumerate(scores)
    ]


# --------------------------------------------------------------------------- worked examples

WORKED = [
    ("average", [1, 2, 3, 4], 2.50),
    ("latest", [1, 2, 3, 4], 4.0),
    ("highest", [1, 2, 3, 4], 4.0),
    ("weighted_average", [1, 2, 3, 4], 3.30),
    ("decaying_average", [1, 2, 3, 4], 3.48),
    ("n_mastery", [1, 2, 3, 4], 3.50),
    ("power_law", [3, 3, 1, 3], 1.90),
    ("power_law", [3, 3, 1, 3, 4, 4], 3.07),
]


@pytest.mark.parametrize(("method", "scores", "expected"), WORKED)
def test_worked_examples_plain_numbers(method: str, scores: list[int], expected: float) -> None:
    result = compute(scores, method=method, weight=0.65, n=2, mastery=3)
    assert result.score == expected


@pytest.mark.parametrize(("method", "scores", "expected"), WORKED)
def test_worked_examples_dated_observations_in_any_order(
    method: str, scores: list[int], expected: float
) -> None:
    observations = dated(*scores)
    result = compute(list(reversed(observations)), method=method, weight=0.65, n=2, mastery=3)
    assert result.score == expected
    assert [o.score for o in result.observations] == scores


def test_power_law_rule_reproduces_worked_numbers_without_clamping() -> None:
    # The stated rule (fit ln(score) = ln a + b ln i, read at i = n) gives the
    # worked numbers directly; the clamp to the score range does not bind here.
    for scores, expected in (([3, 3, 1, 3], 1.8995), ([3, 3, 1, 3, 4, 4], 3.0671)):
        a, b = power_law_fit(scores)
        assert a * len(scores) ** b == pytest.approx(expected, abs=1e-4)


def test_api_example_from_brief() -> None:
    result = compute(
        [
            Observation(score=1, observed_on=date(2026, 9, 1)),
            Observation(score=2, observed_on=date(2026, 9, 8)),
        ],
        method="decaying_average",
        weight=0.65,
        mastery=3,
    )
    assert result.score == 1.65
    assert isinstance(result.explanation, Explanation)
    text = str(result.explanation)
    assert "8 Sep 2026" in text and "1 Sep 2026" in text


def test_default_method_is_average() -> None:
    assert compute([1, 2]).method == "average"
    assert compute([1, 2]).score == 1.5


def test_mode_most_frequent_and_tie_goes_to_most_recent() -> None:
    assert compute([1, 3, 3, 2], method="mode").score == 3
    assert compute([3, 2, 3, 2], method="mode").score == 2  # tie: 2 seen most recently
    assert compute([2, 3, 3, 2], method="mode").score == 2
    assert compute([4, 1, 2], method="mode").score == 2  # no repeats: the latest


def test_weighted_average_single_score_is_that_score() -> None:
    assert compute([2.5], method="weighted_average").score == 2.5
    assert compute([2.5], method="decaying_average").score == 2.5


def test_power_law_fewer_than_three_falls_back_to_average() -> None:
    result = compute([1, 4], method="power_law")
    assert result.score == 2.5
    assert result.explanation.terms == ((1.0, 0.5), (4.0, 0.5))
    assert "fewer than 3" in result.explanation.summary


def test_power_law_zero_is_lifted_and_result_clamped_to_score_range() -> None:
    result = compute([0, 0, 0], method="power_law")
    assert result.score == 0  # fit gives the 0.1 floor, clamped to the highest score shown
    rising = compute([1, 1, 4], method="power_law")
    assert 1 <= rising.raw <= 4
    assert compute([0, 2, 4], method="power_law").raw <= 4


def test_mixed_numbers_and_observations_allowed_and_given_order_kept() -> None:
    result = compute([1, Observation(score=3, observed_on=D), 2], method="latest")
    assert result.score == 2


def test_other_numeric_types_accepted() -> None:
    assert compute([Decimal("1.5"), 2.5], method="average").score == 2.0


# --------------------------------------------------------------------------- ordering


def test_orders_by_observed_on_regardless_of_input_order() -> None:
    a = Observation(score=1, observed_on=date(2026, 9, 1))
    b = Observation(score=4, observed_on=date(2026, 9, 15))
    c = Observation(score=2, observed_on=date(2026, 9, 8))
    assert compute([b, a, c], method="latest").score == 4
    assert [o.score for o in compute([b, c, a]).observations] == [1, 2, 4]


def test_same_date_keeps_given_order() -> None:
    first = Observation(score=1, observed_on=D, label="first")
    second = Observation(score=3, observed_on=D, label="second")
    assert compute([first, second], method="latest").score == 3
    assert compute([second, first], method="latest").score == 1


def test_recorded_at_breaks_ties_on_same_date() -> None:
    early = Observation(score=1, observed_on=D, recorded_at=datetime(2026, 9, 1, 9, 0))
    late = Observation(score=3, observed_on=D, recorded_at=datetime(2026, 9, 1, 14, 0))
    untimed = Observation(score=2, observed_on=D)
    assert compute([late, early], method="latest").score == 3
    assert [o.score for o in compute([late, early, untimed]).observations] == [2, 1, 3]


def test_recorded_at_does_not_override_observed_on() -> None:
    older = Observation(score=1, observed_on=date(2026, 9, 1), recorded_at=datetime(2026, 10, 1))
    newer = Observation(score=3, observed_on=date(2026, 9, 2), recorded_at=datetime(2026, 9, 2))
    assert compute([newer, older], method="latest").score == 3


def test_undated_observations_keep_given_order() -> None:
    obs = [Observation(score=s) for s in (4, 1, 2)]
    assert compute(obs, method="latest").score == 2
    mixed = [Observation(score=4, observed_on=date(2026, 9, 9)), Observation(score=1)]
    assert compute(mixed, method="latest").score == 1


def test_datetime_observed_on_is_reduced_to_date() -> None:
    o = Observation(score=2, observed_on=datetime(2026, 9, 1, 10, 30))
    assert o.observed_on == date(2026, 9, 1) and type(o.observed_on) is date


def test_caller_list_mutation_does_not_change_result() -> None:
    scores = [1, 2, 3]
    result = compute(scores)
    scores.append(4)
    assert result.count == 3 and "4" not in result.explanation.arithmetic


# --------------------------------------------------------------------------- evidence weights


def test_weight_zero_observation_is_excluded_and_explained() -> None:
    obs = [
        Observation(score=1, observed_on=date(2026, 9, 1), kind="practice", weight=0, label="Warm-up"),
        Observation(score=3, observed_on=date(2026, 9, 8), label="Quiz"),
        Observation(score=4, observed_on=date(2026, 9, 15), label="Test"),
    ]
    for method in METHODS:
        result = compute(obs, method=method)
        assert result.count == 2
        assert all(o.weight > 0 for o in result.observations)
        steps = result.explanation.steps
        assert steps[0].role == "not counted: practice" and not steps[0].counted
        assert "not counted" in str(result.explanation)
    assert compute(obs, method="average").score == 3.5
    assert compute(obs, method="highest").score == 4


def test_weighted_average_with_kind_weights() -> None:
    obs = [
        Observation(score=1, observed_on=date(2026, 9, 1), weight=1, kind="quiz"),
        Observation(score=4, observed_on=date(2026, 9, 8), weight=3, kind="test"),
    ]
    assert compute(obs, method="average").score == 3.25  # (1×1 + 4×3) ÷ 4
    three = [*obs, Observation(score=2, observed_on=date(2026, 9, 15))]
    # earlier mean is weighted: (1×1 + 4×3) ÷ 4 = 3.25; 2 × 0.65 + 3.25 × 0.35 = 2.4375
    assert compute(three, method="weighted_average").raw == pytest.approx(2.4375)
    # decaying_average ignores evidence weights
    assert (
        compute(three, method="decaying_average").score == compute([1, 4, 2], method="decaying_average").score
    )


def test_n_mastery_mean_is_weighted() -> None:
    obs = [Observation(score=3, weight=1), Observation(score=4, weight=3), Observation(score=1, weight=5)]
    assert compute(obs, method="n_mastery").raw == pytest.approx(3.75)


# --------------------------------------------------------------------------- min_evidence / n_mastery


def test_min_evidence_not_met_gives_none_and_needed() -> None:
    result = compute([3], min_evidence=3)
    assert result.score is None and result.raw is None and result.level is None
    assert result.needed == 2 and result.count == 1
    assert "2 more" in str(result.explanation)
    assert result.explanation.terms == ()
    assert result.explanation.reproduce() is None


def test_no_evidence_at_all() -> None:
    result = compute([], scale=DEFAULT_SCALE)
    assert result.score is None and result.needed == 1
    assert "no evidence" in result.explanation.outcome
    assert len(result.explanation.what_if) == 4


def test_min_evidence_met_exactly() -> None:
    assert compute([3, 2], min_evidence=2).score == 2.5


def test_n_mastery_before_and_after_n() -> None:
    before = compute([1, 3, 2], method="n_mastery", n=2, mastery=3)
    assert before.score is None and before.needed == 1
    assert "1 of 2 at mastery" in str(before.explanation)
    after = compute([1, 3, 2, 4], method="n_mastery", n=2, mastery=3)
    assert after.score == 3.5 and after.needed == 0
    roles = [step.role for step in after.explanation.steps]
    assert roles[0] == "ignored: below mastery"


def test_n_mastery_and_min_evidence_needed_is_the_larger() -> None:
    result = compute([1], method="n_mastery", n=2, min_evidence=4)
    assert result.needed == 3


def test_mastery_defaults_to_scale_mastery() -> None:
    assert compute([3, 4], method="n_mastery", scale=DEFAULT_SCALE).params["mastery"] == 3


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "avg"}, "Unknown method 'avg'. Choose one of: average, latest"),
        ({"weight": 0}, "weight must be between 0 and 1 (exclusive), got 0"),
        ({"weight": 1}, "weight must be between 0 and 1 (exclusive), got 1"),
        ({"weight": -0.1}, "got -0.1"),
        ({"weight": 1.5}, "weight must be between 0 and 1 (exclusive), got 1.5"),
        ({"weight": math.nan}, "weight must be between 0 and 1"),
        ({"n": 0}, "n must be a whole number from 1 to 100, got 0"),
        ({"min_evidence": 0}, "min_evidence must be a whole number from 1 to 100, got 0"),
        ({"n": 101}, "n must be a whole number from 1 to 100, got 101"),
        ({"min_evidence": 10**20}, "min_evidence must be a whole number from 1 to 100"),
        ({"mastery": -1}, "mastery must be a finite number of 0 or more"),
    ],
)
def test_bad_parameters_raise_value_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        compute([1, 2], **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("bad", [-1, -0.5, math.nan, math.inf, -math.inf])
def test_bad_scores_raise_value_error(bad: float) -> None:
    with pytest.raises(ValueError):
        compute([1, bad])
    with pytest.raises(ValueError):
        Observation(score=bad)


def test_negative_score_message_names_evidence() -> None:
    with pytest.raises(ValueError, match="cannot be negative.*Unit test, 3 Oct 2026"):
        Observation(score=-1, observed_on=date(2026, 10, 3), label="Unit test")


def test_non_numbers_raise_type_error() -> None:
    with pytest.raises(TypeError):
        compute([1, "3"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        compute([True])
    with pytest.raises(ValueError):
        Observation(score=1, weight=-1)


# --------------------------------------------------------------------------- result and explanation shape


def test_result_is_a_frozen_dataclass_with_the_agreed_fields() -> None:
    result = compute(dated(2, 3), method="weighted_average", scale=DEFAULT_SCALE)
    assert is_dataclass(result) and is_dataclass(result.explanation)
    names = [f.name for f in fields(Result)]
    for name in (
        "score",
        "raw",
        "method",
        "params",
        "count",
        "needed",
        "level",
        "explanation",
        "observations",
    ):
        assert name in names
    assert result.params == {"weight": 0.65, "n": 2, "mastery": 3, "min_evidence": 1}
    assert result.level is not None and result.level.label == "Approaching"
    with pytest.raises(AttributeError):
        result.score = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.missing_field  # noqa: B018


def test_plain_numbers_become_observations_in_result() -> None:
    result = compute([2, 3])
    assert result.observations == (Observation(score=2), Observation(score=3))


def test_explanation_weighted_average_text() -> None:
    result = compute(
        [
            Observation(1, date(2026, 9, 1), label="Quiz 1"),
            Observation(2, date(2026, 9, 8), label="Quiz 2"),
            Observation(3, date(2026, 9, 15), label="Lab"),
            Observation(4, date(2026, 9, 22), label="Unit test", ref=42),
        ],
        method="weighted_average",
    )
    e = result.explanation
    assert e.summary == (
        "We take the most recent evidence as counting most (65%), and all earlier evidence together "
        "for the rest (35%)."
    )
    assert e.arithmetic.endswith("4 × 0.65 + 2.00 × 0.35 = 3.30")
    assert e.steps[-1].role == "latest — counts 65%"
    assert e.steps[0].role == "earlier — counts 35% shared"
    assert e.steps[-1].ref == 42 and e.steps[-1].label == "Unit test"
    assert e.steps[-1].observed_on == date(2026, 9, 22)
    assert "22 Sep 2026, Unit test: 4 (latest — counts 65%)" in str(e)
    assert e.outcome == "Result: 3.30."


def test_explanation_terms_per_method() -> None:
    scores = [1, 2, 3, 4]
    assert compute(scores, method="latest").explanation.terms == ((4.0, 1.0),)
    assert compute(scores, method="highest").explanation.terms == ((4.0, 1.0),)
    assert compute([3, 1, 3], method="mode").explanation.terms == ((3.0, 1.0),)
    decaying = compute(scores, method="decaying_average").explanation
    assert [c for _, c in decaying.terms] == pytest.approx([0.35**3, 0.65 * 0.35**2, 0.65 * 0.35, 0.65])
    assert decaying.arithmetic == "1 × 0.0429 + 2 × 0.0796 + 3 × 0.2275 + 4 × 0.65 = 3.48"
    curve = compute([3, 3, 1, 3], method="power_law").explanation
    assert curve.terms is None and curve.curve_at == 4
    assert curve.a * 4**curve.b == pytest.approx(1.8995, abs=1e-4)


def test_explanation_is_lazy_and_stable() -> None:
    result = compute(dated(1, 2, 3), method="decaying_average", scale=DEFAULT_SCALE)
    assert "summary" not in result.explanation.__dict__
    first = str(result.explanation)
    assert first == str(result.explanation)
    assert result.explanation == result.explanation
    copy = pickle.loads(pickle.dumps(result))
    assert str(copy.explanation) == first


def test_eager_explanation_can_be_constructed() -> None:
    e = Explanation(summary="s", outcome="o", terms=((2.0, 1.0),))
    assert str(e) == "s\n\no" and e.reproduce() == 2.0 and e.what_if == ()


# --------------------------------------------------------------------------- what-if


def test_what_if_sentences_and_values() -> None:
    items = what_if([1, 2, 3, 4], scale=DEFAULT_SCALE, method="decaying_average")
    assert [w.points for w in items] == [1, 2, 3, 4]
    by_points = {w.points: w for w in items}
    # 3.484625 × 0.35 + 3 × 0.65
    assert by_points[3].score == round_score(3.484625 * 0.35 + 3 * 0.65) == 3.17
    assert by_points[3].level_label == "Meets"
    assert by_points[3].sentence == "One more 3 would bring this to 3.17, Meets."
    assert by_points[1].sentence == "One more 1 would bring this to 1.87, Beginning."


def test_what_if_included_in_explanation_only_with_scale() -> None:
    with_scale = compute([2, 3], method="average", scale=DEFAULT_SCALE)
    assert with_scale.explanation.what_if[2].sentence == "One more 3 would bring this to 2.67, Approaching."
    assert "What one more piece of evidence would do" in str(with_scale.explanation)
    assert compute([2, 3]).explanation.what_if == ()


def test_what_if_keep_and_no_result_sentences() -> None:
    items = what_if([4], scale=DEFAULT_SCALE, method="highest")
    assert items[0].sentence == "One more 1 would keep this at 4.00, Exceeds."
    items = what_if([1], scale=DEFAULT_SCALE, method="n_mastery")
    assert items[0].score is None
    assert items[0].sentence == "One more 1 would still leave no result: 0 of 2 at mastery."
    assert items[3].sentence == "One more 4 would still leave no result: 1 of 2 at mastery."
    items = what_if([1], scale=DEFAULT_SCALE, min_evidence=3)
    assert (
        items[0].sentence == "One more 1 would still leave no result: 1 more needed." and items[0].needed == 1
    )


def test_what_if_dated_observations_appends_as_latest() -> None:
    obs = dated(4, 1)
    items = what_if(list(reversed(obs)), scale=DEFAULT_SCALE, method="latest")
    assert [w.score for w in items] == [1, 2, 3, 4]


def test_what_if_requires_scale() -> None:
    with pytest.raises(TypeError):
        what_if([1], scale=None)  # type: ignore[arg-type]
