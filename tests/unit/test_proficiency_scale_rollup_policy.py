"""Scales, roll-ups, trend, flags, policies and overrides of gradebook.proficiency."""

from __future__ import annotations

from datetime import date

import pytest

from gradebook.proficiency import (
    DEFAULT_SCALE,
    TEACHER_JUDGEMENT,
    ChildResult,
    Level,
    Observation,
    Policy,
    Scale,
    apply_override,
    compute,
    compute_with_policy,
    contrast_ratio,
    flags,
    rollup,
    round_score,
    trend,
)

# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.675, 2.68),
        (1.005, 1.01),
        (2.5, 2.5),
        (0.125, 0.13),
        (2.994999, 2.99),
        (2.995, 3.0),
        (3.3000000000000003, 3.3),
    ],
)
def test_round_half_away_from_zero(value: float, expected: float) -> None:
    assert round_score(value) == expected


# --------------------------------------------------------------------------- scale


def lv(points: float, label: str, mastery: bool = False) -> Level:
    return Level(points, label, "#336699", mastery)


def test_default_scale_levels() -> None:
    assert [lv.label for lv in DEFAULT_SCALE.levels] == ["Beginning", "Approaching", "Meets", "Exceeds"]
    assert DEFAULT_SCALE.mastery.label == "Meets" and DEFAULT_SCALE.mastery.points == 3
    assert DEFAULT_SCALE.max_points == 4 and DEFAULT_SCALE.min_points == 1
    assert [lv.symbol for lv in reversed(DEFAULT_SCALE.levels)] == ["★", "✓", "◐", "○"]
    assert DEFAULT_SCALE.levels[-1].colour == "#1a7f5a"
    assert len({lv.colour for lv in DEFAULT_SCALE.levels}) == 4


def test_default_scale_colours_have_readable_text() -> None:
    for level in DEFAULT_SCALE.levels:
        assert contrast_ratio(level.colour, level.text_colour) >= 4.5, level.label
        assert level.description and level.pattern == level.symbol


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0, "Beginning"),
        (0.5, "Beginning"),
        (1, "Beginning"),
        (1.99, "Beginning"),
        (2, "Approaching"),
        (2.99, "Approaching"),
        (2.994, "Approaching"),
        (2.995, "Meets"),  # rounds to 3.00
        (3.0, "Meets"),
        (3.99, "Meets"),
        (4, "Exceeds"),
        (4.5, "Exceeds"),
    ],
)
def test_level_for_boundaries(score: float, label: str) -> None:
    assert DEFAULT_SCALE.level_for(score).label == label


def test_level_for_none_and_invalid() -> None:
    assert DEFAULT_SCALE.level_for(None) is None
    with pytest.raises(ValueError):
        DEFAULT_SCALE.level_for(-1)
    with pytest.raises(ValueError):
        DEFAULT_SCALE.level_for(float("nan"))


def test_is_valid_score() -> None:
    assert DEFAULT_SCALE.is_valid_score(1) and DEFAULT_SCALE.is_valid_score(4)
    assert not DEFAULT_SCALE.is_valid_score(0)  # a 1-4 scale has no 0 (missing work is "missing")
    assert not DEFAULT_SCALE.is_valid_score(4.01)
    assert not DEFAULT_SCALE.is_valid_score(-0.1)
    assert not DEFAULT_SCALE.is_valid_score(float("nan"))


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([lv(3, "Meets", True)], "at least 2 levels"),
        ([lv(3, "Meets", True), lv(3, "Secure")], "Two levels share 3 points"),
        ([lv(3, "Meets"), lv(2, "Approaching")], "exactly one mastery level, found 0"),
        ([lv(3, "Meets", True), lv(4, "Exceeds", True)], "found 2 ('Meets', 'Exceeds')"),
    ],
)
def test_scale_validation(levels: list[Level], message: str) -> None:
    with pytest.raises(ValueError) as info:
        Scale(levels)
    assert message in str(info.value)


def test_level_validation() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        Level(-1, "Below", "#336699", False)
    with pytest.raises(ValueError, match="label"):
        Level(1, " ", "#336699", False)
    with pytest.raises(ValueError, match="colour"):
        Level(1, "One", "blue", False)


def test_scale_sorts_levels_and_finds_by_points() -> None:
    scale = Scale([lv(3, "Meets", True), lv(1, "Beginning")])
    assert [x.points for x in scale.levels] == [1, 3]
    assert scale.level_with_points(3).label == "Meets"
    with pytest.raises(ValueError, match="No level has 2 points"):
        scale.level_with_points(2)


