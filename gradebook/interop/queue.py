"""The job queue: long work (imports, the school-wide recompute, the school export, backups) runs on Huey.

A job is a row (``Job``, table ``import_jobs``) and a Huey message carrying its id. The queue's store is
Redis in production (``JOB_QUEUE_URL=redis://…``) and Huey's SQLite storage in ``instance/`` by default, so
one machine needs no Redis; ``flask gradebook worker`` runs the consumer.

- **Claim.** A worker takes a job with one conditional UPDATE (queued → running, ``attempts + 1``, its
  ``host:pid`` in ``worker``). A second message for the same job finds it taken and does nothing, so a
  message delivered twice, or re-sent after a crash, is harmless.
- **Progress and heartbeat** live in the queue's store under ``job:<id>`` (percent, stage, the time of the
  last beat, the worker, the attempt): every web worker and host reads the same record. They are not written
  to the job row while the job runs, because on SQLite the job's own transaction holds the only write lock.
  A thread in the worker beats every ``JOB_HEARTBEAT_SECONDS``.
- **Lease.** A running job whose worker has not beaten for ``JOB_LEASE_SECONDS``, or whose worker process on
  this host is gone, is dead: whoever looks first (the page's poll, or any worker's watch) runs it again, up
  to ``JOB_MAX_ATTEMPTS`` in all, or marks it failed with a message that says so. The job's writes and its
  "done" are one transaction, conditional on still holding the claim, so a dead job changed nothing and a
  re-run gives the same result as a first run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Huey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gradebook.models import Job, utcnow
from gradebook.services import ServiceError

log = logging.getLogger("gradebook.events")

Progress = Callable[[int, str], None]
# A job's body does its work in the session it is given without committing, reports progress, and returns
# (message, report), or (message, report, status) to end in a status other than "done" (one that waits for
# a person, say); a ServiceError fails the job with its message. The runner commits. To run a job again
# later (a second phase), set its status to "queued" and its attempts to 0, commit, and enqueue it.
Body = Callable[[Session, Flask, Job, Progress], tuple[Any, ...]]

_bodies: dict[str, Body] = {}
_after: dict[str, Callable[[Flask, Job, bool], None]] = {}
FAILED_STAGE = {"recompute": "Nothing was changed", "export": "No file was written",
                "backup": "No file was written"}  # imports: "Nothing was imported"
WORKER_BEAT_KEY = "gradebook:worker-beat"


def register(kinds: tuple[str, ...], body: Body, after: Callable[[Flask, Job, bool], None] | None = None) -> None:
    """Say which function runs the jobs of these kinds (and what to tidy once one has ended for good)."""
    for kind in kinds:
        _bodies[kind] = body
        if after is not None:
            _after[kind] = after


def _load_bodies() -> None:
    from gradebook.interop import jobs, school_jobs  # noqa: F401  (they register their kinds)


# ---------------------------------------------------------------- the Huey instance


def init_queue(app: Flask) -> Huey:
    """One Huey per app, from JOB_QUEUE_URL; in immediate mode (tests) a job runs when it is queued."""
    url = app.config.get("JOB_QUEUE_URL") or f"sqlite:///{Path(app.instance_path) / 'job-queue.sqlite'}"
    immediate = bool(app.config.get("JOBS_IMMEDIATE") or app.config.get("IMPORTS_INLINE"))
    name = app.config.get("JOB_QUEUE_NAME", "gradebook")
    huey: Huey
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey(name, url=url, immediate=immediate, results=False)
    elif url.startswith("sqlite:///"):
        if app.config.get("PRODUCTION") and not immediate:
            app.logger.warning("JOB_QUEUE_URL is a SQLite file on this host: only a worker on this host takes its "
                               "jobs. Several hosts need a shared queue: JOB_QUEUE_URL=redis://…")
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(name, filename=str(path), immediate=immediate, results=False, timeout=10)
    elif url == "memory://":
        huey = MemoryHuey(name, immediate=immediate, results=False)
    else:
        raise ValueError(f"JOB_QUEUE_URL must be redis://…, sqlite:///… or memory://, not {url!r}")

    def run_job(job_id: int) -> None:
        run(app, job_id)

    # Huey retries a message only when run() itself fails before or after the job (the database was briefly
    # unreachable at the claim, say): the claim is conditional, so a retry never runs a job twice.
    task = huey.task(name="run_job", retries=5, retry_delay=5)(run_job)
    app.extensions["huey"] = huey
    app.extensions["huey.run_job"] = task
    return huey


def huey_of(app: Flask) -> Huey:
    return app.extensions["huey"]


def enqueue(app: Flask, job_id: int) -> None:
    """Send a job to the queue (call it after the job row is committed)."""
    app.extensions["huey.run_job"](job_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------- progress and heartbeat (the queue's store)


@dataclass(frozen=True)
class Live:
    percent: int
    stage: str
    beat: float  # time.time() of the last heartbeat
    worker: str
    attempt: int


def _key(job_id: int) -> str:
    return f"gradebook:job:{job_id}"


def read_live(app: Flask, job_id: int) -> Live | None:
    raw = huey_of(app).get(_key(job_id), peek=True)
    return Live(**raw) if isinstance(raw, dict) else None


def _write_live(app: Flask, job_id: int, live: Live) -> None:
    huey_of(app).put(_key(job_id), live.__dict__)


def _clear_live(app: Flask, job_id: int) -> None:
    with contextlib.suppress(Exception):
        huey_of(app).delete(_key(job_id))


class Heartbeat:
    """While a job runs: its progress, and a beat every JOB_HEARTBEAT_SECONDS, in the queue's store."""

    def __init__(self, app: Flask, job_id: int, worker: str, attempt: int) -> None:
        self.app, self.job_id, self.worker, self.attempt = app, job_id, worker, attempt
        self.percent, self.stage = 5, "Starting"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat_forever, daemon=True, name=f"job-{job_id}-heartbeat")

    def start(self) -> None:
        self._write()
        self._thread.start()

    def progress(self, percent: int, stage: str) -> None:
        with self._lock:
            self.percent, self.stage = max(0, min(99, int(percent))), stage[:200]
        self._write()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _write(self) -> None:
        with self._lock:
            live = Live(self.percent, self.stage, time.time(), self.worker, self.attempt)
        try:
            _write_live(self.app, self.job_id, live)
        except Exception:  # noqa: BLE001 - a store that hiccups must not stop the job; the lease judges
            log.warning(json.dumps({"event": "job.heartbeat_failed", "job": self.job_id}))

    def _beat_forever(self) -> None:
        interval = float(self.app.config.get("JOB_HEARTBEAT_SECONDS", 5))
        while not self._stop.wait(interval):
            self._write()


