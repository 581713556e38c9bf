"""A pooled PostgreSQL connection is pinged only after it sat idle (not on every checkout, a round trip per
request), and one the server dropped while idle is replaced without the request seeing an error."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from gradebook import _ping_after_idle
from gradebook.config import normalise_database_url
from tests.conftest import database_url, is_postgres

pytestmark = pytest.mark.skipif(not is_postgres(), reason="a server connection (SQLite has none to drop)")


def _engine(idle_seconds: float):  # type: ignore[no-untyped-def]
    engine = create_engine(normalise_database_url(database_url()), pool_size=1, max_overflow=0)
    _ping_after_idle(engine, idle_seconds)
    return engine


def test_a_connection_dropped_while_idle_is_replaced_before_use() -> None:
    engine, admin = _engine(0.05), create_engine(normalise_database_url(database_url()))
    try:
        with engine.connect() as conn:
            first = conn.scalar(text("SELECT pg_backend_pid()"))
        with admin.connect() as other:  # the server drops it (as a restart or an idle timeout would)
            assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        time.sleep(0.1)
        with engine.connect() as conn:  # no error: pinged, found dead, replaced
            assert conn.scalar(text("SELECT pg_backend_pid()")) != first
    finally:
        engine.dispose()
        admin.dispose()


def test_a_busy_connection_is_not_pinged() -> None:
    engine = _engine(60)
    sent: list[str] = []
    try:
        with engine.connect() as conn:
            conn.scalar(text("SELECT 1"))
        raw = engine.pool._pool.queue[0].dbapi_connection  # type: ignore[attr-defined]
        real_cursor = raw.cursor
        raw.cursor = lambda *a, **k: (sent.append("cursor"), real_cursor(*a, **k))[1]  # type: ignore[method-assign]
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 2")
        assert sent == ["cursor"], sent  # the statement's own cursor only: no ping before it
    finally:
        engine.dispose()
