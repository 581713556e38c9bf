"""Real HTTP for the benchmarks: gunicorn (gunicorn.conf.py) on a throw-away database, a keep-alive client that
keeps cookies, and logging in through the form with its CSRF token (CSRF stays on, as in production)."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from benchmarks._support import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    pid: int  # gunicorn's master; its workers are its children
    log_path: Path | None  # the app's request log (one JSON line per request), when asked for


@contextmanager
def gunicorn(database_url: str, *, workers: int = 1, app: str = "gradebook:create_app()",
             extra_env: dict[str, str] | None = None) -> Iterator[int]:
    """gunicorn with the project's config on `database_url`; yields its port; stops it afterwards."""
    with gunicorn_server(database_url, workers=workers, app=app, extra_env=extra_env) as server:
        yield server.port


@contextmanager
def gunicorn_server(database_url: str, *, workers: int = 1, app: str = "gradebook:create_app()",
                    extra_env: dict[str, str] | None = None, log_path: Path | None = None) -> Iterator[Server]:
    """As `gunicorn`, yielding the Server; with `log_path` the app's request log (stderr) is kept there."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "benchmark-only-not-a-secret",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
           "LOGIN_RATE_LIMIT": "100000 per minute", "LOGIN_ADDRESS_RATE_LIMIT": "100000 per minute",
           "PYTHONPATH": str(ROOT), **(extra_env or {})}
    log = open(log_path, "wb") if log_path is not None else None  # noqa: SIM115 - closed below
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                               "--log-level", "warning", app], cwd=ROOT, env=env,
                              stderr=log or subprocess.DEVNULL)  # the request log: one line per request
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {server.returncode}") from None
                time.sleep(0.1)
        yield Server(port, server.pid, log_path)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        if log is not None:
            log.close()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes (Linux /proc; 0 for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def children(pid: int) -> list[int]:
    """The direct children of a process (gunicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has used so far (/proc/stat, all CPUs, not idle or iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Browser:
    """One keep-alive connection with its cookies, as a browser tab."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, str]:
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        data = None
        if body is not None:
            data = urlencode(body)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=data, headers=h)
            response = self.conn.getresponse()
        except (http.client.HTTPException, ConnectionError):  # the server closed an idle connection
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=data, headers=h)
            response = self.conn.getresponse()
        payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, payload.decode("utf-8", "replace")

    def log_in(self, email: str, password: str, then: str) -> str:
        """POST /login with the form's CSRF token, then GET `then`; keeps the page's X-CSRFToken for htmx posts."""
        _status, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
        if token is None:
            raise RuntimeError("no CSRF token on the login page")
        status, _ = self.request("POST", "/login", {"email": email, "password": password,
                                                    "csrf_token": next(t for t in token.groups() if t)})
        if status != 303:
            raise RuntimeError(f"login answered {status}")
        status, page = self.request("GET", then)
        if status != 200:
            raise RuntimeError(f"GET {then} answered {status}")
        found = re.search(r'"X-CSRFToken": "([^"]+)"', page)
        if found is None:
            raise RuntimeError(f"no X-CSRFToken on {then}")
        self.csrf = found.group(1)
        return page

    def save(self, section_id: int, assessment_id: int, student_id: int, competency_id: int, value: int) -> tuple[int, str]:
        """The entry cell's htmx POST."""
        return self.request("POST", f"/sections/{section_id}/assessments/{assessment_id}/cells/{student_id}/{competency_id}",
                            {f"cell-{student_id}-{competency_id}": str(value)},
                            {"HX-Request": "true", "X-CSRFToken": self.csrf})