# ---------------------------------------------------------------- running a job


def run(app: Flask, job_id: int) -> None:
    """Claim a queued job, run its body in one transaction with the heartbeat beating, and record the end."""
    from gradebook.extensions import db

    _load_bodies()
    me = worker_name()
    with app.app_context():
        session = db.session
        claimed = session.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued")
            .values(status="running", attempts=Job.attempts + 1, worker=me, started_at=utcnow(),
                    progress=5, stage="Starting").execution_options(synchronize_session=False)).rowcount
        session.commit()
        if not claimed:
            return  # finished, failed, or another worker has it: this message was a duplicate
        job = session.get(Job, job_id)
        assert job is not None
        attempt, kind, started = job.attempts, job.kind, time.perf_counter()
        beat = Heartbeat(app, job_id, me, attempt)
        beat.start()
        status = "failed"
        try:
            message, report, *rest = _bodies[kind](session, app, job, beat.progress)
            ending = rest[0] if rest else "done"
            beat.progress(97, "Saving")
            owned = _finish(session, job_id, me, attempt, status=ending, progress=100, stage="Finished",
                            message=message, report=report)
            if owned:
                session.commit()
                status = ending
            else:  # declared dead meanwhile and run again elsewhere: that run decides, this one writes nothing
                session.rollback()
                status = "abandoned"
        except ServiceError as error:
            session.rollback()
            status = _fail(session, job_id, me, attempt, kind, error.message)
        except Exception as error:  # noqa: BLE001 - a job must always end, and say so
            session.rollback()
            app.logger.exception("Job %s (%s) failed", job_id, kind)
            status = _fail(session, job_id, me, attempt, kind,
                           f"The job stopped on an unexpected error ({type(error).__name__}); nothing was changed.")
        finally:
            beat.stop()
            _clear_live(app, job_id)
        log.info(json.dumps({"event": "job", "job": job_id, "kind": kind, "status": status, "attempt": attempt,
                             "user": job.created_by_id, "ms": round((time.perf_counter() - started) * 1000)}))
        if status in ("done", "failed") and kind in _after:
            _after[kind](app, session.get(Job, job_id) or job, status == "done")


