"""The cache's fast path (Summariser, on plain rows) gives exactly what the object path gives (summarise, on
Observations), for every method, roll-up rule and policy, on random evidence: undated pieces, pieces on the
same day with and without a recorded time, pieces that do not count, kind weights, no evidence at all."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradebook.proficiency import (
    DEFAULT_SCALE,
    METHODS,
    ROLLUP_RULES,
    Level,
    Observation,
    Policy,
    Scale,
    Summariser,
    summarise,
    summarise_rollup,
)

KINDS = ("test", "quiz", "practice", "project", "observation")
DECIMAL_SCALE = Scale([Level(0.5, "Not yet", "#8a4fb0", False), Level(2.25, "Nearly", "#b7791f", False),
                       Level(2.75, "Secure", "#2a6fb0", True), Level(3.5, "Deep", "#1a7f5a", False)])
scales = st.sampled_from([None, DEFAULT_SCALE, DECIMAL_SCALE])

policies = st.builds(
    Policy,
    method=st.sampled_from(METHODS),
    weight=st.one_of(st.sampled_from([0.65, 0.5, 1 / 3]), st.floats(0.01, 0.99)),
    n=st.integers(1, 4),
    min_evidence=st.integers(1, 4),
    rollup=st.sampled_from(ROLLUP_RULES),
    kind_weights=st.dictionaries(st.sampled_from(KINDS), st.sampled_from([0, 0.5, 1, 1.0, 2, 3.5]), max_size=3),
)
# source key -> (weight, kind) as an Observation carries them: None is evidence without an assessment
sources = st.dictionaries(st.integers(1, 5), st.tuples(st.sampled_from([0.0, 1.0, 1, 0.5, 2.0]),
                                                       st.sampled_from(KINDS)), max_size=5).map(
    lambda found: {None: (1.0, "observation"), **found})
DAY = date(2026, 9, 1)
dates = st.integers(0, 6).map(lambda d: DAY + timedelta(days=d))  # few days: many pieces share one
times = st.one_of(st.none(), st.integers(0, 4).map(lambda m: datetime(2026, 9, 1, 8, m)))
scores = st.one_of(st.sampled_from([0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.25, 4.0]), st.floats(0, 4, allow_nan=False))


@st.composite
def evidence(draw: st.DrawFn, undated: bool = True) -> tuple[dict, list[tuple]]:
    table = draw(sources)
    keys = sorted(table, key=lambda k: (k is not None, k or 0))
    pieces = draw(st.lists(st.tuples(
        st.one_of(st.none(), dates) if undated and draw(st.booleans()) else dates,
        times, scores, st.sampled_from(keys)), max_size=12))
    # rows as a cursor returns them: grouping columns first, then (observed_on, recorded_at, ref, score, source)
    rows = [("section", "student", on, at, ref, score, key) for ref, (on, at, score, key) in enumerate(pieces)]
    return table, rows


def _observations(table: dict, rows: list[tuple]) -> list[Observation]:
    return [Observation(score=score, observed_on=on, recorded_at=at, weight=table[key][0], kind=table[key][1],
                        ref=ref) for _s, _t, on, at, ref, score, key in rows]


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)  # a shared machine
@given(evidence(), policies, scales)
def test_rows_give_what_observations_give(found: tuple[dict, list[tuple]], policy: Policy, scale: Scale | None) -> None:
    table, rows = found
    expected = summarise(_observations(table, rows), policy, scale)
    assert Summariser(policy, scale, table).summarise(rows) == expected


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)  # a shared machine
@given(evidence(undated=False), policies, scales)
def test_iso_text_dates_as_sqlite_returns_them_give_the_same(found: tuple[dict, list[tuple]], policy: Policy,
                                                             scale: Scale | None) -> None:
    """SQLite hands back dates and times as ISO text (SQLAlchemy's storage format): ordered as text they order
    as dates, and ``date_of`` turns the newest into a date."""
    table, rows = found
    as_text = [(s, t, on.isoformat(), None if at is None else f"{at:%Y-%m-%d %H:%M:%S.%f}", ref, score, key)
               for s, t, on, at, ref, score, key in rows]
    expected = summarise(_observations(table, rows), policy, scale)
    assert Summariser(policy, scale, table, date_of=date.fromisoformat).summarise(as_text) == expected


child_scores = st.lists(st.one_of(st.none(), st.sampled_from([1, 2, 3, 4]), st.floats(0, 4, allow_nan=False)),
                        max_size=8)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)  # a shared machine
@given(child_scores, policies, scales)
def test_rollup_of_scores_gives_what_rollup_gives(scores: list[float | None], policy: Policy,
                                                  scale: Scale | None) -> None:
    assert Summariser(policy, scale).rollup(scores) == summarise_rollup(scores, policy.rollup, scale)


def test_no_evidence_is_the_empty_result() -> None:
    policy = Policy(method="n_mastery", n=3, min_evidence=2)
    summary = Summariser(policy, DEFAULT_SCALE).summarise([])
    assert summary == summarise([], policy, DEFAULT_SCALE)
    assert (summary.score, summary.needed, summary.evidence_count, summary.trend) == (None, 3, 0, None)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_bad_score_is_refused_as_observation_refuses_it(bad: float) -> None:
    rows = [(DAY, None, 1, 2.0, None), (DAY + timedelta(days=1), None, 2, bad, None)]
    with pytest.raises(ValueError, match="score"):
        Summariser(Policy()).summarise(rows)
    with pytest.raises(ValueError, match="score"):
        summarise([Observation(score=bad)], Policy())


def test_whole_number_scores_are_taken_as_observation_takes_them() -> None:
    rows = [(DAY + timedelta(days=i), None, i, score, None) for i, score in enumerate([1, 3, 2, 4])]
    for method in METHODS:
        policy = Policy(method=method)
        expected = summarise([Observation(score=r[3], observed_on=r[0], ref=r[2]) for r in rows], policy)
        assert Summariser(policy).summarise(rows) == expected


def test_a_source_weight_is_checked() -> None:
    with pytest.raises(ValueError, match="weight"):
        Summariser(Policy(), None, {None: (-1.0, "test")})
