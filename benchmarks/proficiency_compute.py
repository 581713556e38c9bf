"""Throughput of gradebook.proficiency.compute on a school-sized gradebook.

    .venv/bin/python benchmarks/proficiency_compute.py                 # 20,000 students × 10 standards × 10
    .venv/bin/python benchmarks/proficiency_compute.py --quick         # 2,000 students: a smoke test
    .venv/bin/python benchmarks/proficiency_compute.py --students 5000 --standards 8 --observations 12

Generates deterministic random evidence (one series of scores per student and
standard), then times ``compute`` for every method, both on plain numbers and
on dated ``Observation`` objects (the realistic case: what the app passes,
already in date order as a query returns them). It also times a bare Python
loop that averages the same numbers, and reports compute(average)'s
throughput as a ratio of that loop's.

Import :func:`run` to reuse the measurement from another module.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

try:
    from gradebook.proficiency import METHODS, Observation, compute
except ModuleNotFoundError:  # run as a script from a checkout: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from gradebook.proficiency import METHODS, Observation, compute

SEED = 20260901
SCORES = (1, 2, 2, 3, 3, 3, 4)  # a realistic spread on a 1–4 scale, centred near mastery
KINDS = ("quiz", "lab", "unit_test", "exit_ticket")
START = date(2026, 9, 1)


def make_data(
    students: int, standards: int, observations: int, *, seed: int = SEED
) -> tuple[list[list[int]], list[list[Observation]]]:
    """Deterministic evidence: one series per (student, standard), as numbers and as dated Observations."""
    rng = random.Random(seed)
    series_count = students * standards
    numbers = [rng.choices(SCORES, k=observations) for _ in range(series_count)]
    dates = [START + timedelta(days=7 * i) for i in range(observations)]
    labels = [f"Assessment {i + 1}" for i in range(observations)]
    observed = [
        [
            Observation(score=s, observed_on=dates[i], label=labels[i], kind=KINDS[i % len(KINDS)], ref=i)
            for i, s in enumerate(series)
        ]
        for series in numbers
    ]
    return numbers, observed


def bare_loop(data: Sequence[Sequence[float]]) -> None:
    """The baseline: a plain Python mean of each series."""
    for series in data:
        s = 0
        for x in series:
            s += x
        s / len(series)


def _time(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_method(data: Sequence[Sequence[Any]], method: str) -> float:
    """Seconds to compute every series in ``data`` with ``method``."""

    def go() -> None:
        for series in data:
            compute(series, method=method)

    return _time(go)


def run(students: int = 20_000, standards: int = 10, observations: int = 10, *, seed: int = SEED) -> dict:
    """Generate data, time every method and the bare loop; return the figures (observations per second)."""
    numbers, observed = make_data(students, standards, observations, seed=seed)
    total = students * standards * observations
    bare_seconds = _time(lambda: bare_loop(numbers))
    methods: dict[str, dict[str, float]] = {}
    for method in METHODS:
        methods[method] = {
            "numbers": total / time_method(numbers, method),
            "observations": total / time_method(observed, method),
        }
    bare = total / bare_seconds
    return {
        "students": students,
        "standards": standards,
        "observations_per_series": observations,
        "series": students * standards,
        "observations": total,
        "bare_loop": bare,
        "methods": methods,
        "average_vs_bare_loop": {
            "numbers": methods["average"]["numbers"] / bare,
            "observations": methods["average"]["observations"] / bare,
        },
    }


def report(figures: dict) -> str:
    """A plain-text table of :func:`run`'s figures."""
    lines = [
        f"{figures['series']:,} series × {figures['observations_per_series']} = "
        f"{figures['observations']:,} observations",
        "",
        f"{'method':<18} {'numbers obs/s':>15} {'Observations obs/s':>20}",
        f"{'-' * 18} {'-' * 15} {'-' * 20}",
    ]
    for method, row in figures["methods"].items():
        lines.append(f"{method:<18} {row['numbers']:>15,.0f} {row['observations']:>20,.0f}")
    ratio = figures["average_vs_bare_loop"]
    lines += [
        f"{'bare Python loop':<18} {figures['bare_loop']:>15,.0f}",
        "",
        "compute(average) throughput ÷ bare loop throughput: "
        f"numbers {ratio['numbers']:.3f} ({1 / ratio['numbers']:.1f}× slower), "
        f"Observations {ratio['observations']:.3f} ({1 / ratio['observations']:.1f}× slower)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: parse the sizes, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--standards", type=int, default=10)
    parser.add_argument("--observations", type=int, default=10, help="observations per series")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quick", action="store_true", help="small run (2,000 students) for a smoke test")
    args = parser.parse_args(argv)
    students = 2_000 if args.quick else args.students
    if min(students, args.standards, args.observations) < 1:
        parser.error("--students, --standards and --observations must be at least 1")
    print(report(run(students, args.standards, args.observations, seed=args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