def _finish(session: Session, job_id: int, me: str, attempt: int, **values: Any) -> bool:
    """Write the job's end, only if this worker still holds its claim (in the caller's transaction)."""
    return bool(session.execute(
        update(Job).where(Job.id == job_id, Job.status == "running", Job.worker == me, Job.attempts == attempt)
        .values(finished_at=utcnow(), **values).execution_options(synchronize_session=False)).rowcount)


def _fail(session: Session, job_id: int, me: str, attempt: int, kind: str, message: str) -> str:
    if _finish(session, job_id, me, attempt, status="failed", stage=FAILED_STAGE.get(kind, "Nothing was imported"),
               message=message):
        session.commit()
        return "failed"
    session.rollback()
    return "abandoned"


# ---------------------------------------------------------------- a worker that died


def _process_gone(worker: str | None) -> bool:
    """True when the worker ran on this host and its process is no more (seen at once, no lease to wait)."""
    if not worker or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_dead(app: Flask, job: Job) -> bool:
    """A running job whose worker is gone (same host) or silent for longer than the lease."""
    if job.status != "running":
        return False
    if _process_gone(job.worker):
        return True
    lease = float(app.config.get("JOB_LEASE_SECONDS", 30))
    live = read_live(app, job.id)
    if live is None or live.attempt != job.attempts:
        started = job.started_at or job.created_at
        return utcnow() - started > timedelta(seconds=lease)
    return time.time() - live.beat > lease


def recover(session: Session, app: Flask, job: Job) -> bool:
    """If the job's worker died: queue it again (attempts left) or fail it, with a message. Commits.

    Safe to call from every web worker at once: the change is conditional on the job still being the run
    that died, so only one caller acts.
    """
    if not is_dead(app, job):
        return False
    _load_bodies()
    maximum = int(app.config.get("JOB_MAX_ATTEMPTS", 2))
    what = "import" if job.kind not in FAILED_STAGE else "job"
    condition = (Job.id == job.id, Job.status == "running", Job.attempts == job.attempts)
    worker_condition = Job.worker.is_(None) if job.worker is None else Job.worker == job.worker
    again = job.attempts < maximum
    if again:
        values: dict[str, Any] = {
            "status": "queued", "progress": 0, "stage": "Waiting to start again",
            "message": (f"The worker running this {what} stopped (attempt {job.attempts} of {maximum}); "
                        "nothing it did was kept, and it is being run again from the start.")}
    else:
        stage = FAILED_STAGE.get(job.kind, "Nothing was imported")
        values = {"status": "failed", "stage": stage, "finished_at": utcnow(),
                  "message": (f"The worker running this {what} stopped (attempt {job.attempts} of {maximum}), "
                              f"so it was given up. {stage}; "
                              + ("upload the file again." if what == "import" else "start it again."))}
    changed = session.execute(update(Job).where(*condition, worker_condition).values(**values)
                              .execution_options(synchronize_session=False)).rowcount
    session.commit()
    session.refresh(job)
    if not changed:
        return False
    _clear_live(app, job.id)
    log.info(json.dumps({"event": "job.worker_lost", "job": job.id, "kind": job.kind, "attempt": job.attempts,
                         "requeued": again}))
    if again:
        enqueue(app, job.id)
    elif job.kind in _after:
        _after[job.kind](app, job, False)
    return True


