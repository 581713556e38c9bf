"""Many teachers at once: each opens their grid, then saves scores with think time, against gunicorn -w 4.

    .venv/bin/python benchmarks/load.py                  # 50 teachers, 60 s, SQLite then PostgreSQL
    .venv/bin/python benchmarks/load.py --no-postgres    # SQLite only
    .venv/bin/python benchmarks/load.py --quick          # 5 teachers for 5 s: a smoke run

A district of `--teachers` sections of 25–30 students × 10 standards × 10 pieces of evidence (bulk inserts, the
cache built by ``recompute``), one teacher per section, each created with a password. gunicorn
(gunicorn.conf.py, `--workers` sync workers, CSRF on) serves it. Each simulated teacher is a thread with its
own keep-alive connection: it logs in through the form, opens its section's grid, then, until the time is
up, waits 0.5–1.5 s (think time) and saves one score in the entry sheet (the htmx POST), reopening the grid
after every tenth save. Bounded in time: the run stops after `--seconds` (each request has a 60 s timeout).

Printed: requests, p50/p95/p99 of the saves, of the grids and of all requests, errors (any answer but 200 or
a failed connection), and lost writes: every save the server acknowledged (200) is checked against the
database afterwards (the cell's live evidence must hold the last acknowledged value). Figures are printed,
never asserted; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from sqlalchemy import select, text  # noqa: E402

from benchmarks import _http, _support  # noqa: E402
from benchmarks._district import SEED, build  # noqa: E402

PASSWORD = "correct horse battery staple"


def build_district(app, teachers: int, seed: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """One section per teacher; returns each teacher's e-mail, section, an assessment and its standards."""
    from gradebook.extensions import db
    from gradebook.services.accounts import create_user, use_fast_hashing
    from gradebook.services.proficiency import recompute

    use_fast_hashing()
    with app.app_context():
        ids = []
        for n in range(teachers):
            user = create_user(db.session, email=f"load{n}@bench.example.org", name=f"Load Teacher {n}",
                               role="teacher", password=PASSWORD)
            ids.append(user.id)
        db.session.commit()
        db.session.remove()
        rng = random.Random(seed)
        students = sum(rng.randint(25, 30) for _ in range(teachers))
        with db.engine.begin() as conn:
            district = build(conn, students=students, standards=10, evidence=10, standards_per_assessment=5,
                             size_range=(25, 30), windows=1, per_parent=5, teacher_ids=ids, seed=seed)
        recompute(db.session, district.section_ids)
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        by_teacher = {t: s for s, t in district.teacher_by_section.items()} if district.teacher_by_section else {}
        plans = []
        for n, teacher_id in enumerate(ids):
            section_id = by_teacher.get(teacher_id, district.section_ids[n % len(district.section_ids)])
            assessment_id, aligned = district.assessments_by_section[section_id][0]
            plans.append({"email": f"load{n}@bench.example.org", "section_id": section_id,
                          "assessment_id": assessment_id, "standards": aligned,
                          "students": district.students_by_section[section_id]})
        db.session.remove()
        db.engine.dispose()
    return plans


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.saves: list[float] = []
        self.grids: list[float] = []
        self.errors: list[str] = []
        self.acknowledged: dict[tuple[int, int, int], int] = {}  # (student, assessment, standard) -> value

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def teacher_loop(port: int, plan: dict, start: threading.Barrier, clock: dict, results: Results, seed: int,
                 grid_only: bool = False) -> None:
    rng = random.Random(seed)
    browser = _http.Browser(port)
    sid, aid = plan["section_id"], plan["assessment_id"]
    try:
        browser.log_in(plan["email"], PASSWORD, f"/sections/{sid}/assessments/{aid}")
    except Exception as error:  # noqa: BLE001 - counted, not raised
        results.error(f"login: {error}")
        start.wait()
        return
    start.wait()  # everyone logged in: the measured time starts
    stop_at = clock["stop_at"]
    saves = 0
    while True:
        if grid_only and time.time() >= stop_at:
            return
        if grid_only or saves % 10 == 0:
            t0 = time.perf_counter()
            try:
                status, _ = browser.request("GET", f"/sections/{sid}")
                elapsed = time.perf_counter() - t0
                if status == 200:
                    with results.lock:
                        results.grids.append(elapsed)
                else:
                    results.error(f"grid {status}")
            except Exception as error:  # noqa: BLE001
                results.error(f"grid: {error}")
            if grid_only:  # readers only, back to back
                continue
        pause = rng.uniform(0.5, 1.5)
        if time.time() + pause >= stop_at:
            return
        time.sleep(pause)
        student, standard, value = rng.choice(plan["students"]), rng.choice(plan["standards"]), rng.randint(1, 4)
        t0 = time.perf_counter()
        try:
            status, body = browser.save(sid, aid, student, standard, value)
        except Exception as error:  # noqa: BLE001
            results.error(f"save: {error}")
            saves += 1
            continue
        elapsed = time.perf_counter() - t0
        saves += 1
        if status == 200:
            with results.lock:
                results.saves.append(elapsed)
                results.acknowledged[(student, aid, standard)] = value
        else:
            results.error(f"save {status}: {body[:80]}")


