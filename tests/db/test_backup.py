"""Backup and restore: a restored database holds identical data, across SQLite and PostgreSQL; a file that is
not a backup, is corrupt or does not fit is refused with a clear message and nothing is written."""

from __future__ import annotations

import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from gradebook import create_app
from gradebook.demo import seed_demo
from gradebook.extensions import db
from gradebook.interop.backup import MANIFEST, backup, portable_tables, restore
from gradebook.interop.cli_backup import register
from gradebook.models import (
    Artifact,
    Comment,
    CommentBankEntry,
    Competency,
    Crosswalk,
    Evidence,
    FeedbackRead,
    Framework,
    ImportJob,
    PasswordReset,
    PolicyChange,
    PortfolioEntry,
    PortfolioEntryEvidence,
    Section,
    User,
)
from gradebook.services import ServiceError
from gradebook.services.accounts import use_fast_hashing
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import make_assessment, make_section
from tests.conftest import ROOT, _empty_tables, database_url, is_postgres

# ---------------------------------------------------------------- scratch databases


def _pg_admin_url() -> str:
    if is_postgres():
        url = make_url(database_url().replace("postgresql://", "postgresql+psycopg://", 1))
        return url.set(database="postgres").render_as_string(hide_password=False)
    return os.environ.get("BACKUP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """`scratch("sqlite" | "postgresql")` → the URL of a new empty database, dropped after the module."""
    created: list[str] = []
    admin = None

    def _make(kind: str) -> str:
        nonlocal admin
        if kind == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('backup') / 'gradebook.sqlite'}"
        if admin is None:
            admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
            try:
                admin.connect().close()
            except OperationalError as error:
                admin = None
                if os.environ.get("CI"):
                    pytest.fail(f"PostgreSQL is not reachable for scratch databases: {error.orig}")
                pytest.skip(f"PostgreSQL is not reachable for scratch databases: {error.orig}")
        name = f"gb_backup_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)

    yield _make
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def migrated(url: str) -> Iterator[Flask]:
    """An app on `url`, upgraded to the head revision, with its context pushed."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _fill_every_table(session) -> None:  # type: ignore[no-untyped-def]
    """Rows in the tables the demo leaves empty, and values that are easy to get wrong."""
    student = session.scalar(select(User).where(User.role == "student").order_by(User.id))
    teacher = session.scalar(select(User).where(User.role == "teacher").order_by(User.id))
    evidence = session.scalar(select(Evidence).where(Evidence.student_id == student.id).order_by(Evidence.id))
    entry = session.scalar(select(PortfolioEntry).order_by(PortfolioEntry.id))
    framework = session.scalar(select(Framework).order_by(Framework.id))
    # A child created before its parent: restore must still insert the parent first.
    child = Competency(framework_id=framework.id, code="X.1.a", statement="Child made first.\nTwo lines, «ünïcode» 🙂")
    session.add(child)
    session.flush()
    parent = Competency(framework_id=framework.id, code="X.1", statement="Parent made later.")
    session.add(parent)
    session.flush()
    child.parent_id = parent.id
    session.add_all([
        Comment(subject_type="entry", subject_id=entry.id, author_id=teacher.id, body="Lovely reflection."),
        CommentBankEntry(teacher_id=teacher.id, competency_id=child.id, body="=SUM(A1) looks like a formula"),
        Crosswalk(competency_id=child.id, target_identifier="urn:x", target_competency_id=parent.id),
        PasswordReset(user_id=student.id, token_hash="f" * 64, expires_at=datetime(2026, 12, 1, 8, 30, 0, 123456)),
        Artifact(owner_student_id=student.id, uploaded_by_id=student.id, evidence_id=evidence.id,
                 portfolio_entry_id=entry.id, original_name="graph.png", stored_name=uuid.uuid4().hex,
                 content_type="image/png", size=1234, sha256="a" * 64),
        FeedbackRead(evidence_id=evidence.id, user_id=student.id),
        PortfolioEntryEvidence(entry_id=entry.id, evidence_id=evidence.id, linked_by_id=teacher.id),
        PolicyChange(changed_by_id=teacher.id, old={"method": "average", "weight": 0.1 + 0.2}, new=None,
                     summary="Tried the average."),
        ImportJob(kind="case", filename="science.json", status="done", progress=100, report={"created": 12},
                  stored_name=uuid.uuid4().hex, created_by_id=teacher.id, finished_at=datetime(2026, 11, 2, 9)),
    ])
    section = session.scalar(select(Section).order_by(Section.id.desc()))
    section.policy = {"method": "latest", "kind_weights": {"test": 2.675}, "nested": [1, None, True]}
    _fill_path_tables(session, section, student, teacher, child, parent, entry, evidence)


def _fill_path_tables(session, section, student, teacher, child, parent, entry, evidence) -> None:  # type: ignore[no-untyped-def]
    """One row in each learning-path table the demo leaves empty (#12)."""
    from gradebook import models as m

    def empty(model) -> bool:  # type: ignore[no-untyped-def]
        return session.scalar(select(model.id).limit(1)) is None

    if empty(m.Prerequisite):
        session.add(m.Prerequisite(competency_id=child.id, requires_id=parent.id, section_id=None, source="case"))
    unit = m.PathUnit(section_id=section.id, title="Backup unit «ü»", position=9, starts_on=date(2026, 9, 1),
                      target_on=date(2026, 9, 30))
    activity = m.Activity(section_id=section.id, competency_id=child.id, title="Watch", url="https://example.org/v",
                          kind="watch", minutes=5, band="beyond", for_home=True, interest_tags="music, art",
                          created_by=teacher.id, deleted_at=datetime(2026, 11, 1, 7, 0, 0, 5))
    way = m.WayToShow(section_id=section.id, competency_id=child.id, title="Video", description="Film it")
    session.add_all([unit, activity, way])
    session.flush()
    session.add_all([
        m.PathUnitStandard(unit_id=unit.id, competency_id=child.id, position=0),
        m.ActivityAssignment(activity_id=activity.id, student_id=student.id, assigned_by=teacher.id, note="Try it"),
        m.ActivityChoice(activity_id=activity.id, student_id=student.id, status="done", reflection="Fun"),
        m.ReadyToShow(section_id=section.id, student_id=student.id, competency_id=child.id, way_id=way.id,
                      note="My film", portfolio_entry_id=entry.id, status="scored", evidence_id=evidence.id,
                      closed_by=teacher.id, closed_at=datetime(2026, 11, 2, 10)),
        m.PathAdjustment(section_id=section.id, student_id=student.id, kind="target_date", unit_id=unit.id,
                         target_on=date(2026, 10, 15), reason="Absent", created_by=teacher.id),
    ])
    if empty(m.PathFocus):
        session.add(m.PathFocus(section_id=section.id, student_id=student.id, competency_id=child.id))


# ---------------------------------------------------------------- identity across databases


@pytest.fixture(scope="module")
def demo_backups(scratch: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """`demo_backups(dialect)` → (backup file, counts, portable rows) of the demo school seeded there."""
    made: dict[str, tuple[Path, dict[str, int], dict]] = {}

    def _get(kind: str) -> tuple[Path, dict[str, int], dict]:
        if kind not in made:
            use_fast_hashing()
            path = tmp_path_factory.mktemp("backup") / f"demo-{kind}.zip"
            with migrated(scratch(kind)):
                seed_demo(db.session)
                db.session.flush()
                _fill_every_table(db.session)
                db.session.commit()
                counts = backup(db.session, path)
                db.session.rollback()
                made[kind] = (path, counts, portable_tables(db.session))
        return made[kind]

    return _get


@pytest.mark.xdist_group("backup_demo")  # under pytest-xdist, on one worker: the demo is seeded once per kind
@pytest.mark.parametrize(("source", "target"), [
    ("sqlite", "sqlite"), ("sqlite", "postgresql"), ("postgresql", "sqlite"),
])
def test_restoring_the_demo_school_gives_back_identical_data(source: str, target: str, demo_backups,  # type: ignore[no-untyped-def]
                                                             scratch: Callable[[str], str]) -> None:
    path, counts, expected = demo_backups(source)
    empty = [table for table, n in counts.items() if not n]
    assert empty == [], f"add rows for {empty} to _fill_every_table, so their restore is checked too"

    with migrated(scratch(target)):
        assert restore(db.session, path) == counts
        db.session.commit()
        restored = portable_tables(db.session)
        db.session.rollback()
        assert [t for t in expected if restored[t] != expected[t]] == []

        # Sequences were moved past the restored ids: new rows get fresh ones.
        before = max(row["id"] for row in expected["users"])
        user = User(email="new@example.org", name="New Person", role="teacher", session_token="t")
        db.session.add(user)
        db.session.commit()
        assert user.id == before + 1


def test_a_backup_lists_its_revision_and_counts_and_writes_portable_values(app: Flask) -> None:
    world = make_section(students=1)
    observed_on = date.today() - timedelta(days=2)
    record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                    competency_id=world.standards[0].id, value=CellValue("scored", 3.5),
                    observed_on=observed_on, assessment=make_assessment(world))
    db.session.commit()
    buffer = io.BytesIO()
    counts = backup(db.session, buffer)
    db.session.rollback()

    archive = zipfile.ZipFile(buffer)
    manifest = json.loads(archive.read(MANIFEST))
    assert (manifest["format"], manifest["format_version"], manifest["counts"]) == ("gradebook-backup", 1, counts)
    assert manifest["alembic_revision"] == db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    evidence = json.loads(archive.read("tables/evidence.jsonl").splitlines()[0])
    assert (evidence["score"], evidence["is_reassessment"], evidence["observed_on"]) == (3.5, False, observed_on.isoformat())
    revision = json.loads(archive.read("tables/evidence_revisions.jsonl").splitlines()[0])
    assert revision["new"]["score"] == 3.5
    ids = [json.loads(line)["id"] for line in archive.read("tables/users.jsonl").splitlines()]
    assert ids == sorted(ids) and len(ids) == counts["users"]


# ---------------------------------------------------------------- refusals


def _small_school_backup() -> bytes:
    world = make_section(students=3)
    for student in world.students:
        record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                        competency_id=world.standards[0].id, value=CellValue("scored", 2.0),
                        observed_on=date.today() - timedelta(days=1), assessment=make_assessment(world),
                        feedback="Good start.")
    db.session.commit()
    buffer = io.BytesIO()
    backup(db.session, buffer)
    db.session.rollback()
    return buffer.getvalue()