STALE_QUEUED_AFTER = timedelta(hours=1)


def give_up_if_never_started(session: Session, job: Job) -> bool:
    """A job still queued an hour on: no worker is taking jobs (or its message was lost). Say so."""
    if job.status != "queued" or utcnow() - job.created_at < STALE_QUEUED_AFTER:
        return False
    job.status, job.finished_at = "failed", utcnow()
    job.stage = FAILED_STAGE.get(job.kind, "Nothing was imported")
    job.message = ("No worker took this job within an hour (is `flask gradebook worker` running?). "
                   f"{job.stage}; start it again.")
    return True


def check(session: Session, app: Flask, job: Job) -> bool:
    """What a page does before it shows a job: notice a dead worker or a job nobody took. True if it changed."""
    if job.status == "running":
        return recover(session, app, job)
    if give_up_if_never_started(session, job):
        session.commit()
        return True
    return False


def progress_of(app: Flask, job: Job) -> tuple[int, str]:
    """The percent and stage to show: the worker's live record while it runs, else the row's."""
    if job.status == "running":
        with contextlib.suppress(Exception):
            live = read_live(app, job.id)
            if live is not None and live.attempt == job.attempts:
                return live.percent, live.stage
    return job.progress, job.stage


def watch_running(app: Flask) -> int:
    """Look at every running job and recover those whose worker died; how many were recovered."""
    from gradebook.extensions import db

    with app.app_context():
        recovered = 0
        for job in db.session.scalars(select(Job).where(Job.status == "running")).all():
            recovered += recover(db.session, app, job)
        db.session.remove()
        return recovered


# ---------------------------------------------------------------- the worker process and health


def run_worker(app: Flask, *, workers: int = 2) -> None:
    """The consumer, with a watcher that beats for /healthz and recovers jobs of workers that died."""
    _load_bodies()
    huey = huey_of(app)
    stop = threading.Event()
    me = worker_name()

    def watch() -> None:
        interval = float(app.config.get("JOB_HEARTBEAT_SECONDS", 5))
        while True:
            try:
                huey.put(WORKER_BEAT_KEY, {"worker": me, "beat": time.time()})
                watch_running(app)
            except Exception:  # noqa: BLE001 - keep watching; /healthz tells when the store is down
                app.logger.exception("The job watcher could not look at the queue")
            if stop.wait(interval):
                return

    threading.Thread(target=watch, daemon=True, name="job-watcher").start()
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                    initial_delay=0.1, max_delay=1.0, backoff=1.15)
    try:
        consumer.run()
    finally:
        stop.set()


def health(app: Flask) -> tuple[bool, str]:
    """Whether the queue's store answers, and whether a worker has been seen lately."""
    huey = huey_of(app)
    if huey.immediate:
        return True, "jobs run inside the request (immediate mode)"
    try:
        seen = huey.get(WORKER_BEAT_KEY, peek=True)
        waiting = huey.pending_count()
    except Exception as error:  # noqa: BLE001 - any failure here means the queue is down
        return False, f"the queue's store does not answer ({type(error).__name__})"
    lease = float(app.config.get("JOB_LEASE_SECONDS", 30))
    if not isinstance(seen, dict) or time.time() - float(seen.get("beat", 0)) > lease:
        return False, f"no worker has been seen for {lease:g} s ({waiting} jobs waiting)"
    return True, f"a worker was seen {time.time() - float(seen['beat']):.0f} s ago; {waiting} jobs waiting"
