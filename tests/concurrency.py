"""Helpers for tests that race two transactions: on PostgreSQL, see whether a connection is waiting for a
lock another transaction holds (so a test can let the other one commit at exactly that moment)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def backend_pid(session: Session) -> int:
    return int(session.scalar(text("SELECT pg_backend_pid()")))  # type: ignore[arg-type]


def waiting_for_a_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                                {"pid": pid}))


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False
