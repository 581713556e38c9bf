"""Smoke runs of benchmarks/proficiency.py and benchmarks/gradebook.py (tiny sizes, SQLite only, not a measurement)."""

from __future__ import annotations

import random

from benchmarks import gradebook as gradebook_benchmark
from benchmarks import proficiency as proficiency_benchmark
from benchmarks._district import section_sizes


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


def test_gradebook_benchmark_runs_on_sqlite(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert gradebook_benchmark.main(["--grid-requests", "1", "--saves", "2", "--health-requests", "2"]) == 0
    out = capsys.readouterr().out
    assert "score saves/s ÷ /healthz req/s" in out
    assert "4 update revisions for 4 saves" in out  # two warm-up saves, two measured: each one wrote
