"""Pace on a learning path (gradebook.proficiency.pacing): the rule of DESIGN.md, its sentences and its laws."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradebook.proficiency.pacing import PACE_RANK, expected_share, next_standards, unit_pace

START = date(2026, 9, 7)
TARGET = date(2026, 10, 7)  # 30 days later


def pace(today: date, mastered: list[bool], **kwargs: object):
    return unit_pace(today=today, starts_on=START, target_on=TARGET, mastered=mastered, **kwargs)


@pytest.mark.parametrize(
    ("days_in", "mastered", "status"),
    [
        (-1, [False] * 5, "not_started"),          # the unit starts tomorrow
        (-1, [True, True, False, False, False], "not_started"),
        (-10, [True] * 5, "done"),                  # everything shown before the start is still done
        (0, [False] * 5, "on_track"),               # day one: nothing is expected yet
        (15, [False] * 5, "behind"),                # half-way, 2.5 expected, 0 < 1.5
        (15, [True, False, False, False, False], "behind"),    # 1 < 2.5 - 1
        (15, [True, True, False, False, False], "on_track"),
        (6, [True, True, True, True, False], "ahead"),  # 1 expected, 4 > 2
        (30, [True, True, True, True, False], "on_track"),  # target day: 5 expected, 4 is within one
        (30, [True, True, True, False, False], "behind"),
        (60, [True] * 5, "done"),
    ],
)
def test_the_rule(days_in: int, mastered: list[bool], status: str) -> None:
    assert pace(START + timedelta(days=days_in), mastered).status == status


def test_one_standard_share_is_the_margin_both_ways() -> None:
    # 10 standards, 60% through: 6 expected; 5 is on track, 4 is behind (4 < 5), 8 is ahead (8 > 7).
    today = START + timedelta(days=18)
    counts = {n: pace(today, [True] * n + [False] * (10 - n)).status for n in (4, 5, 7, 8)}
    assert counts == {4: "behind", 5: "on_track", 7: "on_track", 8: "ahead"}


def test_expected_share_is_linear_and_clamped() -> None:
    assert expected_share(START - timedelta(days=3), START, TARGET) == 0
    assert expected_share(START, START, TARGET) == 0
    assert expected_share(START + timedelta(days=15), START, TARGET) == 0.5
    assert expected_share(TARGET + timedelta(days=9), START, TARGET) == 1
    assert expected_share(START, START, START) == 1  # a one-day unit is due on its day


@pytest.mark.parametrize(
    ("days_in", "mastered", "sentence"),
    [
        (24, [True, True, True, False, False], "3 of 5 skills at Meets; by today about 4 are expected."),
        (6, [True, False, False], "1 of 3 skills at Meets; by today about 1 is expected."),
        (1, [False, False, False], "0 of 3 skills at Meets; by today none are expected yet."),
        (-2, [True, False], "Starts 7 Sep 2026; 1 of 2 skills at Meets already."),
        (40, [True, False], "1 of 2 skills at Meets; all 2 were expected by 7 Oct 2026."),
        (3, [True, True], "All 2 skills at Meets."),
        (3, [True], "The skill is at Meets."),
        (3, [], "No skills count in this unit."),
    ],
)
def test_sentences(days_in: int, mastered: list[bool], sentence: str) -> None:
    assert pace(START + timedelta(days=days_in), mastered).sentence == sentence


def test_the_expected_count_is_rounded_half_up_like_the_sentence() -> None:
    half = pace(START + timedelta(days=15), [False] * 5)  # 2.5 expected
    assert half.expected == 2.5 and half.expected_about == 3 and "about 3 are expected" in half.sentence


def test_the_mastery_label_comes_from_the_scale() -> None:
    assert pace(START, [True, False], mastery_label="Proficient").sentence.startswith("1 of 2 skills at Proficient")


def test_an_own_target_date_replaces_the_units_and_says_so() -> None:
    today = START + timedelta(days=30)
    own = TARGET + timedelta(days=30)
    mine = pace(today, [True, False, False, False], own_target_on=own)
    assert (mine.status, mine.target_on, mine.own_target) == ("on_track", own, True)
    assert mine.sentence.endswith("Own target date: 6 Nov 2026.")
    assert pace(today, [True, False, False, False]).status == "behind"


def test_a_left_out_standard_does_not_count_and_says_so() -> None:
    result = pace(START + timedelta(days=30), [True, True, False], left_out=[False, False, True])
    assert (result.status, result.at_mastery, result.total) == ("done", 2, 2)
    assert result.sentence == "All 2 skills at Meets. 1 skill left out of this path."


def test_left_out_must_describe_the_same_standards() -> None:
    with pytest.raises(ValueError):
        pace(START, [True, False], left_out=[True])


# Laws ---------------------------------------------------------------------------------------------------

days = st.integers(-60, 120)
lengths = st.integers(0, 90)
flags = st.lists(st.booleans(), max_size=15)


@settings(max_examples=200)
@given(days, lengths, st.integers(1, 15), st.booleans())
def test_every_standard_at_mastery_is_never_behind(day: int, length: int, n: int, own: bool) -> None:
    result = unit_pace(today=START + timedelta(days=day), starts_on=START,
                       target_on=START + timedelta(days=length), mastered=[True] * n,
                       own_target_on=START + timedelta(days=length // 2) if own else None)
    assert result.status == "done"


@settings(max_examples=200)
@given(days, lengths, st.integers(0, 60), flags, st.data())
def test_moving_a_target_date_later_never_makes_the_pace_worse(day: int, length: int, later: int,
                                                                 mastered: list[bool], data: st.DataObject) -> None:
    left_out = data.draw(st.lists(st.booleans(), min_size=len(mastered), max_size=len(mastered)))
    today = START + timedelta(days=day)
    target = START + timedelta(days=length)

    def status(target_on: date, own: date | None = None) -> str:
        return unit_pace(today=today, starts_on=START, target_on=target_on, mastered=mastered,
                         left_out=left_out, own_target_on=own).status

    moved = target + timedelta(days=later)
    assert PACE_RANK[status(moved)] >= PACE_RANK[status(target)] or status(target) == "not_started"
    assert status(moved) == status(target) or status(target) not in ("not_started", "done")
    # the same holds when the later date is the student's own
    assert PACE_RANK[status(target, own=moved)] >= PACE_RANK[status(target)] or status(target) == "not_started"


@settings(max_examples=200)
@given(days, lengths, flags, st.data())
def test_a_standard_left_out_never_counts(day: int, length: int, mastered: list[bool], data: st.DataObject) -> None:
    left_out = data.draw(st.lists(st.booleans(), min_size=len(mastered), max_size=len(mastered)))
    today, target = START + timedelta(days=day), START + timedelta(days=length)
    with_left_out = unit_pace(today=today, starts_on=START, target_on=target, mastered=mastered, left_out=left_out)
    kept = [m for m, out in zip(mastered, left_out, strict=True) if not out]
    without = unit_pace(today=today, starts_on=START, target_on=target, mastered=kept)
    assert (with_left_out.status, with_left_out.at_mastery, with_left_out.total, with_left_out.expected) == (
        without.status, without.at_mastery, without.total, without.expected)
    # whatever a left-out standard's level, it changes nothing
    flipped = [(not m) if out else m for m, out in zip(mastered, left_out, strict=True)]
    assert unit_pace(today=today, starts_on=START, target_on=target, mastered=flipped,
                     left_out=left_out).status == with_left_out.status


@settings(max_examples=200)
@given(st.integers(1, 60), lengths, flags)
def test_not_started_before_the_start_date_unless_done(before: int, length: int, mastered: list[bool]) -> None:
    result = unit_pace(today=START - timedelta(days=before), starts_on=START,
                       target_on=START + timedelta(days=length), mastered=mastered)
    done = bool(mastered) and all(mastered)
    assert result.status == ("done" if done else "not_started")
    assert result.expected == 0


@settings(max_examples=200)
@given(days, lengths, flags)
def test_more_at_mastery_never_makes_the_pace_worse(day: int, length: int, mastered: list[bool]) -> None:
    today, target = START + timedelta(days=day), START + timedelta(days=length)
    before = unit_pace(today=today, starts_on=START, target_on=target, mastered=mastered)
    for i, m in enumerate(mastered):
        if not m:
            better = unit_pace(today=today, starts_on=START, target_on=target,
                               mastered=[*mastered[:i], True, *mastered[i + 1:]])
            assert PACE_RANK[better.status] >= PACE_RANK[before.status] or before.status == "not_started"


@settings(max_examples=200)
@given(days, lengths, flags)
def test_every_sentence_is_plain_and_counts_right(day: int, length: int, mastered: list[bool]) -> None:
    result = unit_pace(today=START + timedelta(days=day), starts_on=START,
                       target_on=START + timedelta(days=length), mastered=mastered)
    assert result.sentence.endswith(".") and not re.search(r"\b1 skills", result.sentence)
    assert "_" not in result.sentence
    if mastered and result.status != "done":
        assert f"{sum(mastered)} of {len(mastered)} skill" in result.sentence


# Next standards -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mastered", "left_out", "expected"),
    [
        (set(), set(), [1, 4]),         # 2 needs 1, 3 needs 2; 4 stands alone
        ({1}, set(), [2, 4]),
        ({1, 2}, set(), [3, 4]),
        ({1, 2, 3, 4}, set(), []),
        (set(), {1}, [2, 4]),           # a left-out prerequisite no longer blocks
        ({1}, {2}, [3, 4]),
        (set(), {4}, [1]),              # a left-out standard is never next
    ],
)
def test_next_standards_are_those_not_at_mastery_whose_prerequisites_are(
    mastered: set[int], left_out: set[int], expected: list[int]
) -> None:
    prerequisites = {2: {1}, 3: {2}}
    assert next_standards([1, 2, 3, 4], mastered, prerequisites, left_out) == expected


@settings(max_examples=200)
@given(st.lists(st.integers(1, 12), unique=True, max_size=12), st.sets(st.integers(1, 12)),
       st.dictionaries(st.integers(1, 12), st.sets(st.integers(1, 12), max_size=3), max_size=8))
def test_next_standards_laws(order: list[int], mastered: set[int], prerequisites: dict[int, set[int]]) -> None:
    result = next_standards(order, mastered, prerequisites, set())
    assert result == [s for s in order if s in result]  # path order
    assert not set(result) & mastered
    assert all(prerequisites.get(s, set()) <= mastered for s in result)
    if not prerequisites:
        assert result == [s for s in order if s not in mastered]
