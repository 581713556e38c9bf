"""Two saves racing for the same empty entry cell, as two requests on two connections of a production-
configured app (SQLite with BEGIN IMMEDIATE; PostgreSQL): exactly one saves, the other gets the conflict
answer (409, both values, a choice), never a 500. Repeated over several cells."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from gradebook import create_app
from gradebook.extensions import db
from gradebook.models import Evidence, EvidenceRevision
from tests.builders import PASSWORD, make_assessment, make_section
from tests.concurrency import wait_until, waiting_for_a_lock
from tests.conftest import database_url, is_postgres

ROUNDS = 4
TYPED = ("2", "3.5")


@pytest.fixture(scope="module")
def production_app(_app: Flask) -> Iterator[Flask]:
    """A second app on the test database, configured as in production (its own engine and pool; SQLite
    transactions BEGIN IMMEDIATE), whose requests each get their own app context and session."""
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SECRET_KEY": "race-secret",
        "WTF_CSRF_ENABLED": False,
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "UPLOAD_FOLDER": _app.config["UPLOAD_FOLDER"],
    })
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def _both_checks_pass_before_either_inserts(app: Flask) -> Iterator[None]:
    """On PostgreSQL, hold each request's INSERT of evidence until the other request has reached its own
    INSERT too (both found the cell empty: the race the unique rule decides) or is waiting for a lock the
    first one holds (the writes take turns, so there is no race to force). SQLite's BEGIN IMMEDIATE queues
    the two requests: nothing to hold there."""
    with app.app_context():
        engine = db.engine
    pids: dict[int, int] = {}  # thread id → its connection's backend pid
    arrived: set[int] = set()
    mine = threading.local()

    def _hold(conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        me = threading.get_ident()
        pids.setdefault(me, conn.connection.dbapi_connection.info.backend_pid)
        if not statement.lstrip().upper().startswith("INSERT INTO EVIDENCE ") or getattr(mine, "held", False):
            return
        mine.held = True
        arrived.add(me)

        def the_other_is_there_or_waits() -> bool:
            others = [t for t in list(pids) if t != me]
            return bool(others) and all(t in arrived or waiting_for_a_lock(engine, pids[t]) for t in others)

        wait_until(the_other_is_there_or_waits, timeout=5)

    event.listen(engine, "before_cursor_execute", _hold)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", _hold)


def _client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 303
    return client


def test_two_saves_racing_for_an_empty_cell_one_saves_the_other_gets_the_conflict(  # type: ignore[no-untyped-def]
        app, production_app: Flask) -> None:
    world = make_section(students=ROUNDS, standards=1)
    quiz = make_assessment(world, standards=world.standards)
    standard_id = world.standards[0].id
    urls = [f"/sections/{world.section.id}/assessments/{quiz.id}/cells/{s.id}/{standard_id}" for s in world.students]
    student_ids = [s.id for s in world.students]
    db.session.commit()
    tabs = [_client(production_app, world.teacher.email) for _ in TYPED]  # two tabs, or two co-teachers

    for url, student_id in zip(urls, student_ids, strict=True):
        start = threading.Barrier(len(TYPED))
        answers: dict[str, tuple[int, str]] = {}

        def save(tab: FlaskClient, typed: str, url: str = url, student_id: int = student_id,
                 start: threading.Barrier = start, answers: dict = answers) -> None:  # type: ignore[type-arg]
            start.wait()
            response = tab.post(url, headers={"HX-Request": "true"},
                                data={f"cell-{student_id}-{standard_id}": typed, f"v-{student_id}-{standard_id}": "0"})
            answers[typed] = (response.status_code, response.get_data(as_text=True))

        held = _both_checks_pass_before_either_inserts(production_app) if is_postgres() else nullcontext()
        with held:
            threads = [threading.Thread(target=save, args=(tab, typed)) for tab, typed in zip(tabs, TYPED, strict=True)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)

        statuses = sorted(status for status, _ in answers.values())
        assert statuses == [200, 409], {typed: status for typed, (status, _body) in answers.items()}
        db.session.rollback()  # see what the two requests committed
        saved = db.session.scalars(select(Evidence).where(Evidence.student_id == student_id,
                                                          Evidence.deleted_at.is_(None))).all()
        assert len(saved) == 1
        winner = f"{saved[0].score:g}"
        loser = next(typed for typed in TYPED if typed != winner)
        status, body = answers[loser]
        assert status == 409
        assert f"They saved <strong>{winner}</strong>" in body and f"you typed <strong>{loser}</strong>" in body
        assert "Use mine" in body and "Keep theirs" in body
        assert [r.action for r in db.session.scalars(select(EvidenceRevision).where(
            EvidenceRevision.evidence_id == saved[0].id))] == ["create"]
