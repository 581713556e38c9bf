"""The grade bridge (gradebook.proficiency.grade_bridge): the published decision table from levels to a term
grade, its laws, its checks and its sentences."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradebook.proficiency.grade_bridge import (
    DEFAULT_BRIDGE,
    BridgeError,
    Condition,
    GradeBridge,
    Rule,
    term_grade,
)
from gradebook.proficiency.grade_bridge_text import explain, next_sentence, table_sentences

LABELS = {4.0: "Exceeds", 3.0: "Meets", 2.0: "Approaching", 1.0: "Beginning"}
SCALE = tuple(LABELS)


def label_for(points: float) -> str:
    return LABELS[points]


E, M, A, B = 4, 3, 2, 1


@pytest.mark.parametrize(
    ("levels", "grade"),
    [
        ([E] * 5 + [M] * 5, "A"),              # all at Meets or above, half at Exceeds
        ([E] * 4 + [M] * 6, "B"),              # all at Meets or above, 4 of 10 at Exceeds
        ([E] * 10, "A"),
        ([M] * 10, "B"),
        ([M] * 9 + [A], "C"),                  # 9 of 10 at Meets: at least 75%
        ([M] * 8 + [A] * 2, "C"),
        ([E] * 7 + [A] * 3, "D"),              # 7 of 10: not 75%, at least half
        ([M] * 5 + [B] * 5, "D"),
        ([M] * 4 + [B] * 6, "I"),
        ([B] * 3, "I"),
        ([E, M, M, None], "C"),                # a skill with no level counts as not reached: 3 of 4
        ([E, E, None, None], "D"),
        ([None, None], "I"),
        ([], "I"),
        ([E], "A"),
        ([E, M, M], "B"),                      # half of 3 skills is ⌈1.5⌉ = 2 at Exceeds
        ([E, E, M], "A"),
    ],
)
def test_the_default_table(levels: list[float | None], grade: str) -> None:
    assert term_grade(levels, DEFAULT_BRIDGE).grade == grade


def test_a_share_needs_the_next_whole_skill() -> None:
    assert Condition(50, 4).needed(3) == 2
    assert Condition(75, 3).needed(10) == 8
    assert Condition(100, 3).needed(7) == 7
    assert Condition(1, 3).needed(1) == 1


def test_skills_with_no_level_can_be_left_out_of_the_count() -> None:
    left_out = GradeBridge(DEFAULT_BRIDGE.rules, "I", no_level="left_out")
    assert term_grade([M, M, None, None], left_out).grade == "B"
    assert term_grade([M, M, None, None], DEFAULT_BRIDGE).grade == "D"
    assert term_grade([None], left_out).grade == "I"


def test_the_first_rule_that_holds_decides_even_when_a_later_one_holds_too() -> None:
    bridge = GradeBridge((Rule("P", (Condition(50, 3),)), Rule("P", (Condition(100, 2),)),
                          Rule("Q", (Condition(10, 1),))), "N")
    result = term_grade([M, M, A, A], bridge)
    assert (result.grade, result.rule) == ("P", 0)


def test_the_explanation_names_the_counts_and_what_the_next_grade_needs() -> None:
    result = term_grade([E] * 2 + [M] * 8, DEFAULT_BRIDGE)
    assert explain(result, label_for, name="Maya") == (
        "Maya's grade is B because all 10 skills are at Meets or above. "
        "A grade of A needs 5 at Exceeds or above (now 2).")


def test_the_explanation_of_a_two_condition_rule_names_both_counts() -> None:
    result = term_grade([E] * 6 + [M] * 4, DEFAULT_BRIDGE)
    assert explain(result, label_for, name="Maya") == (
        "Maya's grade is A because all 10 skills are at Meets or above and 6 are at Exceeds or above.")


def test_the_explanation_of_a_share_counts_of_all_the_skills() -> None:
    result = term_grade([M] * 9 + [A], DEFAULT_BRIDGE)
    assert explain(result, label_for) == (
        "Your grade is C because 9 of 10 skills are at Meets or above. "
        "A grade of B needs all 10 at Meets or above (now 9).")


def test_the_explanation_when_no_rule_holds_says_what_the_lowest_rule_needs() -> None:
    result = term_grade([M, M, B, B, B, None], DEFAULT_BRIDGE)
    assert result.rule is None and result.grade == "I"
    assert explain(result, label_for, name="Leo") == (
        "Leo's grade is I: it does not fit the rule for a higher grade yet. "
        "A grade of D needs 3 at Meets or above (now 2). "
        "1 skill has no level yet, so it counts as not reached yet.")


def test_the_top_grade_needs_nothing_more() -> None:
    assert next_sentence(term_grade([E, E], DEFAULT_BRIDGE), label_for) == ""


def test_the_table_is_published_in_plain_words() -> None:
    assert table_sentences(DEFAULT_BRIDGE, label_for) == [
        "A: all skills at Meets or above and at least half of the skills at Exceeds or above.",
        "B: all skills at Meets or above.",
        "C: at least 75% of the skills at Meets or above.",
        "D: at least half of the skills at Meets or above.",
        "I: any other case (not yet).",
    ]


def test_the_default_table_is_sound_on_the_default_scale() -> None:
    assert DEFAULT_BRIDGE.validate(SCALE) is DEFAULT_BRIDGE


@pytest.mark.parametrize(
    ("bridge", "message"),
    [
        (GradeBridge((), "I"), "Add at least one rule."),
        (GradeBridge((Rule("", (Condition(100, 3),)),), "I"), "Rule 1 needs a grade"),
        (GradeBridge((Rule("A", ()),), "I"), "Rule 1 (A) has no condition"),
        (GradeBridge((Rule("A", (Condition(0, 3),)),), "I"), "from 1% to 100%, not 0%"),
        (GradeBridge((Rule("A", (Condition(120, 3),)),), "I"), "not 120%"),
        (GradeBridge((Rule("A", (Condition(100, 5),)),), "I"), "5 is not a level of the scale"),
        (GradeBridge((Rule("A", (Condition(100, 3),)), Rule("B", (Condition(50, 3),)),
                      Rule("A", (Condition(10, 3),))), "I"), "Rule 3 gives A again after B"),
        (GradeBridge((Rule("A", (Condition(100, 3),)),), "A"), "“Otherwise” gives A"),
        (GradeBridge((Rule("B", (Condition(75, 3),)), Rule("A", (Condition(100, 4),))), "I"),
         "Rule 2 (A) can never decide: every student it fits is already given B by rule 1."),
        (GradeBridge((Rule("A", (Condition(100, 3),)),), "I", no_level="zero"), "is not a way to count"),
        (GradeBridge((Rule("A\x07", (Condition(100, 3),)),), "I"), "a grade is a short word"),
        (GradeBridge((Rule("Excellent work", (Condition(100, 3),)),), "I"), "a grade is a short word"),
    ],
)
def test_a_table_that_cannot_be_published_says_why(bridge: GradeBridge, message: str) -> None:
    with pytest.raises(BridgeError) as failure:
        bridge.validate(SCALE)
    assert any(message in problem for problem in failure.value.problems), failure.value.problems


@pytest.mark.parametrize("data", [{}, {"rules": "A"}, {"rules": [{"grade": "A", "conditions": [{"percent": "x",
                                                                                            "points": 3}]}]},
                                  {"rules": [{"grade": "A", "conditions": [{"percent": 50.5, "points": 3}]}]},
                                  {"rules": [{"grade": "A", "conditions": [{"percent": 50, "points": "nan"}]}]}])
def test_a_shape_that_is_not_a_table_is_refused(data: dict) -> None:
    with pytest.raises(BridgeError):
        GradeBridge.from_dict(data)


def test_a_table_survives_storing() -> None:
    assert GradeBridge.from_dict(DEFAULT_BRIDGE.to_dict()) == DEFAULT_BRIDGE


# ---------------------------------------------------------------------------------------------- the laws

level = st.one_of(st.none(), st.sampled_from(SCALE))
levels = st.lists(level, max_size=12)
condition = st.builds(Condition, st.integers(1, 100), st.sampled_from(SCALE))
grades = ["A", "B", "C", "D", "E"]


@st.composite
def bridges(draw: st.DrawFn) -> GradeBridge:
    """Any sound table: rules grouped by grade, best grade first."""
    how_many = draw(st.integers(1, 4))
    rules = []
    for grade in grades[:how_many]:
        for _ in range(draw(st.integers(1, 2))):
            rules.append(Rule(grade, tuple(draw(st.lists(condition, min_size=1, max_size=3)))))
    return GradeBridge(tuple(rules), "I", draw(st.sampled_from(["below", "left_out"])))


@st.composite
def raised(draw: st.DrawFn, mode_below: bool = True) -> tuple[list[float | None], list[float | None]]:
    """Levels, and the same levels with some of them raised."""
    before = draw(levels)
    after = []
    for points in before:
        higher = [p for p in SCALE if points is None or p >= points]
        if not mode_below and points is None:
            higher = [None]  # left out: a skill that gains a level joins the count, which is not a raise
        after.append(draw(st.sampled_from([points, *higher])))
    return before, after


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(bridges(), raised())
def test_raising_any_level_never_lowers_the_grade_when_no_level_counts_below(
        bridge: GradeBridge, pair: tuple[list, list]) -> None:
    bridge = GradeBridge(bridge.rules, bridge.otherwise, "below")
    before, after = pair
    assert bridge.rank(term_grade(after, bridge).grade) <= bridge.rank(term_grade(before, bridge).grade)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(bridges(), raised(mode_below=False))
def test_raising_a_level_never_lowers_the_grade_when_no_level_is_left_out(
        bridge: GradeBridge, pair: tuple[list, list]) -> None:
    bridge = GradeBridge(bridge.rules, bridge.otherwise, "left_out")
    before, after = pair
    assert bridge.rank(term_grade(after, bridge).grade) <= bridge.rank(term_grade(before, bridge).grade)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(bridges(), levels)
def test_the_first_rule_that_holds_decides(bridge: GradeBridge, marks: list) -> None:
    result = term_grade(marks, bridge)
    if result.total == 0:
        assert result.grade == bridge.otherwise
        return
    holding = [i for i, rule in enumerate(bridge.rules)
               if all(sum(1 for p in marks if p is not None and p >= c.points) >= c.needed(result.total)
                      for c in rule.conditions)]
    assert result.rule == (holding[0] if holding else None)
    assert result.grade == (bridge.rules[holding[0]].grade if holding else bridge.otherwise)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(bridges(), levels)
def test_the_explanation_names_the_counts_of_the_deciding_rule(bridge: GradeBridge, marks: list) -> None:
    result = term_grade(marks, bridge)
    text = explain(result, label_for, name="Maya")
    assert text.startswith(f"Maya's grade is {result.grade}")
    for count in result.because:
        assert str(count.have) in text and LABELS[count.condition.points] in text
    for count in result.next_needs:
        assert f"(now {count.have})" in text
    if result.next_grade is not None and result.total:
        assert f"A grade of {result.next_grade} needs" in text


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(bridges(), levels)
def test_the_next_grade_is_the_one_just_above_and_names_only_unmet_counts(bridge: GradeBridge, marks: list) -> None:
    result = term_grade(marks, bridge)
    rank = bridge.rank(result.grade)
    assert result.next_grade == (bridge.grades[rank - 1] if rank and result.total else None) or result.total == 0
    assert all(not c.holds for c in result.next_needs)