def lost_writes(app, acknowledged: dict[tuple[int, int, int], int]) -> int:  # type: ignore[no-untyped-def]
    from gradebook.extensions import db
    from gradebook.models import Evidence

    with app.app_context():
        stored = {(s, a, c): score for s, a, c, score in db.session.execute(
            select(Evidence.student_id, Evidence.assessment_id, Evidence.competency_id, Evidence.score)
            .where(Evidence.deleted_at.is_(None), Evidence.assessment_id.in_({a for _, a, _ in acknowledged})))}
        db.session.remove()
        db.engine.dispose()
    return sum(1 for key, value in acknowledged.items() if stored.get(key) is None or float(stored[key]) != value)


def _database_backends(app) -> list[int]:  # type: ignore[no-untyped-def]
    """PostgreSQL: the server processes of the app's connections (their CPU is measured); SQLite: none."""
    from gradebook.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return []
        with db.engine.connect() as conn:
            pids = list(conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND pid <> pg_backend_pid()")))
        db.engine.dispose()
    return pids


def _server_times(log: str) -> dict[str, list[float]]:
    """The app's own duration of each save and grid request, from its request log (gradebook/web/request_log.py)."""
    import json

    times: dict[str, list[float]] = {"save": [], "grid": []}
    for raw in log.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if entry.get("event") != "request" or entry.get("ms") is None:
            continue
        route = entry.get("route") or ""
        if entry.get("method") == "POST" and "/cells/" in route:
            times["save"].append(entry["ms"])
        elif entry.get("method") == "GET" and route == "/sections/<int:section_id>":
            times["grid"].append(entry["ms"])
    return times


def run(temp: _support.TempDatabase, *, teachers: int, seconds: float, workers: int, seed: int,
        grid_only: bool = False) -> str:
    app = _support.make_app(temp.url)
    _support.create_schema(app)
    with app.app_context():
        from gradebook.extensions import db

        version = _support.server_version(db.engine)
    started = time.perf_counter()
    plans = build_district(app, teachers, seed)
    print(f"    · {version}: {teachers} sections built in {time.perf_counter() - started:.1f} s", flush=True)
    results = Results()
    log_path = Path(tempfile.mkdtemp(prefix="gradebook-load-")) / "requests.log"
    with _http.gunicorn_server(temp.url, workers=workers, log_path=log_path) as server:
        port = server.port
        clock: dict[str, float] = {}
        start = threading.Barrier(len(plans) + 1, timeout=300,
                                  action=lambda: clock.__setitem__("stop_at", time.time() + seconds))
        threads = [threading.Thread(target=teacher_loop, args=(port, plan, start, clock, results, seed + n, grid_only),
                                    daemon=True)
                   for n, plan in enumerate(plans)]
        for thread in threads:
            thread.start()
        start.wait()
        load_before = os.getloadavg()[0]
        log_start = log_path.stat().st_size
        server_pids = [server.pid, *_http.children(server.pid)]
        database_pids = _database_backends(app)
        cpu_before = (time.process_time(), _http.cpu_seconds(server_pids), _http.cpu_seconds(database_pids),
                      _http.machine_busy_seconds(), time.perf_counter())
        for thread in threads:
            thread.join(seconds + 120)
        cpu_after = (time.process_time(), _http.cpu_seconds(server_pids), _http.cpu_seconds(database_pids),
                     _http.machine_busy_seconds(), time.perf_counter())
        load_after = os.getloadavg()[0]
    with open(log_path, "rb") as log:
        log.seek(log_start)
        server_ms = _server_times(log.read().decode("utf-8", "replace"))
    shutil.rmtree(log_path.parent, ignore_errors=True)
    lost = lost_writes(app, results.acknowledged)
    every = results.saves + results.grids
    ms = lambda values, q: _support.percentile(values, q) * 1000 if values else float("nan")  # noqa: E731
    line = lambda name, v: (f"  {name:<8} {len(v):>6} requests   p50 {ms(v, 50):7.1f} ms   p95 {ms(v, 95):7.1f} ms   "  # noqa: E731
                            f"p99 {ms(v, 99):7.1f} ms")
    if grid_only:
        p50, p99 = ms(results.grids, 50), ms(results.grids, 99)
        return "\n".join([
            f"{version}: GET-only grid load, {teachers} connections back to back for {seconds:.0f} s, gunicorn -w "
            f"{workers}; load average {load_before:.2f} → {load_after:.2f} (1 min)",
            line("grids", results.grids),
            f"  p99 ÷ p50 = {p99 / p50:.2f} (target ≤ 3); errors: {len(results.errors)}",
        ])
    served = lambda name, v: (f"  {name:<8} {len(v):>6} requests   p50 {_support.percentile(v, 50):7.1f} ms   "  # noqa: E731
                              f"p95 {_support.percentile(v, 95):7.1f} ms   (in the app: before_request → after_request)")
    client, app_cpu, database_cpu, busy, wall = (after - before for after, before in zip(cpu_after, cpu_before, strict=True))
    requests = max(1, len(every) + len(results.errors))
    cpu = (f"  CPU in the run ({wall:.0f} s × {os.cpu_count()} CPUs = {wall * (os.cpu_count() or 1):.0f} CPU-s): "
           f"gunicorn {app_cpu:.1f} s ({app_cpu / requests * 1000:.1f} ms a request), database server "
           + (f"{database_cpu:.1f} s ({database_cpu / requests * 1000:.1f} ms a request)" if database_pids else "in-process")
           + f", this client {client:.1f} s ({client / requests * 1000:.1f} ms a request), everything else on the "
           f"machine {max(0.0, busy - client - app_cpu - database_cpu):.1f} s")
    return "\n".join([
        f"{version}: {teachers} teachers for {seconds:.0f} s, gunicorn -w {workers}; load average "
        f"{load_before:.2f} → {load_after:.2f} (1 min)",
        line("saves", results.saves), line("grids", results.grids), line("all", every),
        served("saves", server_ms.get("save", [])), served("grids", server_ms.get("grid", [])), cpu,
        f"  errors: {len(results.errors)}" + (f" (first: {results.errors[0]})" if results.errors else ""),
        f"  lost writes: {lost} of {len(results.acknowledged)} acknowledged cells (last value checked in the database)",
        "  target: p95 ≤ 100 ms, 0 errors, 0 lost writes",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=None, help="simulated teachers (default 50)")
    parser.add_argument("--seconds", type=float, default=None, help="how long each database is loaded (default 60)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--quick", action="store_true", help="5 teachers for 5 s: a smoke run")
    parser.add_argument("--grid-only", action="store_true",
                        help="readers only: --teachers connections (default 4) reloading their grid back to back")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    teachers = args.teachers or (4 if args.grid_only else 5 if args.quick else 50)
    seconds = args.seconds or (5.0 if args.quick else 60.0)
    print(f"Load: {teachers} simulated teachers (grid, then saves with 0.5–1.5 s think time), {seconds:.0f} s "
          f"per database" + (" [--quick]" if args.quick else ""), flush=True)
    print(f"Machine: {_support.machine()}", flush=True)
    done = 0
    if not args.no_sqlite:
        with _support.temp_sqlite() as temp:
            print(run(temp, teachers=teachers, seconds=seconds, workers=args.workers, seed=args.seed,
                      grid_only=args.grid_only), flush=True)
        done += 1
    if not args.no_postgres:
        reason = _support.postgres_available(args.postgres_url)
        if reason is not None:
            print(f"  PostgreSQL skipped: {reason}")
        else:
            with _support.temp_postgres(args.postgres_url, name=f"gradebook_bench_load_{os.getpid()}") as temp:
                print(run(temp, teachers=teachers, seconds=seconds, workers=args.workers, seed=args.seed,
                      grid_only=args.grid_only), flush=True)
            done += 1
    print(f"Machine at the end: {_support.machine()}")
    return 0 if done else 1


if __name__ == "__main__":
    raise SystemExit(main())
