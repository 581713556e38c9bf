"""The job queue with real processes: a worker killed in the middle of an import, and two web workers that
show the same progress. On SQLite the queue is Huey's embedded SQLite store; on PostgreSQL it is Redis
(TEST_REDIS_URL, default redis://127.0.0.1:6379/5), each test under a queue name of its own.

The worker process is the real `queue.run_worker`; the test holds the import half-way (its rows flushed,
not committed) by wrapping the importer inside the worker process, so nothing waits on a clock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from gradebook import create_app
from gradebook.extensions import db
from gradebook.interop import jobs, queue
from gradebook.models import Job, User
from tests.builders import make_user
from tests.conftest import PASSWORD, ROOT, database_url, is_postgres
from tests.db.test_case_import import table_rows
from tests.db.test_oneroster_import import roster_zip, two_schools

HELD = "Half-way (held by the test)"
UNCHANGED_BY_JOBS = ("import_jobs", "audit_log")

# A process of the app: a queue worker (optionally holding every roster import half-way, for ever), or a
# web server on a free port (it prints the port). Settings come from the environment the test gives it.
PROCESS = r"""
import json, os, sys, threading
from gradebook import create_app
from gradebook.services.accounts import use_fast_hashing
settings = json.loads(os.environ["GRADEBOOK_TEST_SETTINGS"])
if sys.argv[1] == "web":
    # Read-only requests must not queue behind the held import's write lock (SQLite): a deferred BEGIN, as
    # the test suite's own app uses.
    settings["SQLITE_BEGIN_IMMEDIATE"] = False
use_fast_hashing()
app = create_app(settings)
if sys.argv[1] == "worker":
    from gradebook.interop import jobs, queue
    if os.environ.get("HOLD_IMPORTS"):
        real = jobs._importers
        def held():
            importers = real()
            inner = importers["oneroster"]
            def run(session, data, actor, options):
                inner(session, data, actor, options)
                session.flush()
                options["_progress"](60, "Half-way (held by the test)")
                threading.Event().wait()
            importers["oneroster"] = run
            return importers
        jobs._importers = held
    queue.run_worker(app, workers=1)
