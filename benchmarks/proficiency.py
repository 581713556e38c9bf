"""Proficiency at district scale: the pure compute, then a full recompute of the cache on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/proficiency.py                  # 20,000 students × 10 standards × 10 = 2M
    .venv/bin/python benchmarks/proficiency.py --quick          # ~1,000 students: under a minute
    .venv/bin/python benchmarks/proficiency.py --students 5000 --no-postgres

(a) ``compute`` throughput per method and compute(average) ÷ a bare Python loop, from
    benchmarks/proficiency_compute.py's ``run()`` on the same number of observations.
(b) A generated district (bulk inserts: users, a term, sections of 25–30 with one teacher each, 10 standards
    per section from one framework with parent competencies, enrollments, assessments and scored evidence
    dated a week apart) in a throw-away SQLite file and a throw-away PostgreSQL database
    (``gradebook_bench_<pid>``, created and dropped; server from --postgres-url, BENCH_POSTGRES_URL, a
    PostgreSQL DATABASE_URL, or 127.0.0.1:5432). The schema comes from the Alembic migrations; tables
    are ANALYZEd after the load. Then ``recompute(db.session)`` and the commit are timed: rows, seconds,
    observations per second, and the PostgreSQL ÷ SQLite ratio.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root first, not benchmarks/
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from sqlalchemy import func, select, text  # noqa: E402

from benchmarks import _support  # noqa: E402
from benchmarks._district import SEED, District, build  # noqa: E402
from benchmarks.proficiency_compute import report as compute_report  # noqa: E402
from benchmarks.proficiency_compute import run as compute_run  # noqa: E402

QUICK_STUDENTS = 1_000
DEFAULT_STUDENTS = 20_000


def log(message: str) -> None:
    print(f"    · {message}", flush=True)


def measure_database(temp: _support.TempDatabase, *, students: int, standards: int, observations: int,
                     seed: int) -> dict:
    """Build the district in ``temp``, then time a full recompute and its commit."""
    from gradebook.extensions import db
    from gradebook.models import ProficiencyRecord
    from gradebook.services.proficiency import recompute

    app = _support.make_app(temp.url)
    started = time.perf_counter()
    _support.create_schema(app)
    with app.app_context():
        engine = db.engine
        version = _support.server_version(engine)
        log(f"{version} at {temp.where}: schema by migrations in {time.perf_counter() - started:.1f} s")
        load_started = time.perf_counter()
        with engine.begin() as conn:
            district: District = build(conn, students=students, standards=standards, evidence=observations,
                                       seed=seed, log=log)
        analyze_started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        load_seconds = time.perf_counter() - load_started
        log(f"loaded in {load_seconds:,.1f} s (ANALYZE {time.perf_counter() - analyze_started:.1f} s)")

        db.session.remove()
        gc.collect()
        raw_first = raw_select(engine)
        log(f"raw SELECT of the evidence columns: {raw_first:,.2f} s")
        log("recompute(db.session) …")
        t0 = time.perf_counter()
        outcome = recompute(db.session)
        t1 = time.perf_counter()
        db.session.commit()
        t2 = time.perf_counter()
        db.session.remove()
        # the compare-and-update path: 1 % of the scores change, then a full recompute again
        with engine.begin() as conn:
            changed = conn.execute(text("UPDATE evidence SET score = 5 - score WHERE id % 100 = 0")).rowcount
        gc.collect()
        raw_update = raw_select(engine)
        t3 = time.perf_counter()
        recompute(db.session)
        db.session.commit()
        update_seconds = time.perf_counter() - t3
        db.session.remove()
        log(f"update path: {changed:,} scores changed, raw SELECT {raw_update:,.2f} s, recompute + commit "
            f"{update_seconds:,.2f} s")
        records = db.session.scalar(select(func.count()).select_from(ProficiencyRecord))
        db.session.remove()
        size = temp.size_bytes(engine)
        engine.dispose()
    total = t2 - t0
    log(f"recompute {t1 - t0:,.1f} s + commit {t2 - t1:,.1f} s = {total:,.1f} s")
    return {
        "database": temp.kind,
        "version": version,
        "where": temp.where,
        "district": district,
        "load_seconds": load_seconds,
        "evidence_rows": district.evidence,
        "recompute_seconds": t1 - t0,
        "commit_seconds": t2 - t1,
        "seconds": total,
        "records": records,
        "report_rows": outcome.rows,
        "created": outcome.created,
        "observations_per_second": district.evidence / total if total else float("inf"),
        "raw_first": raw_first, "raw_update": raw_update, "update_seconds": update_seconds,
        "size": size,
    }


RAW_SELECT = ("SELECT e.student_id, e.competency_id, e.id, e.score, e.observed_on, e.recorded_at, e.is_reassessment, "
              "a.kind, a.counts, a.title FROM evidence e LEFT JOIN assessments a ON a.id = e.assessment_id "
              "WHERE e.deleted_at IS NULL AND e.status = 'scored'")


def raw_select(engine) -> float:  # type: ignore[no-untyped-def]
    """Seconds to read the evidence columns recompute reads, by the driver alone (no SQLAlchemy, no ORM)."""
    best = float("inf")
    for _ in range(2):  # the better of two: the first may read a cold cache
        with engine.connect() as conn:
            t0 = time.perf_counter()
            cursor = conn.connection.driver_connection.cursor()
            cursor.execute(RAW_SELECT)
            cursor.fetchall()
            best = min(best, time.perf_counter() - t0)
            cursor.close()
    return best


def database_table(results: Sequence[dict]) -> str:
    lines = [
        f"{'database':<17} {'load s':>8} {'evidence rows':>14} {'recompute s':>12} {'commit s':>9} "
        f"{'total s':>8} {'records':>9} {'obs/s':>9} {'db size':>10}",
        f"{'-' * 17} {'-' * 8} {'-' * 14} {'-' * 12} {'-' * 9} {'-' * 8} {'-' * 9} {'-' * 9} {'-' * 10}",
    ]
    for r in results:
        lines.append(
            f"{r['version']:<17} {r['load_seconds']:>8,.1f} {r['evidence_rows']:>14,} {r['recompute_seconds']:>12,.1f} "
            f"{r['commit_seconds']:>9,.1f} {r['seconds']:>8,.1f} {r['records']:>9,} "
            f"{r['observations_per_second']:>9,.0f} {_support.human_bytes(r['size']):>10}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=None, help=f"students (default {DEFAULT_STUDENTS:,})")
    parser.add_argument("--standards", type=int, default=10, help="standards per section")
    parser.add_argument("--observations", type=int, default=10, help="evidence per student and standard")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quick", action="store_true", help=f"~{QUICK_STUDENTS:,} students: a smoke run")
    parser.add_argument("--no-compute", action="store_true", help="skip part (a), the pure compute table")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-url", default=None,
                        help="any database on the PostgreSQL server to use (the benchmark creates its own)")
    args = parser.parse_args(argv)
    students = args.students if args.students is not None else (QUICK_STUDENTS if args.quick else DEFAULT_STUDENTS)
    if min(students, args.standards, args.observations) < 1:
        parser.error("--students, --standards and --observations must be at least 1")
    observations = students * args.standards * args.observations
    began = time.perf_counter()
    print(f"Proficiency benchmark: {students:,} students × {args.standards} standards × {args.observations} "
          f"observations = {observations:,} observations (seed {args.seed})"
          + (" [--quick]" if args.quick else ""), flush=True)
    print(f"Machine: {_support.machine()}", flush=True)

    figures = None
    if not args.no_compute:
        print("\n(a) gradebook.proficiency.compute, in memory (benchmarks/proficiency_compute.run)", flush=True)
        figures = compute_run(students, args.standards, args.observations, seed=args.seed)
        print(compute_report(figures), flush=True)

    print("\n(b) full recompute(db.session) + commit on a generated district", flush=True)
    backends = []
    if not args.no_sqlite:
        backends.append(("SQLite", lambda: _support.temp_sqlite()))
    if not args.no_postgres:
        reason = _support.postgres_available(args.postgres_url)
        if reason is None:
            backends.append(("PostgreSQL", lambda: _support.temp_postgres(args.postgres_url)))
        else:
            print(f"    PostgreSQL skipped: {_support.describe(_support.postgres_admin_url(args.postgres_url))} "
                  f"does not answer ({reason})")
    results = []
    for name, make in backends:
        print(f"  {name}:", flush=True)
        with make() as temp:
            results.append(measure_database(temp, students=students, standards=args.standards,
                                            observations=args.observations, seed=args.seed))
        print(f"    · {name} database {temp.where} removed", flush=True)

    if results:
        print()
        print("District: " + results[0]["district"].summary())
        for r in results:
            print(f"  {r['database']}: {r['where']} (temporary), {r['report_rows']:,} cache rows computed "
                  f"({r['created']:,} created), database size after {_support.human_bytes(r['size'])}")
        print()
        print(database_table(results))
        for r in results:
            print(f"{r['version']}: full recompute ÷ raw SELECT of its evidence columns: first build "
                  f"{r['seconds']:,.2f} ÷ {r['raw_first']:,.2f} s = {r['seconds'] / r['raw_first']:.1f}; "
                  f"compare-and-update {r['update_seconds']:,.2f} ÷ {r['raw_update']:,.2f} s = "
                  f"{r['update_seconds'] / r['raw_update']:.1f} (target ≤ 5 each)")
        by_kind = {r["database"]: r for r in results}
        if "SQLite" in by_kind and "PostgreSQL" in by_kind:
            sqlite, pg = by_kind["SQLite"], by_kind["PostgreSQL"]
            print(f"\nPostgreSQL ÷ SQLite: recompute+commit time ×{pg['seconds'] / sqlite['seconds']:.2f}, "
                  f"throughput ×{pg['observations_per_second'] / sqlite['observations_per_second']:.2f} "
                  f"(load time ×{pg['load_seconds'] / sqlite['load_seconds']:.2f})")
        if figures is not None:
            pure = figures["methods"]["decaying_average"]["observations"]
            for r in results:
                print(f"{r['database']}: recompute throughput ÷ in-memory compute(decaying_average) on "
                      f"Observations = {r['observations_per_second'] / pure:.3f} "
                      f"({pure / r['observations_per_second']:.0f}× slower end to end)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak memory (RSS) {peak:,.0f} MB; whole run {time.perf_counter() - began:,.0f} s; {_support.machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
