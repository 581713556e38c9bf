"""Shared plumbing for the benchmarks: throw-away databases, an app on them, a query counter, statistics.

Every database made here is the benchmark's own and is removed afterwards: a SQLite file in a temporary
directory, or a PostgreSQL database ``gradebook_bench_<pid>`` created (and dropped) on a server reached
through an administrative URL (any database on it; AUTOCOMMIT is used for CREATE/DROP DATABASE).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url(explicit: str | None = None) -> str:
    """Which PostgreSQL server to use: the argument, else BENCH_POSTGRES_URL, else DATABASE_URL if it is
    PostgreSQL, else the local server. Only the server is used: the benchmark makes its own database there."""
    if explicit:
        return explicit
    for name in ("BENCH_POSTGRES_URL", "DATABASE_URL"):
        value = os.environ.get(name, "")
        if value.startswith(("postgres://", "postgresql")):
            return value
    return DEFAULT_POSTGRES_ADMIN_URL


def _psycopg(url: str) -> str:
    from gradebook.config import normalise_database_url

    return normalise_database_url(url)


def describe(url: str) -> str:
    """A URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)


@dataclass
class TempDatabase:
    kind: str  # "SQLite" or "PostgreSQL"
    url: str
    where: str  # what to print: the file, or host:port/database
    _cleanup: list[Any] = field(default_factory=list, repr=False)

    def size_bytes(self, engine: Engine) -> int | None:
        if self.kind == "SQLite":
            path = Path(make_url(self.url).database or "")
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
        with engine.connect() as conn:
            return conn.scalar(text("SELECT pg_database_size(current_database())"))


@contextmanager
def temp_sqlite(prefix: str = "gradebook-bench-") -> Iterator[TempDatabase]:
    directory = tempfile.mkdtemp(prefix=prefix)
    path = Path(directory) / "bench.sqlite"
    try:
        yield TempDatabase("SQLite", f"sqlite:///{path}", str(path))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def temp_postgres(admin_url: str | None = None, name: str | None = None) -> Iterator[TempDatabase]:
    """CREATE a fresh database on the server, yield it, DROP it (WITH FORCE) whatever happens."""
    admin = make_url(_psycopg(postgres_admin_url(admin_url)))
    name = name or f"gradebook_bench_{os.getpid()}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.set(database=name)
        where = f"{url.host or 'localhost'}:{url.port or 5432}/{name}"
        try:
            yield TempDatabase("PostgreSQL", url.render_as_string(hide_password=False), where)
        finally:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def postgres_available(admin_url: str | None = None) -> str | None:
    """None if the server answers, else the reason it does not."""
    try:
        engine = create_engine(_psycopg(postgres_admin_url(admin_url)), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def make_app(url: str, **config: Any) -> Flask:
    """The real app on ``url``, as the tests configure it (TESTING, no CSRF, no login rate limit)."""
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")  # keep instance/ untouched
    from gradebook import create_app

    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "benchmark-only-not-a-secret",
        "WTF_CSRF_ENABLED": False,
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "JOBS_IMMEDIATE": True,  # no queue worker in a benchmark: /healthz checks only the database
    }
    settings.update(config)
    return create_app(settings)


def create_schema(app: Flask) -> None:
    """The schema as production gets it: the Alembic migrations (their INFO logging kept off the screen)."""
    import contextlib
    import io
    import sys

    from flask_migrate import upgrade

    captured = io.StringIO()
    try:
        # migrations/env.py points a stderr handler at whatever sys.stderr is while it configures logging
        with contextlib.redirect_stderr(captured), app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
    except BaseException:
        sys.stderr.write(captured.getvalue())
        raise


def server_version(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(conn.scalar(text("SELECT sqlite_version()")))
        return "PostgreSQL " + str(conn.scalar(text("SHOW server_version"))).split(" ")[0]


class QueryCounter:
    """Counts the SQL statements sent on an engine, as tests/conftest.py's fixture does (BEGIN, SAVEPOINT,
    RELEASE and PRAGMA are not counted)."""

    SKIP = ("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(self.SKIP):
            self.statements.append(statement)

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)


def machine() -> str:
    """CPUs and load average: other work on the machine skews every figure, so print it."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def human_bytes(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size} B"
