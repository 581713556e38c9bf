"""The teacher's gradebook through the real app: the mastery grid page and a score save, beside /healthz.

    .venv/bin/python benchmarks/gradebook.py               # a temporary SQLite file
    .venv/bin/python benchmarks/gradebook.py --postgres    # a temporary PostgreSQL database
    .venv/bin/python benchmarks/gradebook.py --both        # one after the other, with the ratios
    .venv/bin/python benchmarks/gradebook.py --quick       # fewer repetitions (same section)

One section of 35 students × 40 standards (8 parent competencies of 5) × 10 pieces of scored evidence each
(40 assessments, each aligned to 10 of the standards), written with bulk inserts, its proficiency cache
built by the product's ``recompute``; its teacher is created with ``create_user(password=…)`` (fast
hashing) and logs in through POST /login. Then, with the Flask test client:

- ``GET /sections/<id>`` (the grid page): time per request and SQL statements per request;
- one score save, ``POST /sections/<sid>/assessments/<aid>/cells/<student>/<competency>`` with the cell's
  form field and ``HX-Request: true``, each save a different value so each one writes (an update with its
  revision and the student's cache refresh);
- ``GET /healthz``, a trivial route of the same app, in the same run.

Times are wall-clock around the test client call (the server's work plus the test client's small
overhead, no network). Statements are counted with a ``before_cursor_execute`` listener on ``db.engine``,
as tests/conftest.py counts them (BEGIN, SAVEPOINT, RELEASE and PRAGMA not counted). PostgreSQL: the
server is --postgres-url, BENCH_POSTGRES_URL, a PostgreSQL DATABASE_URL (which also selects PostgreSQL)
or 127.0.0.1:5432; the benchmark creates its own database there and drops it. Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root first, not benchmarks/ (this file
    _here = Path(__file__).resolve().parent  # is named gradebook.py and would shadow the package)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from sqlalchemy import func, select, text  # noqa: E402

from benchmarks import _support  # noqa: E402
from benchmarks._district import SEED, build  # noqa: E402

PASSWORD = "correct horse battery staple"
STUDENTS, STANDARDS, EVIDENCE, PER_ASSESSMENT = 35, 40, 10, 10


def log(message: str) -> None:
    print(f"    · {message}", flush=True)


def build_section(app, seed: int) -> dict:  # type: ignore[no-untyped-def]
    """The teacher (through the accounts service), the section (bulk inserts) and its cache (recompute)."""
    from gradebook.extensions import db
    from gradebook.models import Evidence, ProficiencyRecord
    from gradebook.services.accounts import create_user, use_fast_hashing
    from gradebook.services.proficiency import recompute

    use_fast_hashing()
    with app.app_context():
        started = time.perf_counter()
        teacher = create_user(db.session, email="teacher@bench.example.org", name="Bench Teacher", role="teacher",
                              password=PASSWORD)
        teacher_id = teacher.id
        db.session.commit()
        db.session.remove()  # no transaction left open (SQLite: BEGIN IMMEDIATE holds the write lock)
        with db.engine.begin() as conn:
            district = build(conn, students=STUDENTS, standards=STANDARDS, evidence=EVIDENCE,
                             standards_per_assessment=PER_ASSESSMENT, size_range=(STUDENTS, STUDENTS), windows=1,
                             per_parent=5, teacher_ids=[teacher_id], seed=seed)
        section_id = district.section_ids[0]
        recompute(db.session, [section_id])
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        records = db.session.scalar(select(func.count()).select_from(ProficiencyRecord))
        assessment_id, aligned = district.assessments_by_section[section_id][0]
        competency_id = aligned[0]
        students = district.students_by_section[section_id]
        current = dict(db.session.execute(
            select(Evidence.student_id, Evidence.score).where(
                Evidence.assessment_id == assessment_id, Evidence.competency_id == competency_id,
                Evidence.deleted_at.is_(None))).all())
        db.session.remove()
        log(f"built in {time.perf_counter() - started:.1f} s: {district.summary()}; {records:,} cache rows")
    return {"district": district, "teacher_email": "teacher@bench.example.org", "section_id": section_id,
            "assessment_id": assessment_id, "competency_id": competency_id, "students": students,
            "current": {sid: int(score) for sid, score in current.items()}, "records": records}


def timed(client_call: Callable[[], object], counter: _support.QueryCounter, n: int,
          expect: int = 200) -> tuple[list[float], list[int], int]:
    """n calls: seconds and statement counts of each, and the size of the last response body."""
    seconds, queries, size = [], [], 0
    for _ in range(n):
        counter.reset()
        t0 = time.perf_counter()
        response = client_call()
        seconds.append(time.perf_counter() - t0)
        queries.append(counter.count)
        status = response.status_code  # type: ignore[attr-defined]
        if status != expect:
            raise RuntimeError(f"expected {expect}, got {status}: {response.get_data(as_text=True)[:300]}")  # type: ignore[attr-defined]
        size = len(response.get_data())  # type: ignore[attr-defined]
    return seconds, queries, size


def summarise(name: str, seconds: list[float], queries: list[int], size: int) -> dict:
    total = sum(seconds)
    return {"name": name, "n": len(seconds), "median_ms": _support.median(seconds) * 1000,
            "p90_ms": _support.percentile(seconds, 90) * 1000, "min_ms": min(seconds) * 1000,
            "per_second": len(seconds) / total if total else float("inf"),
            "queries": (min(queries), max(queries)), "bytes": size}


def measure(temp: _support.TempDatabase, *, grid_requests: int, saves: int, health_requests: int,
            seed: int, show_sql: bool = False) -> dict:
    from gradebook.extensions import db
    from gradebook.models import EvidenceRevision

    app = _support.make_app(temp.url)
    _support.create_schema(app)
    with app.app_context():
        engine = db.engine
        version = _support.server_version(engine)
    log(f"{version} at {temp.where}")
    world = build_section(app, seed)
    counter = _support.QueryCounter(engine)
    client = app.test_client()
    try:
        response = client.post("/login", data={"email": world["teacher_email"], "password": PASSWORD})
        if response.status_code != 303:
            raise RuntimeError(f"login failed: {response.status_code}")
        sid, aid, cid = world["section_id"], world["assessment_id"], world["competency_id"]
        students, current = world["students"], dict(world["current"])
        grid_url = f"/sections/{sid}"
        saved = 0

        def grid() -> object:
            return client.get(grid_url)

        def save() -> object:
            nonlocal saved
            student = students[saved % len(students)]
            value = current[student] % 4 + 1  # always a different score: every save writes
            current[student] = value
            saved += 1
            return client.post(f"/sections/{sid}/assessments/{aid}/cells/{student}/{cid}",
                               data={f"cell-{student}-{cid}": str(value)}, headers={"HX-Request": "true"})

        def health() -> object:
            return client.get("/healthz")

        for call in (grid, grid, save, save, health, health):  # warm-up: templates, caches, prepared paths
            timed(call, counter, 1)
        warm_saves = saved
        health_figures = summarise("GET /healthz", *timed(health, counter, health_requests))
        grid_figures = summarise(f"GET /sections/{sid} (grid page)", *timed(grid, counter, grid_requests))
        save_figures = summarise("POST …/cells/<student>/<competency> (save)", *timed(save, counter, saves))
        health_after = summarise("GET /healthz (again)", *timed(health, counter, health_requests))
        statements = {}
        if show_sql:
            for label, call in (("grid page", grid), ("score save", save)):
                timed(call, counter, 1)
                statements[label] = list(counter.statements)
            warm_saves += 1
    finally:
        counter.close()
    with app.app_context():
        revisions = db.session.scalar(select(func.count()).select_from(EvidenceRevision)
                                      .where(EvidenceRevision.action == "update"))
        db.session.remove()
        size = temp.size_bytes(db.engine)
        db.engine.dispose()
    return {"database": temp.kind, "version": version, "where": temp.where, "world": world,
            "rows": [health_figures, grid_figures, save_figures, health_after],
            "grid": grid_figures, "save": save_figures, "health": health_figures, "health_after": health_after,
            "revisions": revisions, "expected_revisions": warm_saves + saves, "size": size,
            "statements": statements}


def table(result: dict) -> str:
    lines = [
        f"{'route':<44} {'n':>4} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'req/s':>8} {'SQL/req':>8} "
        f"{'bytes':>8}",
        f"{'-' * 44} {'-' * 4} {'-' * 10} {'-' * 8} {'-' * 8} {'-' * 8} {'-' * 8} {'-' * 8}",
    ]
    for r in result["rows"]:
        low, high = r["queries"]
        queries = f"{low}" if low == high else f"{low}–{high}"
        lines.append(f"{r['name']:<44} {r['n']:>4} {r['median_ms']:>10.2f} {r['p90_ms']:>8.2f} {r['min_ms']:>8.2f} "
                     f"{r['per_second']:>8,.0f} {queries:>8} {r['bytes']:>8,}")
    health_rate = (result["health"]["per_second"] + result["health_after"]["per_second"]) / 2
    save, grid = result["save"], result["grid"]
    lines += [
        "",
        f"score saves/s ÷ /healthz req/s = {save['per_second']:,.1f} ÷ {health_rate:,.0f} = "
        f"{save['per_second'] / health_rate:.4f} (a save costs {health_rate / save['per_second']:.0f}× a trivial request)",
        f"grid pages/s ÷ /healthz req/s = {grid['per_second']:,.1f} ÷ {health_rate:,.0f} = "
        f"{grid['per_second'] / health_rate:.4f}",
        f"(/healthz req/s: the mean of the runs before and after; each save wrote: {result['revisions']} update "
        f"revisions for {result['expected_revisions']} saves)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="a temporary PostgreSQL database, not SQLite")
    parser.add_argument("--both", action="store_true", help="SQLite then PostgreSQL, and their ratios")
    parser.add_argument("--postgres-url", default=None,
                        help="any database on the PostgreSQL server to use (the benchmark creates its own)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    parser.add_argument("--grid-requests", type=int, default=None, help="grid page requests (default 30)")
    parser.add_argument("--saves", type=int, default=None, help="score saves (default 50)")
    parser.add_argument("--health-requests", type=int, default=None, help="/healthz requests (default 300)")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one grid page and one save")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    grid_requests = args.grid_requests or (5 if args.quick else 30)
    saves = args.saves or (10 if args.quick else 50)
    health_requests = args.health_requests or (50 if args.quick else 300)
    if min(grid_requests, saves, health_requests) < 1:
        parser.error("request counts must be at least 1")
    env_pg = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))
    kinds = ["SQLite", "PostgreSQL"] if args.both else ["PostgreSQL"] if (args.postgres or env_pg) else ["SQLite"]

    print(f"Gradebook benchmark: one section of {STUDENTS} students × {STANDARDS} standards × {EVIDENCE} evidence "
          f"= {STUDENTS * STANDARDS * EVIDENCE:,} evidence rows; {grid_requests} grid pages, {saves} saves, "
          f"2 × {health_requests} /healthz" + (" [--quick]" if args.quick else ""), flush=True)
    print(f"Machine: {_support.machine()}", flush=True)
    results = []
    for kind in kinds:
        if kind == "PostgreSQL":
            reason = _support.postgres_available(args.postgres_url)
            if reason is not None:
                print(f"  PostgreSQL skipped: "
                      f"{_support.describe(_support.postgres_admin_url(args.postgres_url))} does not answer ({reason})")
                continue
            make = lambda: _support.temp_postgres(args.postgres_url, name=f"gradebook_bench_web_{os.getpid()}")  # noqa: E731
        else:
            make = lambda: _support.temp_sqlite()  # noqa: E731
        print(f"  {kind}:", flush=True)
        with make() as temp:
            result = measure(temp, grid_requests=grid_requests, saves=saves, health_requests=health_requests,
                             seed=args.seed, show_sql=args.show_sql)
        log(f"{temp.kind} database {temp.where} removed (it was {_support.human_bytes(result['size'])})")
        results.append(result)
        print()
        print(f"{result['version']} ({temp.where}, temporary)")
        print(table(result))
        for label, statements in result["statements"].items():
            print(f"\nSQL of one {label} ({len(statements)} statements):")
            for i, statement in enumerate(statements, 1):
                print(f"  {i:>3}. {' '.join(statement.split())[:150]}")
        print(flush=True)
    if len(results) == 2:
        sqlite, pg = results
        print("PostgreSQL ÷ SQLite (median time): grid ×"
              f"{pg['grid']['median_ms'] / sqlite['grid']['median_ms']:.2f}, save ×"
              f"{pg['save']['median_ms'] / sqlite['save']['median_ms']:.2f}, /healthz ×"
              f"{pg['health']['median_ms'] / sqlite['health']['median_ms']:.2f}")
    print(f"Machine at the end: {_support.machine()}")
    return 0 if results else 1


if __name__ == "__main__":
    raise SystemExit(main())
