"""Gradebook: a competency-based gradebook and ePortfolio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from gradebook import config as config_module

ROOT = config_module.ROOT


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by `config` (tests pass theirs)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config_module.from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
        if "SQLALCHEMY_DATABASE_URI" in config:
            app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(
                config["SQLALCHEMY_DATABASE_URI"]
            )

    if app.config.get("TRUSTED_PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only behind proxies we run: the client address and scheme come from their X-Forwarded-* headers.
        hops = int(app.config["TRUSTED_PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    from gradebook import models  # noqa: F401  (register every table on the metadata)
    from gradebook.extensions import babel, csrf, db, limiter, login_manager, migrate
    from gradebook.web.uploads import apply_body_limit

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    app.before_request(_mark_reads_only)
    app.teardown_request(_unmark_reads_only)
    app.before_request(apply_body_limit)  # first: the CSRF check below reads the body under this limit
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from gradebook.web.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)

    with app.app_context():
        _configure_sqlite(db.engine, immediate=app.config.get("SQLITE_BEGIN_IMMEDIATE", True))
        _ping_after_idle(db.engine, float(app.config.get("DATABASE_PING_AFTER_IDLE_SECONDS", 10)))

    from gradebook.interop.queue import init_queue

    init_queue(app)

    from gradebook.web import register_web

    register_web(app)

    from gradebook.cli import register_cli

    register_cli(app)
    return app


READING_METHODS = {"GET", "HEAD", "OPTIONS"}


def _mark_reads_only() -> None:
    """A GET reads: on SQLite its transactions begin DEFERRED and never wait for the write lock."""
    from flask import g, request

    from gradebook.extensions import sqlite_reads_only

    g.reads_only_token = sqlite_reads_only.set(request.method in READING_METHODS)


def _unmark_reads_only(_exc: BaseException | None) -> None:
    from flask import g

    from gradebook.extensions import sqlite_reads_only

    token = g.pop("reads_only_token", None)
    if token is not None:
        try:
            sqlite_reads_only.reset(token)
        except ValueError:  # set in another context (a streamed answer): leave it
            sqlite_reads_only.set(False)


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """A pooled server connection idle for more than `idle_seconds` is pinged when it is checked out, and
    replaced if the server dropped it (a restart, a timeout): what `pool_pre_ping` does, without its round
    trip on every checkout, i.e. on every request of a busy worker. A connection dropped while in steady use
    fails the one request that finds it; SQLAlchemy then replaces the whole pool (a restart drops them all)."""
    if engine.dialect.name == "sqlite":
        return
    import time

    from sqlalchemy import exc

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["gradebook_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        if record is not None:
            record.info["gradebook_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        if time.monotonic() - record.info.get("gradebook_idle_since", 0.0) <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure: the pool connects afresh
            raise exc.DisconnectionError(f"dropped while idle: {error}") from error


def _configure_sqlite(engine: Engine, *, immediate: bool = True) -> None:
    """WAL, foreign keys on, and BEGIN IMMEDIATE so concurrent read-then-write transactions queue, not fail."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        from gradebook.extensions import sqlite_reads_only

        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate and not sqlite_reads_only.get() else "BEGIN")