def test_compute_sets_level_from_rounded_score() -> None:
    assert compute([2.99, 3.0], scale=DEFAULT_SCALE).level.label == "Meets"  # 2.995 → 3.00
    assert compute([2.98, 3.0], scale=DEFAULT_SCALE).level.label == "Approaching"


# --------------------------------------------------------------------------- roll-ups

KIDS = [
    ChildResult("ALG.1", "Solve linear equations", 3.5),
    ChildResult("ALG.2", "Graph lines", 2.0),
    ChildResult("ALG.3", "Solve systems", None),
]


def test_rollup_average_names_children_without_evidence() -> None:
    result = rollup(KIDS, "average", mastery=3, scale=DEFAULT_SCALE)
    assert result.score == 2.75 and result.count == 2 and result.level.label == "Approaching"
    assert result.missing == (KIDS[2],)
    assert "ALG.3 (Solve systems)" in str(result.explanation)
    assert "no result yet" in result.explanation.outcome
    assert result.explanation.reproduce() == pytest.approx(result.raw)


def test_rollup_lowest() -> None:
    result = rollup(KIDS, "lowest", mastery=3)
    assert result.score == 2.0
    assert result.explanation.steps[1].role == "lowest — this is the result"
    assert "ALG.3" in str(result.explanation)


def test_rollup_all_at_mastery() -> None:
    not_there = rollup(KIDS, "all_at_mastery", mastery=3)
    assert not_there.score == 2.0 and not_there.not_at_mastery == (KIDS[1],)
    assert "Not yet at mastery: ALG.2 (Graph lines) is below 3." in not_there.explanation.outcome
    there = rollup(
        [ChildResult("A", "a", 4), ChildResult("B", "b", 3), ChildResult("C", "c", None)],
        "all_at_mastery",
        mastery=3,
    )
    assert there.score == 3.5 and there.not_at_mastery == ()
    assert "C (c)" in str(there.explanation)


def test_rollup_without_scored_children() -> None:
    result = rollup([ChildResult("A", "a", None), ChildResult("B", "b", None)], "average", mastery=3)
    assert result.score is None and result.raw is None and result.count == 0
    text = str(result.explanation)
    assert "A (a)" in text and "B (b)" in text
    assert rollup([], "lowest", mastery=3).score is None


def test_rollup_errors() -> None:
    with pytest.raises(ValueError, match="Unknown roll-up rule 'min'. Choose one of: average, lowest"):
        rollup(KIDS, "min", mastery=3)
    with pytest.raises(ValueError, match="ALG.9"):
        rollup([ChildResult("ALG.9", "x", -1)], "average", mastery=3)


# --------------------------------------------------------------------------- trend and flags


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], None),
        ([3], None),
        ([1, 2], "improving"),
        ([2, 3, 4], "improving"),
        ([4, 3, 2], "slipping"),
        ([3, 3, 3.2], "steady"),
        ([1, 1, 4, 3, 3, 3], "steady"),  # only the last 3 count
        ([3, 1, 3], "steady"),
    ],
)
def test_trend(scores: list[float], expected: str | None) -> None:
    assert trend(scores) == expected


def test_trend_ignores_weight_zero_and_uses_date_order() -> None:
    obs = [
        Observation(3, date(2026, 9, 15)),
        Observation(1, date(2026, 9, 1)),
        Observation(0, date(2026, 9, 20), weight=0),
    ]
    assert trend(obs) == "improving"
    assert trend([1, 2, 2.2], window=2, threshold=0.5) == "steady"


def test_flags_messages() -> None:
    obs = [
        Observation(3, date(2026, 9, 1), label="Quiz"),
        Observation(3, date(2026, 9, 20), label="Lab"),
        Observation(1, date(2026, 10, 3), label="Unit test", ref=7),
        Observation(3, date(2026, 10, 10), label="Exit ticket"),
    ]
    found = flags(obs, today=date(2027, 3, 1), min_evidence=5)
    codes = [f.code for f in found]
    assert codes == ["too_little_evidence", "stale", "outlier"]
    assert (
        found[0].message == "There are only 4 pieces of evidence; 1 more is needed before a result is shown."
    )
    assert "10 Oct 2026" in found[1].message and "142 days ago" in found[1].message
    assert found[2].message == "The 1 on 3 Oct 2026 (Unit test) is far from the other scores."
    assert found[2].ref == 7


