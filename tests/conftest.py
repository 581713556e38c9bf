"""Shared fixtures: an app on SQLite (default) or PostgreSQL (TEST_DATABASE_URL), a clean database per test,
logins, a SQL query counter, and builders (tests/builders.py).

Under pytest-xdist (`bin/test` runs `-n 3`) each worker process has a database of its own: SQLite in a
temporary folder of the process (with its uploads and outbox), PostgreSQL in `<TEST_DATABASE_URL's
database>_<worker>` (e.g. `test_gw0`), created when missing and emptied (schema dropped, migrated again) at
the start of every run."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from gradebook import create_app
from gradebook.extensions import db
from gradebook.services.accounts import use_fast_hashing

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parent.parent


def xdist_worker() -> str:
    """The pytest-xdist worker this process is (`gw0`, `gw1`, …), or "" when the suite runs serially."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{_sqlite_dir()}/test.sqlite"
    if xdist_worker():
        parsed = make_url(url)
        url = parsed.set(database=f"{parsed.database}_{xdist_worker()}").render_as_string(hide_password=False)
        if not _worker_database_ready:
            _create_worker_database(url)
    return url


_worker_database_ready = False


def _create_worker_database(url: str) -> None:
    """On PostgreSQL under xdist: CREATE this worker's database unless it is there (through the base one),
    before anything connects to it (the migration tests' admin connection may come before the app)."""
    global _worker_database_ready
    base = make_url(os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    name = make_url(url).database
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    _worker_database_ready = True


_tmp: tempfile.TemporaryDirectory | None = None


def _sqlite_dir() -> str:
    global _tmp
    if _tmp is None:
        _tmp = tempfile.TemporaryDirectory(prefix="gradebook-test-")
    return _tmp.name


def is_postgres() -> bool:
    return database_url().startswith("postgres")


def pytest_report_header(config: pytest.Config) -> str:
    url = database_url()
    workers = config.getoption("numprocesses", None) if config.pluginmanager.hasplugin("xdist") else None
    each = f", {workers} workers: one database each" if workers else ""
    return f"gradebook database: {'PostgreSQL' if is_postgres() else 'SQLite'} ({url.split('@')[-1]}{each})"


class FreshClient(FlaskClient):
    """Requests share the test's app context (and so its `g`): forget the cached login before each one,
    and expire loaded objects after it so the test sees what the request wrote."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from flask import g

        g.pop("_login_user", None)
        db.session.info.clear()  # per-request memos (a real request starts with a new session)
        try:
            return super().open(*args, **kwargs)
        finally:
            g.pop("_login_user", None)
            db.session.expire_all()


@pytest.fixture(scope="session")
def _app() -> Iterator[Flask]:
    use_fast_hashing()
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "LOGIN_ADDRESS_RATE_LIMIT": "10000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "UPLOAD_FOLDER": os.path.join(_sqlite_dir(), "uploads"),
        "MAIL_OUTBOX": os.path.join(_sqlite_dir(), "outbox"),
        "JOB_QUEUE_URL": f"sqlite:///{_sqlite_dir()}/job-queue.sqlite",  # not instance/'s: one per xdist worker
        "SERVER_NAME": None,
        # The test body keeps a read transaction open between requests; deferred BEGIN lets it
        # read without holding SQLite's write lock while a live server (BEGIN IMMEDIATE) writes.
        "SQLITE_BEGIN_IMMEDIATE": False,
        "IMPORTS_INLINE": True,
    })
    app.test_client_class = FreshClient
    with app.app_context():
        if is_postgres():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The app with an empty database and an app context pushed."""
    with _app.app_context():
        _empty_tables()
        yield _app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def csrf_on(app: Flask) -> Iterator[None]:
    """Turn CSRF checking on for one test (it is off for the rest, which test other things)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def login(client: FlaskClient, user, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"email": user.email or user.username, "password": password})
    assert response.status_code == 303, f"login failed for {user.email}: {response.status_code}"
    return response


@pytest.fixture
def login_as(client: FlaskClient):  # type: ignore[no-untyped-def]
    def _login(user):  # type: ignore[no-untyped-def]
        client.post("/logout")
        return login(client, user)

    return _login


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):  # type: ignore[no-untyped-def]
    """`with count_queries() as q: ...; q.count` counts the SQL statements the block sends."""

    @contextmanager
    def _count() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def _before(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
                counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", _before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", _before)

    return _count