def _rewrite(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return out.getvalue()


def _manifest(**changes: object) -> Callable[[bytes], bytes]:
    return lambda raw: json.dumps({**json.loads(raw), **changes}).encode()


def _last_row(field: str, value: object) -> Callable[[bytes], bytes]:
    def change(raw: bytes) -> bytes:
        lines = raw.decode().splitlines()
        row = json.loads(lines[-1])
        row[field] = value
        return ("\n".join([*lines[:-1], json.dumps(row)]) + "\n").encode()

    return change


def _flip_a_byte(data: bytes) -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo("tables/evidence.jsonl")
    at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


CORRUPTIONS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "truncated zip": (lambda data: data[: len(data) // 2], "not a zip file, or it is truncated"),
    "not a zip": (lambda data: b"id,name\n1,Ann\n", "not a gradebook backup"),
    "zip without manifest": (lambda data: _zip_of({"notes.txt": b"hi"}), "has no manifest.json"),
    "wrong format version": (lambda data: _rewrite(data, MANIFEST, _manifest(format_version=99)),
                             "format version 99"),
    "other format": (lambda data: _rewrite(data, MANIFEST, _manifest(format="something-else")),
                     "not a gradebook backup"),
    "other revision": (lambda data: _rewrite(data, MANIFEST, _manifest(alembic_revision="0123456789ab")),
                       "database revision 0123456789ab"),
    "flipped byte": (_flip_a_byte, "The backup is corrupt"),
    "bad value late in the file": (lambda data: _rewrite(data, "tables/evidence_revisions.jsonl",
                                                         _last_row("changed_at", "yesterday")),
                                   "evidence_revisions.jsonl line 3: 'yesterday' is not a valid datetime"),
    "dangling reference": (lambda data: _rewrite(data, "tables/evidence.jsonl", _last_row("student_id", 999999)),
                           "evidence does not fit the database"),
    "missing column": (lambda data: _rewrite(data, "tables/users.jsonl",
                                             lambda raw: raw.replace(b'"grade_level":null,', b"")),
                       "does not have exactly the table's columns"),
}


def _zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def _table_counts() -> dict[str, int]:
    return {name: len(rows) for name, rows in portable_tables(db.session).items()}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_restore_refuses_a_bad_file_with_a_clear_message_and_writes_nothing(app: Flask, corruption: str) -> None:
    good = _small_school_backup()
    _empty_tables()
    change, message = CORRUPTIONS[corruption]

    with pytest.raises(ServiceError, match=re.escape(message)):
        restore(db.session, io.BytesIO(change(good)))
    assert set(_table_counts().values()) == {0}

    # The session is still usable, and the good file restores.
    assert sum(restore(db.session, io.BytesIO(good)).values()) > 0
    db.session.commit()


# A SQLite school could keep a NUL or an over-long text (before the models checked them); PostgreSQL takes
# neither. The restore names what it cannot take, so the school can be repaired, instead of calling it corrupt.
UNSTORABLE: dict[str, tuple[str, str, object, str]] = {
    "NUL in a name": ("users", "name", "Student\u0000One", "field name contains a NUL character"),
    "over-long scale label": ("scale_levels", "label", "L" * 10_000,
                              "field label is 10,000 characters long; at most 60 fit"),
}


@pytest.mark.parametrize("case", list(UNSTORABLE))
def test_restore_names_the_table_row_and_field_it_cannot_take(app: Flask, case: str) -> None:
    table, field, value, message = UNSTORABLE[case]
    good = _small_school_backup()
    _empty_tables()
    bad = _rewrite(good, f"tables/{table}.jsonl", _last_row(field, value))

    with pytest.raises(ServiceError) as refused:
        restore(db.session, io.BytesIO(bad))
    assert (f"table {table}, row" in refused.value.message, message in refused.value.message,
            "corrupt" in refused.value.message) == (True, True, False), refused.value.message
    assert set(_table_counts().values()) == {0}


def test_restore_refuses_a_database_that_has_data(app: Flask) -> None:
    data = _small_school_backup()
    before = portable_tables(db.session)
    db.session.rollback()

    with pytest.raises(ServiceError, match=r"only into an empty database, and this one has data: .*users"):
        restore(db.session, io.BytesIO(data))
    db.session.rollback()
    assert portable_tables(db.session) == before


def test_restore_refuses_a_database_at_another_revision(app: Flask, tmp_path: Path) -> None:
    data = _small_school_backup()
    empty = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'blank.sqlite'}", "TESTING": True})
    with empty.app_context():
        with pytest.raises(ServiceError, match=r"this database is at none \(no schema yet\).*flask db upgrade"):
            restore(db.session, io.BytesIO(data))
        db.session.remove()
        db.engine.dispose()


def test_restore_says_when_the_file_does_not_exist(app: Flask, tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="no such file"):
        restore(db.session, tmp_path / "nothing.zip")


# ---------------------------------------------------------------- the commands


@pytest.fixture
def commands(app: Flask):  # type: ignore[no-untyped-def]
    group = AppGroup("throwaway")
    register(group)
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(group, list(args))


def test_backup_and_restore_commands_round_trip(app: Flask, commands, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _small_school_backup()
    expected = portable_tables(db.session)
    db.session.rollback()
    path = tmp_path / "school.zip"

    result = commands("backup", str(path))
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and path.exists()
    again = commands("backup", str(path))
    assert again.exit_code == 1 and "already exists" in again.output
    assert commands("backup", str(path), "--force").exit_code == 0

    _empty_tables()
    result = commands("restore", str(path))
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert portable_tables(db.session) == expected


def test_restore_command_refuses_a_database_with_data(app: Flask, commands, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "school.zip"
    path.write_bytes(_small_school_backup())

    result = commands("restore", str(path))
    assert result.exit_code == 1
    assert "Restore goes only into an empty database" in result.output


def test_restore_command_refuses_a_file_that_is_not_a_backup(app: Flask, commands, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "notes.txt"
    path.write_text("hello")

    result = commands("restore", str(path))
    assert result.exit_code == 1
    assert "is not a gradebook backup" in result.output
