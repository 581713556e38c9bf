"""Smoke test for benchmarks/proficiency_compute.py (a tiny run, not a measurement)."""

from __future__ import annotations

from benchmarks.proficiency_compute import make_data, report, run
from gradebook.proficiency import METHODS, compute


def test_benchmark_run_returns_figures_for_every_method() -> None:
    figures = run(3, 2, 4)
    assert figures["observations"] == 24 and figures["series"] == 6
    assert set(figures["methods"]) == set(METHODS)
    for row in figures["methods"].values():
        assert row["numbers"] > 0 and row["observations"] > 0
    assert figures["average_vs_bare_loop"]["numbers"] > 0
    assert "bare Python loop" in report(figures)


def test_benchmark_data_is_deterministic_and_consistent() -> None:
    numbers, observed = make_data(4, 2, 5)
    again, _ = make_data(4, 2, 5)
    assert numbers == again
    for plain, dated in zip(numbers, observed, strict=True):
        assert compute(plain, method="decaying_average").raw == compute(dated, method="decaying_average").raw
