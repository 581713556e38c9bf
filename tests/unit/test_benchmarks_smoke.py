"""Smoke runs of the benchmarks (tiny sizes, SQLite only, not a measurement: no timing is asserted)."""

from __future__ import annotations

import random

import pytest

from benchmarks import gradebook as gradebook_benchmark
from benchmarks import load as load_benchmark
from benchmarks import proficiency as proficiency_benchmark
from benchmarks._district import section_sizes

# Each one starts gunicorn (the load test two workers) and drives it hard: under pytest-xdist they run one
# after the other on one worker, not all at once.
pytestmark = pytest.mark.xdist_group("benchmarks")


def test_section_sizes_cover_everyone_in_classes_of_25_to_30() -> None:
    for students in (1, 24, 31, 49, 60, 1000, 20_000):
        sizes = section_sizes(students, 25, 30, random.Random(1))
        assert sum(sizes) == students and max(sizes) <= 30
        if students >= 50:
            assert min(sizes) >= 25
    assert section_sizes(1000, 25, 30, random.Random(7)) == section_sizes(1000, 25, 30, random.Random(7))


def test_proficiency_benchmark_runs_on_sqlite(capsys) -> None:  # type: ignore[no-untyped-def]
    assert proficiency_benchmark.main(["--students", "30", "--standards", "3", "--observations", "2",
                                       "--no-postgres"]) == 0
    out = capsys.readouterr().out
    assert "bare Python loop" in out
    assert "180 evidence rows" in out and "SQLite" in out and "obs/s" in out


def test_gradebook_benchmark_runs_over_http_on_sqlite(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert gradebook_benchmark.main(["--quick", "--grid-requests", "1", "--saves", "2"]) == 0
    out = capsys.readouterr().out
    assert "grid p50 ÷ floor p50 =" in out and "grid p95 ÷ p50 =" in out
    assert "save throughput ÷ trivial route =" in out
    assert "5 update revisions for 5 saves" in out  # three warm-up saves, two measured: each one wrote
    assert "SQL statements (grid page, score save): 1 student:" in out


def test_load_benchmark_runs_on_sqlite(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert load_benchmark.main(["--teachers", "2", "--seconds", "2", "--workers", "2", "--no-postgres"]) == 0
    out = capsys.readouterr().out
    assert "lost writes: 0 of" in out and "errors: 0" in out
    assert load_benchmark.main(["--grid-only", "--teachers", "2", "--seconds", "1", "--workers", "2",
                                "--no-postgres"]) == 0
    assert "p99 ÷ p50 =" in capsys.readouterr().out


def test_the_save_benchmark_runs_over_http_on_sqlite(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from benchmarks import over_http

    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert over_http.main(["--saves", "2", "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("saves ÷ trivial route =") == 2
    assert "224 update revisions for 224 saves" in out  # 20 warm-up saves, two runs of 2 + 100 (CPU): each wrote
