"""`flask gradebook worker`: the job queue's consumer (registered into the gradebook group)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


def register(group: click.Group) -> None:
    @group.command("worker")
    @click.option("--threads", type=int, default=None,
                  help="Jobs run at the same time by this worker (default 2; 1 on SQLite, which has one writer).")
    @with_appcontext
    def worker_command(threads: int | None) -> None:
        """Run queued jobs (imports, recomputes, exports, backups) until stopped (Ctrl-C, SIGTERM).

        Run one or more beside the web server, on any host that reaches the database, the queue
        (JOB_QUEUE_URL) and the upload folder. A job whose worker is killed is run again or failed.
        """
        import logging

        from gradebook.interop import queue

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        events = logging.getLogger("gradebook.events")  # one JSON line per job, on stderr
        events.setLevel(logging.INFO)
        if not events.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(message)s"))
            events.addHandler(handler)
            events.propagate = False
        if queue.huey_of(app).immediate:
            raise click.ClickException("JOBS_IMMEDIATE is on: jobs run inside the web request; no worker needed.")
        click.echo(f"Worker {queue.worker_name()} taking jobs from {_where(app.config['JOB_QUEUE_URL'])}.")
        if threads is None:
            threads = 1 if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else 2
        queue.run_worker(app, workers=max(1, threads))


def _where(url: str) -> str:
    """The queue's address without a password."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://…@{rest.rpartition('@')[2]}"
    return url