def test_flags_quiet_when_all_is_well() -> None:
    obs = [Observation(s, date(2026, 9, 1 + i)) for i, s in enumerate([2, 3, 3])]
    assert flags(obs, today=date(2026, 9, 30), min_evidence=3) == []


def test_flags_plain_numbers_and_no_evidence() -> None:
    assert [f.code for f in flags([], today=date(2026, 1, 1), min_evidence=1)] == ["too_little_evidence"]
    found = flags([3, 3, 3, 0.5], today=date(2026, 1, 1), min_evidence=1)
    assert [f.message for f in found] == ["The 0.5 (evidence 4) is far from the other scores."]


# --------------------------------------------------------------------------- policy and overrides


def test_policy_defaults_and_round_trip() -> None:
    policy = Policy(kind_weights={"practice": 0, "unit_test": 2})
    assert policy.method == "decaying_average" and policy.weight == 0.65 and policy.rollup == "average"
    data = policy.to_dict()
    assert data["kind_weights"] == {"practice": 0, "unit_test": 2}
    assert Policy.from_dict(data) == policy
    assert hash(Policy.from_dict(data)) == hash(policy)
    assert Policy.from_dict({}) == Policy()


def test_policy_validation_lists_every_problem() -> None:
    policy = Policy(method="avg", weight=1.5, n=0, min_evidence=0, rollup="min", kind_weights={"quiz": -1})
    problems = policy.problems()
    assert len(problems) == 6
    with pytest.raises(ValueError) as info:
        policy.validate()
    assert "Unknown method 'avg'" in str(info.value) and "'quiz'" in str(info.value)
    with pytest.raises(ValueError, match="Unknown policy setting"):
        Policy.from_dict({"methd": "average"})


def test_policy_apply_and_compute_with_policy() -> None:
    obs = [
        Observation(1, date(2026, 9, 1), kind="practice"),
        Observation(2, date(2026, 9, 8), kind="quiz"),
        Observation(4, date(2026, 9, 15), kind="unit_test"),
    ]
    policy = Policy(method="average", kind_weights={"practice": 0, "unit_test": 3})
    applied = policy.apply(obs)
    assert [o.weight for o in applied] == [0, 1.0, 3]
    result = compute_with_policy(obs, policy, scale=DEFAULT_SCALE)
    assert result.score == 3.5 and result.count == 2  # (2×1 + 4×3) ÷ 4
    assert result.explanation.steps[0].role == "not counted: practice"
    with pytest.raises(ValueError):
        compute_with_policy(obs, Policy(method="avg"))


def test_policy_apply_keeps_evidence_given_no_weight_uncounted() -> None:
    # A practice quiz the teacher set not to count arrives with weight 0; the policy gives practice weight 1.
    obs = [Observation(1, date(2026, 9, 1), kind="practice", weight=0),
           Observation(3, date(2026, 9, 8), kind="test")]
    policy = Policy(method="decaying_average", kind_weights={"practice": 1, "test": 2})
    assert [o.weight for o in policy.apply(obs)] == [0, 2]
    result = compute_with_policy(obs, policy, scale=DEFAULT_SCALE)
    assert result.score == 3 and result.count == 1
    assert not result.explanation.steps[0].counted


def test_override_keeps_computed_result() -> None:
    computed = compute([2, 2, 3], method="average", scale=DEFAULT_SCALE)
    final = apply_override(
        computed, level_points=3, reason="Showed mastery in conference", by="Ms Lee", scale=DEFAULT_SCALE
    )
    assert final.level.label == "Meets" and final.score == 3
    assert final.source == TEACHER_JUDGEMENT == "Teacher judgement"
    assert final.computed is computed and final.computed_level.label == "Approaching"
    text = str(final)
    assert "Teacher judgement: Meets" in text and "Showed mastery in conference" in text and "2.33" in text


@pytest.mark.parametrize("reason", ["", "   "])
def test_override_requires_reason(reason: str) -> None:
    computed = compute([2])
    with pytest.raises(ValueError, match="reason"):
        apply_override(computed, level_points=3, reason=reason, by="Ms Lee", scale=DEFAULT_SCALE)


def test_override_level_must_exist() -> None:
    with pytest.raises(ValueError, match="No level has 2.5 points"):
        apply_override(compute([2]), level_points=2.5, reason="r", by="Ms Lee", scale=DEFAULT_SCALE)


@pytest.mark.parametrize("weight", [101, 1e308])
def test_a_kind_weight_has_a_sensible_upper_bound(weight: float) -> None:
    assert any("from 0 to 100" in p for p in Policy(kind_weights={"test": weight}).problems())
