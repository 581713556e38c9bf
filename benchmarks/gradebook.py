"""The teacher's gradebook over real HTTP: the mastery grid, its floor, and a score save beside a trivial route.

    .venv/bin/python benchmarks/gradebook.py               # SQLite (a temporary file)
    .venv/bin/python benchmarks/gradebook.py --postgres    # PostgreSQL (a temporary database)
    .venv/bin/python benchmarks/gradebook.py --both        # one after the other
    .venv/bin/python benchmarks/gradebook.py --quick       # few requests: a smoke run, not a measurement

One section of 35 students × 40 standards (8 parent competencies of 5) × 10 pieces of scored evidence each
(40 assessments, each aligned to 10 of the standards), written with bulk inserts, its proficiency cache
built by the product's ``recompute``. gunicorn (gunicorn.conf.py, one sync worker) serves the app on it with
CSRF on; the teacher logs in through the form. On one keep-alive connection each:

- the grid page ``GET /sections/<id>``, interleaved with its floor: the same cells by raw SQL and a plain Jinja
  table (benchmarks/_floor.py, a bare WSGI app in a gunicorn of its own on the same database): p50/p95/p99 of
  each, grid p50 ÷ floor p50 and grid p95 ÷ p50;
- score saves (the entry cell's htmx POST with X-CSRFToken, each a different value so each writes) beside the
  trivial route (a small static file), interleaved: save throughput ÷ the trivial route's; every save is
  checked afterwards (acknowledged saves = revisions);
- SQL statements of one grid page and one save for sections of 1, 35 and 100 students (in-process, the test
  client and a statement counter as tests/conftest.py counts them).

Ratios are taken in the same run; the machine's load average is printed with them. Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root first, not benchmarks/ (this file
    _here = Path(__file__).resolve().parent  # is named gradebook.py and would shadow the package)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from sqlalchemy import func, select, text  # noqa: E402

from benchmarks import _http, _support  # noqa: E402
from benchmarks._district import SEED, build  # noqa: E402

PASSWORD = "correct horse battery staple"
STUDENTS, STANDARDS, EVIDENCE, PER_ASSESSMENT = 35, 40, 10, 10


def log(message: str) -> None:
    print(f"    · {message}", flush=True)


def build_section(app, seed: int, students: int = STUDENTS) -> dict:  # type: ignore[no-untyped-def]
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
            district = build(conn, students=students, standards=STANDARDS, evidence=EVIDENCE,
                             standards_per_assessment=PER_ASSESSMENT, size_range=(students, students), windows=1,
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


TRIVIAL = "/static/js/app.js"  # a small static file: /healthz checks the database and the job queue


def _pcts(seconds: list[float]) -> dict[str, float]:
    return {"p50": _support.percentile(seconds, 50) * 1000, "p95": _support.percentile(seconds, 95) * 1000,
            "p99": _support.percentile(seconds, 99) * 1000}


def _timed(call: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def measure_http(temp: _support.TempDatabase, *, grid_requests: int, saves: int, seed: int) -> dict:
    """Grid vs floor and saves vs the trivial route, over HTTP through gunicorn, on one database."""
    from gradebook.extensions import db
    from gradebook.models import EvidenceRevision

    app = _support.make_app(temp.url)
    _support.create_schema(app)
    with app.app_context():
        version = _support.server_version(db.engine)
    log(f"{version} at {temp.where}")
    world = build_section(app, seed)
    with app.app_context():
        db.engine.dispose()
    sid, aid, cid = world["section_id"], world["assessment_id"], world["competency_id"]
    students, current = world["students"], dict(world["current"])
    saved = 0
    with _http.gunicorn(temp.url) as port, _http.gunicorn(temp.url, app="benchmarks._floor:app") as floor_port:
        teacher, floor = _http.Browser(port), _http.Browser(floor_port)
        teacher.log_in(world["teacher_email"], PASSWORD, f"/sections/{sid}/assessments/{aid}")
        grid_bytes = floor_bytes = 0

        def grid() -> None:
            nonlocal grid_bytes
            status, body = teacher.request("GET", f"/sections/{sid}")
            if status != 200:
                raise RuntimeError(f"grid answered {status}")
            grid_bytes = len(body)

        def floor_page() -> None:
            nonlocal floor_bytes
            status, body = floor.request("GET", f"/{sid}")
            if status != 200:
                raise RuntimeError(f"floor answered {status}")
            floor_bytes = len(body)

        def save() -> None:
            nonlocal saved
            student = students[saved % len(students)]
            value = current[student] % 4 + 1  # always a different score: every save writes
            current[student] = value
            saved += 1
            status, body = teacher.save(sid, aid, student, cid, value)
            if status != 200:
                raise RuntimeError(f"save answered {status}: {body[:200]}")

        def trivial() -> None:
            status, _ = teacher.request("GET", TRIVIAL)
            if status != 200:
                raise RuntimeError(f"{TRIVIAL} answered {status}")

        for call in (grid, floor_page, save, trivial) * 3:  # warm-up: templates, statement caches, connections
            call()
        load_before = os.getloadavg()[0]
        t_grid, t_floor = [], []
        for _ in range(grid_requests):  # interleaved: the machine's load drifts alike for both
            t_grid.append(_timed(grid))
            t_floor.append(_timed(floor_page))
        t_trivial, t_save = [], []
        for _ in range(saves):
            t_trivial.append(_timed(trivial))
            t_save.append(_timed(save))
        load_after = os.getloadavg()[0]
    with app.app_context():
        revisions = db.session.scalar(select(func.count()).select_from(EvidenceRevision)
                                      .where(EvidenceRevision.action == "update"))
        db.session.remove()
        db.engine.dispose()
    return {"database": temp.kind, "version": version, "grid": _pcts(t_grid), "floor": _pcts(t_floor),
            "grid_bytes": grid_bytes, "floor_bytes": floor_bytes,
            "trivial": _pcts(t_trivial), "save": _pcts(t_save), "saves": saved, "revisions": revisions,
            # throughput of one connection = 1 / mean time of a request
            "save_per_s": len(t_save) / sum(t_save), "trivial_per_s": len(t_trivial) / sum(t_trivial),
            "load": (load_before, load_after)}


def count_statements(make: Callable[[], Any], sizes: Sequence[int], seed: int) -> dict[int, tuple[int, int]]:
    """SQL statements of one grid page and one score save, for a section of each size (in-process)."""
    from gradebook.extensions import db

    counts = {}
    for size in sizes:
        with make() as temp:
            app = _support.make_app(temp.url)
            _support.create_schema(app)
            world = build_section(app, seed, students=size)
            with app.app_context():
                engine = db.engine
            counter = _support.QueryCounter(engine)
            client = app.test_client()
            try:
                client.post("/login", data={"email": world["teacher_email"], "password": PASSWORD})
                sid, aid, cid = world["section_id"], world["assessment_id"], world["competency_id"]
                student = world["students"][0]
                client.get(f"/sections/{sid}")  # warm-up
                counter.reset()
                client.get(f"/sections/{sid}")
                grid = counter.count
                counter.reset()
                response = client.post(f"/sections/{sid}/assessments/{aid}/cells/{student}/{cid}",
                                       data={f"cell-{student}-{cid}": str(world["current"][student] % 4 + 1)},
                                       headers={"HX-Request": "true"})
                if response.status_code != 200:
                    raise RuntimeError(f"save answered {response.status_code}")
                counts[size] = (grid, counter.count)
            finally:
                counter.close()
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
    return counts


def report(result: dict, counts: dict[int, tuple[int, int]]) -> str:
    g, f, s, t = result["grid"], result["floor"], result["save"], result["trivial"]
    row = lambda name, p: f"  {name:<34} p50 {p['p50']:8.2f} ms   p95 {p['p95']:8.2f} ms   p99 {p['p99']:8.2f} ms"  # noqa: E731
    return "\n".join([
        f"{result['version']}: load average {result['load'][0]:.2f} → {result['load'][1]:.2f} (1 min) during the run",
        row(f"grid page ({result['grid_bytes']:,} bytes)", g),
        row(f"floor ({result['floor_bytes']:,} bytes)", f),
        row("score save", s),
        row(f"trivial route {TRIVIAL}", t),
        f"  grid p50 ÷ floor p50 = {g['p50'] / f['p50']:.2f} (target ≤ 1.5); grid p95 ÷ p50 = "
        f"{g['p95'] / g['p50']:.2f} (target ≤ 1.5)",
        f"  save throughput ÷ trivial route = {result['save_per_s']:,.1f} ÷ {result['trivial_per_s']:,.0f} req/s = "
        f"{result['save_per_s'] / result['trivial_per_s']:.3f}; by medians {t['p50'] / s['p50']:.3f} (target ≥ 0.20)",
        f"  every save written: {result['revisions']} update revisions for {result['saves']} saves",
        "  SQL statements (grid page, score save): " + ", ".join(
            f"{n} student{'s' if n != 1 else ''}: {grid}, {save}" for n, (grid, save) in counts.items())
        + " (target ≤ 8 each, fixed)",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="a temporary PostgreSQL database, not SQLite")
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--postgres-url", default=None,
                        help="any database on the PostgreSQL server to use (the benchmark creates its own)")
    parser.add_argument("--quick", action="store_true", help="few requests and sizes 1 and 35: a smoke run")
    parser.add_argument("--grid-requests", type=int, default=None, help="grid pages, and as many floors (default 200)")
    parser.add_argument("--saves", type=int, default=None, help="score saves, and as many trivial requests (default 300)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    grid_requests = args.grid_requests or (3 if args.quick else 200)
    saves = args.saves or (3 if args.quick else 300)
    sizes = (1, 35) if args.quick else (1, 35, 100)
    env_pg = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))
    kinds = ["SQLite", "PostgreSQL"] if args.both else ["PostgreSQL"] if (args.postgres or env_pg) else ["SQLite"]
    print(f"Gradebook over HTTP (gunicorn, CSRF on): {STUDENTS} students × {STANDARDS} standards × {EVIDENCE} evidence; "
          f"{grid_requests} grid pages and floors, {saves} saves and trivial requests"
          + (" [--quick]" if args.quick else ""), flush=True)
    print(f"Machine: {_support.machine()}", flush=True)
    done = 0
    for kind in kinds:
        if kind == "PostgreSQL":
            reason = _support.postgres_available(args.postgres_url)
            if reason is not None:
                print(f"  PostgreSQL skipped: {reason}")
                continue
            make = lambda: _support.temp_postgres(args.postgres_url, name=f"gradebook_bench_web_{os.getpid()}")  # noqa: E731
        else:
            make = _support.temp_sqlite
        print(f"  {kind}:", flush=True)
        with make() as temp:
            result = measure_http(temp, grid_requests=grid_requests, saves=saves, seed=args.seed)
        counts = count_statements(make, sizes, args.seed)
        print(report(result, counts), flush=True)
        done += 1
    print(f"Machine at the end: {_support.machine()}")
    return 0 if done else 1


if __name__ == "__main__":
    raise SystemExit(main())
