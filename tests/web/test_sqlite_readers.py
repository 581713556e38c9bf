"""SQLite under WAL: requests that only read begin DEFERRED, so they run beside each other and beside a writer
holding its transaction (BEGIN IMMEDIATE is kept for requests that write, which queue for the lock)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from gradebook import create_app
from gradebook.extensions import db
from tests.builders import PASSWORD, make_section
from tests.conftest import database_url, is_postgres

pytestmark = pytest.mark.skipif(is_postgres(), reason="SQLite's write lock")


@pytest.fixture(scope="module")
def production_app(_app: Flask) -> Iterator[Flask]:
    """The production configuration (BEGIN IMMEDIATE for writes), with a short busy timeout so a reader that
    wrongly waits for the write lock fails fast."""
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url(), "SECRET_KEY": "readers-secret", "WTF_CSRF_ENABLED": False,
        "LOGIN_RATE_LIMIT": "10000 per minute", "RATELIMIT_STORAGE_URI": "memory://",
        "UPLOAD_FOLDER": _app.config["UPLOAD_FOLDER"],
    })
    yield app
    with app.app_context():
        db.engine.dispose()


def test_readers_do_not_wait_for_a_writer_holding_its_transaction(app, production_app: Flask) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=3, standards=2)
    db.session.commit()
    tabs = []
    for _ in range(3):
        tab = production_app.test_client()
        assert tab.post("/login", data={"email": world.teacher.email, "password": PASSWORD}).status_code == 303
        tabs.append(tab)
    writer = sqlite3.connect(make_url(database_url()).database, isolation_level=None, timeout=10)
    writer.execute("BEGIN IMMEDIATE")  # a save in progress holds the write lock
    writer.execute("UPDATE sections SET name = name WHERE id = ?", (world.section.id,))
    answers: list[tuple[int, float]] = []
    start = threading.Barrier(len(tabs))

    def read(tab) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        t0 = time.perf_counter()
        response = tab.get(f"/sections/{world.section.id}/assessments")
        answers.append((response.status_code, time.perf_counter() - t0))

    try:
        threads = [threading.Thread(target=read, args=(tab,)) for tab in tabs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert [status for status, _ in answers] == [200] * len(tabs)
    assert max(seconds for _, seconds in answers) < 3, answers  # not queued behind the writer (10 s timeout)
