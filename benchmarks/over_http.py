"""The score save against the trivial route over real HTTP, alone (benchmarks/gradebook.py measures it beside
the grid): a gunicorn worker, CSRF on, keep-alive.

    .venv/bin/python benchmarks/over_http.py [--saves 300] [--postgres] [--both] [--repeat 3]

Builds the 35 × 40 × 10 section of benchmarks/gradebook.py in a temporary database, starts gunicorn (one
sync worker, gunicorn.conf.py) on it through benchmarks/_http.py, logs in through the login form (CSRF token
from the page), then, on one connection, one request at a time, interleaved so the machine's load drifts
alike for both: GET the trivial route (a small static file: /healthz checks the database and the queue), then
a score save (the entry cell's htmx POST with the X-CSRFToken header, each a different value so each writes).
`--repeat` runs that several times on the same server. Prints each run's throughput of both (1 ÷ mean time)
and their ratio, and the ratio of the medians, with the load average. Every save is checked afterwards
(acknowledged saves = update revisions). It also prints the CPU time a request costs the server (and the
PostgreSQL backend), a steadier figure than time on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from sqlalchemy import func, select  # noqa: E402

from benchmarks import _http, _support  # noqa: E402
from benchmarks._district import SEED  # noqa: E402
from benchmarks.gradebook import PASSWORD, TRIVIAL, build_section  # noqa: E402
from benchmarks.load import _database_backends  # noqa: E402


def measure(temp: _support.TempDatabase, *, saves: int, repeat: int, trivial_path: str) -> list[str]:
    from gradebook.extensions import db
    from gradebook.models import EvidenceRevision

    app = _support.make_app(temp.url)
    _support.create_schema(app)
    world = build_section(app, SEED)
    with app.app_context():
        version = _support.server_version(db.engine)
        db.engine.dispose()
    sid, aid, cid = world["section_id"], world["assessment_id"], world["competency_id"]
    students, current = world["students"], dict(world["current"])
    saved = 0
    lines = []
    with _http.gunicorn_server(temp.url) as server:
        teacher = _http.Browser(server.port)
        teacher.log_in(world["teacher_email"], PASSWORD, f"/sections/{sid}/assessments/{aid}")

        def save() -> float:
            nonlocal saved
            student = students[saved % len(students)]
            value = current[student] % 4 + 1  # always a different score: every save writes
            current[student] = value
            saved += 1
            t0 = time.perf_counter()
            status, body = teacher.save(sid, aid, student, cid, value)
            elapsed = time.perf_counter() - t0
            if status != 200:
                raise RuntimeError(f"save answered {status}: {body[:200]}")
            return elapsed

        def trivial() -> float:
            t0 = time.perf_counter()
            status, _ = teacher.request("GET", trivial_path)
            elapsed = time.perf_counter() - t0
            if status != 200:
                raise RuntimeError(f"{trivial_path} answered {status}")
            return elapsed

        for _ in range(20):  # warm-up: templates, statement caches, prepared statements
            trivial()
            save()
        worker = [server.pid, *_http.children(server.pid)]
        database = _database_backends(app)

        def cpu_ms(call, n: int = 100) -> tuple[float, float]:  # type: ignore[no-untyped-def]
            """CPU milliseconds a request costs the server and the database (steadier than wall time on a
            busy machine, which is shared)."""
            before = _http.cpu_seconds(worker), _http.cpu_seconds(database)
            for _ in range(n):
                call()
            return ((_http.cpu_seconds(worker) - before[0]) * 1000 / n,
                    (_http.cpu_seconds(database) - before[1]) * 1000 / n)

        for run in range(1, repeat + 1):
            load = os.getloadavg()[0]
            t_trivial, t_save = [], []
            for _ in range(saves):
                t_trivial.append(trivial())
                t_save.append(save())
            per_s_save, per_s_trivial = len(t_save) / sum(t_save), len(t_trivial) / sum(t_trivial)
            lines.append(f"  run {run} (load average {load:.2f} → {os.getloadavg()[0]:.2f}): {trivial_path} "
                         f"{per_s_trivial:,.0f} req/s (median {_support.median(t_trivial) * 1000:.2f} ms), score saves "
                         f"{per_s_save:,.1f}/s (median {_support.median(t_save) * 1000:.2f} ms): saves ÷ trivial route = "
                         f"{per_s_save / per_s_trivial:.3f}, by medians {_support.median(t_trivial) / _support.median(t_save):.3f}"
                         " (target ≥ 0.20)")
            (trivial_app, _trivial_db), (save_app, save_db) = cpu_ms(trivial), cpu_ms(save)
            lines.append(f"        CPU a request: {trivial_path} {trivial_app:.2f} ms (gunicorn); score save "
                         f"{save_app:.2f} ms (gunicorn) + {save_db:.2f} ms (database server"
                         + (")" if database else ": in-process)"))
    with app.app_context():
        revisions = db.session.scalar(select(func.count()).select_from(EvidenceRevision)
                                      .where(EvidenceRevision.action == "update"))
        db.session.remove()
        db.engine.dispose()
    return [f"{version}:", *lines, f"  every save written: {revisions} update revisions for {saved} saves"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=300, help="saves per run, and as many trivial requests")
    parser.add_argument("--repeat", type=int, default=1, help="runs on the same server")
    parser.add_argument("--postgres", action="store_true", help="a temporary PostgreSQL database, not SQLite")
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--trivial", default=TRIVIAL, help="the trivial route (default: a small static file)")
    args = parser.parse_args(argv)
    kinds = ["SQLite", "PostgreSQL"] if args.both else ["PostgreSQL"] if args.postgres else ["SQLite"]
    print(f"Machine: {_support.machine()}", flush=True)
    for kind in kinds:
        if kind == "PostgreSQL":
            reason = _support.postgres_available(args.postgres_url)
            if reason is not None:
                print(f"  PostgreSQL skipped: {reason}")
                continue
            make = lambda: _support.temp_postgres(args.postgres_url, name=f"gradebook_bench_http_{os.getpid()}")  # noqa: E731
        else:
            make = _support.temp_sqlite
        with make() as temp:
            print("\n".join(measure(temp, saves=args.saves, repeat=args.repeat, trivial_path=args.trivial)), flush=True)
    print(f"Machine at the end: {_support.machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