else:
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()
"""


def _redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def settings(app: Flask, tmp_path: Path) -> dict[str, Any]:
    """The settings every process of this test shares: the test database, the queue, the upload folder."""
    name = f"gradebook-test-{uuid.uuid4().hex[:8]}"
    if is_postgres():
        import redis

        try:
            redis.Redis.from_url(_redis_url()).ping()
        except redis.RedisError as error:
            if os.environ.get("CI"):
                pytest.fail(f"Redis is not reachable at {_redis_url()}: {error}")
            pytest.skip(f"Redis is not reachable at {_redis_url()}: {error}")
        queue_url = _redis_url()
    else:
        queue_url = f"sqlite:///{tmp_path / 'job-queue.sqlite'}"
    values = {
        "SQLALCHEMY_DATABASE_URI": database_url(), "SECRET_KEY": "test-secret", "TESTING": True,
        "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "10000 per minute", "RATELIMIT_STORAGE_URI": "memory://",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"), "JOB_QUEUE_URL": queue_url, "JOB_QUEUE_NAME": name,
        "JOB_HEARTBEAT_SECONDS": 0.2, "JOB_LEASE_SECONDS": 30, "JOB_MAX_ATTEMPTS": 2,
    }
    return values


@pytest.fixture
def queue_app(settings: dict[str, Any]) -> Iterator[Flask]:
    """An app of the test process on the shared queue (the test's own app runs jobs inline)."""
    queue_app = create_app(settings)
    yield queue_app
    queue.huey_of(queue_app).flush()  # this test's queue name only
    with queue_app.app_context():
        db.engine.dispose()


@pytest.fixture
def spawn(settings: dict[str, Any]) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def _spawn(kind: str, **env: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", PROCESS, kind], cwd=ROOT, text=True, stdout=subprocess.PIPE,
            stderr=None if os.environ.get("SHOW_PROCESS_ERRORS") else subprocess.DEVNULL, env={**os.environ, "GRADEBOOK_TEST_SETTINGS": json.dumps(settings), **env})
        started.append(process)
        return process

    yield _spawn
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    """Poll a condition (other processes are working); fail with `what` if it never holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _queued_import(app: Flask, queue_app: Flask) -> tuple[int, User]:
    """An upload checked by its dry run (run here by the queue's own runner), then its real import queued as
    the second job, as the admin's "Import" button does; returns the real import's id."""
    admin = make_user("admin")
    check = jobs.create_job(db.session, queue_app, kind="oneroster", filename="roster.zip",
                            data=roster_zip(two_schools()), actor=admin)
    check_id, admin_id = check.id, admin.id
    db.session.commit()
    queue.run(queue_app, check_id)
    with queue_app.app_context():
        check = db.session.get(Job, check_id)
        assert (check.status, (check.report or {}).get("outcome")) == ("done", "dry_run"), check.message
        assert (jobs.folder(queue_app) / check.stored_name).exists()  # kept for the real import
        follow = jobs.apply_job(db.session, queue_app, check, actor=db.session.get(User, admin_id),
                                skip_rejected=False)
        job_id = follow.id
        db.session.commit()
    queue.enqueue(queue_app, job_id)
    return job_id, admin


def _rows() -> dict[str, list[tuple[str, ...]]]:
    rows = {name: value for name, value in table_rows().items() if name not in UNCHANGED_BY_JOBS}
    db.session.rollback()  # end the read: the worker writes next
    return rows


def _job(queue_app: Flask, job_id: int) -> Job:
    with queue_app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge_all()
        return job  # type: ignore[return-value]


def _held(queue_app: Flask, job_id: int) -> bool:
    live = queue.read_live(queue_app, job_id)
    return live is not None and live.stage == HELD


def test_a_worker_killed_mid_import_changes_nothing_and_the_import_is_run_again(
        app: Flask, queue_app: Flask, spawn) -> None:  # type: ignore[no-untyped-def]
    job_id, _admin = _queued_import(app, queue_app)
    before = _rows()
    worker = spawn("worker", HOLD_IMPORTS="1")
    wait_for(lambda: _held(queue_app, job_id), "the worker to hold the import half-way")
    assert _rows() == before  # half-way: its rows are written in its transaction, not committed

    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)

    with queue_app.app_context():  # what any page's poll does: the worker's process is gone, so at once
        job = db.session.get(Job, job_id)
        assert queue.check(db.session, queue_app, job)
        assert (job.status, job.attempts) == ("queued", 1)
        assert "stopped (attempt 1 of 2)" in job.message and "run again" in job.message
    assert _rows() == before

    spawn("worker")
    job = wait_for(lambda: (j := _job(queue_app, job_id)).status in ("done", "failed") and j, "the import to end")
    assert (job.status, job.attempts) == ("done", 2), job.message
    roster_users = len(two_schools()["users"])
    assert db.session.scalar(select(func.count()).select_from(User)) == roster_users + 1  # and the admin
    # The upload goes once the job has ended (just after its row says so, in the worker)
    wait_for(lambda: not (jobs.folder(queue_app) / job.stored_name).exists(), "the worker to remove the upload")


def _login(port: int, user: User) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    data = f"email={user.email}&password={PASSWORD.replace(' ', '+')}".encode()
    opener.open(f"http://127.0.0.1:{port}/login", data=data, timeout=30)
    return opener


def test_two_web_workers_show_the_same_progress_of_a_running_import(
        app: Flask, queue_app: Flask, spawn) -> None:  # type: ignore[no-untyped-def]
    job_id, admin = _queued_import(app, queue_app)
    webs = [spawn("web"), spawn("web")]
    ports = [int(web.stdout.readline()) for web in webs]  # type: ignore[union-attr]
    # Log in first: on SQLite the held import's transaction keeps the one write lock until it ends.
    openers = [_login(port, admin) for port in ports]
    spawn("worker", HOLD_IMPORTS="1")
    wait_for(lambda: _held(queue_app, job_id), "the worker to hold the import half-way")

    pages = []
    for port, opener in zip(ports, openers, strict=True):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/admin/imports/{job_id}",
                                         headers={"HX-Request": "true"})
        pages.append(opener.open(request, timeout=30).read().decode())
    assert ports[0] != ports[1]
    for page in pages:
        assert 'value="60"' in page and HELD in page and 'hx-trigger="every 1s"' in page, page
