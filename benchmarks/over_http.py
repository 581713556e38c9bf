"""The score save against the trivial route over real HTTP: a gunicorn worker, CSRF on, keep-alive.

    .venv/bin/python benchmarks/over_http.py [--saves 200] [--postgres]

Builds the 35 × 40 × 10 section of benchmarks/gradebook.py in a temporary database, starts gunicorn (one
sync worker, gunicorn.conf.py) on it, logs in through the login form (CSRF token from the page), then
times, one request at a time on one keep-alive connection: GET the trivial route (a small static file: /healthz now checks the database and the queue), score saves (the entry cell's
htmx POST with the X-CSRFToken header, each a different value), the trivial route again. Prints req/s of each
and the ratio, with the load average. Every save is checked afterwards (acknowledged saves = revisions).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
sys.path.insert(0, str(_here.parent))

from benchmarks import _support  # noqa: E402
from benchmarks._district import SEED  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):  # type: ignore[no-untyped-def]
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        data = None
        if body is not None:
            data = urlencode(body)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=h)
        response = self.conn.getresponse()
        payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, payload.decode("utf-8", "replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--health", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--trivial", default="/static/js/app.js",
                        help="the trivial route (/healthz now checks the database and the job queue)")
    args = parser.parse_args()
    sys.path.insert(0, str(_here))
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_gradebook", _here / "gradebook.py")
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    make = (lambda: _support.temp_postgres(None, name=f"gradebook_bench_http_{os.getpid()}")) if args.postgres \
        else _support.temp_sqlite
    print(f"Machine: {_support.machine()}", flush=True)
    with make() as temp:
        app = _support.make_app(temp.url)
        _support.create_schema(app)
        world = bench.build_section(app, SEED)
        from gradebook.extensions import db

        with app.app_context():
            db.engine.dispose()
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": temp.url, "SECRET_KEY": "bench", "GUNICORN_BIND": f"127.0.0.1:{port}",
               "GUNICORN_WORKERS": "1", "LOGIN_RATE_LIMIT": "1000 per minute"}
        server = subprocess.Popen([str(_support.ROOT / ".venv/bin/gunicorn"), "-c", str(_support.ROOT / "gunicorn.conf.py"),
                                   "--log-level", "warning", "gradebook:create_app()"], cwd=_support.ROOT, env=env)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            b = Browser(port)
            status, page = b.request("GET", "/login")
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
            token = next(t for t in token.groups() if t)  # type: ignore[union-attr]
            status, _ = b.request("POST", "/login", {"email": world["teacher_email"], "password": bench.PASSWORD,
                                                     "csrf_token": token})
            assert status == 303, status
            sid, aid, cid = world["section_id"], world["assessment_id"], world["competency_id"]
            status, page = b.request("GET", f"/sections/{sid}/assessments/{aid}")
            token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)  # type: ignore[union-attr]
            students, current = world["students"], dict(world["current"])
            saved = 0

            def save() -> None:
                nonlocal saved
                student = students[saved % len(students)]
                value = current[student] % 4 + 1
                current[student] = value
                saved += 1
                status, body = b.request("POST", f"/sections/{sid}/assessments/{aid}/cells/{student}/{cid}",
                                         {f"cell-{student}-{cid}": str(value)},
                                         {"HX-Request": "true", "X-CSRFToken": token})
                if status != 200:
                    raise RuntimeError(f"save answered {status}: {body[:200]}")

            def health() -> None:
                status, _ = b.request("GET", args.trivial)
                assert status == 200, status

            def rate(call, n: int) -> float:  # type: ignore[no-untyped-def]
                for _ in range(min(10, n)):
                    call()
                t0 = time.perf_counter()
                for _ in range(n):
                    call()
                return n / (time.perf_counter() - t0)

            before = rate(health, args.health)
            saves = rate(save, args.saves)
            after = rate(health, args.health)
            # interleaved, one of each in turn, so the machine's load drifts alike for both: median times
            t_health, t_save = [], []
            for _ in range(args.saves):
                t0 = time.perf_counter()
                health()
                t1 = time.perf_counter()
                save()
                t_health.append(t1 - t0)
                t_save.append(time.perf_counter() - t1)
        finally:
            server.terminate()
            server.wait(10)
        with app.app_context():
            from sqlalchemy import func, select

            from gradebook.models import EvidenceRevision

            revisions = db.session.scalar(select(func.count()).select_from(EvidenceRevision))
            db.session.remove()
            db.engine.dispose()
    trivial = (before + after) / 2
    print(f"{temp.kind}: {args.trivial} {before:,.0f} and {after:,.0f} req/s; score saves {saves:,.1f}/s; "
          f"saves ÷ trivial route = {saves / trivial:.3f} (target ≥ 0.20); {revisions} revisions for {saved} saves")
    print(f"interleaved: {args.trivial} median {_support.median(t_health) * 1000:.2f} ms, save median "
          f"{_support.median(t_save) * 1000:.2f} ms: saves ÷ trivial route = "
          f"{_support.median(t_health) / _support.median(t_save):.3f}")
    print(f"Machine at the end: {_support.machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
