"""Backups hold every uploaded file: restore gives back byte-identical files (hashes compared) across SQLite
and PostgreSQL both ways; a damaged file or a clash in the upload folder is refused with nothing restored;
the school export carries the files too; and a backup streams (memory does not grow with rows or files)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import insert, select

from gradebook.extensions import db
from gradebook.interop.backup import FILES_INDEX, MANIFEST, backup, portable_tables, restore
from gradebook.interop.export import school_zip
from gradebook.models import Artifact, AuditEvent, PortfolioEntry
from gradebook.services import ServiceError
from gradebook.services.accounts import use_fast_hashing
from gradebook.services.artifacts import Upload, store_upload
from tests.builders import make_evidence, make_section
from tests.db.test_backup import migrated, scratch  # noqa: F401  (scratch is a fixture)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")


def _file(size: int, seed: int) -> bytes:
    """A file the upload check takes for a PNG, of `size` bytes that differ from file to file."""
    block = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return (PNG + block)[:size]


def _school_with_files(folder: Path, sizes: tuple[int, ...] = (100, 70_000, 3 * 1024 * 1024 + 7)) -> None:
    """A section with evidence attachments and a portfolio file, written through the upload service."""
    world = make_section(students=2, standards=1)
    evidence = make_evidence(world, world.students[0], world.standards[0])
    entry = PortfolioEntry(student_id=world.students[1].id, title="My bridge", visibility="family")
    db.session.add(entry)
    db.session.flush()
    for number, size in enumerate(sizes):
        store_upload(db.session, Upload(f"work-{number}.png", io.BytesIO(_file(size, number))), folder=str(folder),
                     owner_student_id=world.students[0].id, uploaded_by=world.teacher, evidence_id=evidence.id)
    store_upload(db.session, Upload("bridge.png", io.BytesIO(_file(5000, 99))), folder=str(folder),
                 owner_student_id=world.students[1].id, uploaded_by=world.students[1], portfolio_entry_id=entry.id)
    db.session.commit()


def _hashes(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir() if path.is_file()}


@pytest.mark.parametrize(("source", "target"), [
    ("sqlite", "postgresql"), ("postgresql", "sqlite"), ("sqlite", "sqlite"),
])
def test_a_restored_school_has_identical_rows_and_byte_identical_files(
        source: str, target: str, scratch: Callable[[str], str], tmp_path: Path) -> None:  # noqa: F811
    use_fast_hashing()
    uploads, restored_uploads, path = tmp_path / "uploads", tmp_path / "restored", tmp_path / "backup.zip"
    with migrated(scratch(source)):
        _school_with_files(uploads)
        counts = backup(db.session, path, files_folder=uploads)
        db.session.rollback()
        expected = portable_tables(db.session)
        stored = {a.stored_name: a.sha256 for a in db.session.scalars(select(Artifact))}
        db.session.rollback()
    assert (counts.files, counts.missing) == (4, [])
    assert counts.file_bytes == sum(p.stat().st_size for p in uploads.iterdir())

    with migrated(scratch(target)):
        assert restore(db.session, path, files_folder=restored_uploads) == counts
        db.session.commit()
        assert [t for t, rows in portable_tables(db.session).items() if rows != expected[t]] == []
        db.session.rollback()
    assert _hashes(restored_uploads) == _hashes(uploads) == stored
    for name in stored:
        assert (restored_uploads / name).read_bytes() == (uploads / name).read_bytes()


def _backup_of_a_school(app: Flask, tmp_path: Path) -> tuple[Path, Path]:
    uploads = Path(app.config["UPLOAD_FOLDER"])
    _school_with_files(uploads, sizes=(2000, 3000))
    path = tmp_path / "backup.zip"
    backup(db.session, path, files_folder=uploads)
    db.session.rollback()
    from tests.conftest import _empty_tables

    _empty_tables()
    return path, uploads


def _rewrite(path: Path, change: Callable[[str, bytes], bytes]) -> Path:
    out = path.with_name("changed.zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info)))
    return out


def test_a_damaged_file_in_the_backup_is_refused_and_nothing_is_restored(app: Flask, tmp_path: Path) -> None:
    path, _uploads = _backup_of_a_school(app, tmp_path)
    index = [json.loads(line) for line in zipfile.ZipFile(path).read(FILES_INDEX).splitlines()]
    damaged = index[1]["file"]
    changed = _rewrite(path, lambda name, data: data[:-1] + b"!" if name == damaged else data)
    target = tmp_path / "restored"

    with pytest.raises(ServiceError, match="does not match its SHA-256"):
        restore(db.session, changed, files_folder=target)
    db.session.rollback()
    assert db.session.scalars(select(Artifact)).all() == []
    assert not target.exists() or list(target.iterdir()) == []


def test_restore_will_not_overwrite_a_different_file_in_the_upload_folder(app: Flask, tmp_path: Path) -> None:
    path, _uploads = _backup_of_a_school(app, tmp_path)
    first = json.loads(zipfile.ZipFile(path).read(FILES_INDEX).splitlines()[-1])
    target = tmp_path / "restored"
    target.mkdir()
    (target / first["stored_name"]).write_bytes(b"someone else's file")

    with pytest.raises(ServiceError, match="already has a different file"):
        restore(db.session, path, files_folder=target)
    db.session.rollback()
    assert [p.name for p in target.iterdir()] == [first["stored_name"]]
    assert db.session.scalars(select(Artifact)).all() == []


def test_a_backup_with_files_needs_the_upload_folder_to_restore(app: Flask, tmp_path: Path) -> None:
    path, _uploads = _backup_of_a_school(app, tmp_path)
    with pytest.raises(ServiceError, match="holds 3 uploaded files"):
        restore(db.session, path)


def test_a_file_missing_from_the_upload_folder_is_reported_and_the_rest_is_backed_up(app: Flask,
                                                                                    tmp_path: Path) -> None:
    uploads = Path(app.config["UPLOAD_FOLDER"])
    _school_with_files(uploads, sizes=(2000, 3000))
    gone = db.session.scalars(select(Artifact).order_by(Artifact.id)).first()
    (uploads / gone.stored_name).unlink()
    counts = backup(db.session, tmp_path / "backup.zip", files_folder=uploads)
    db.session.rollback()
    manifest = json.loads(zipfile.ZipFile(tmp_path / "backup.zip").read(MANIFEST))
    assert (counts.files, manifest["files"]["count"], manifest["files"]["missing"]) == (2, 2, 1)
    assert counts.missing == [f"{gone.stored_name} (artifact {gone.id}): not in the upload folder"]


def test_the_school_export_carries_every_uploaded_file(app: Flask) -> None:
    uploads = Path(app.config["UPLOAD_FOLDER"])
    _school_with_files(uploads, sizes=(2000,))
    archive = zipfile.ZipFile(io.BytesIO(school_zip(db.session, files_folder=str(uploads))))
    manifest = json.loads(archive.read("manifest.json"))
    artifacts = db.session.scalars(select(Artifact)).all()
    assert manifest["files"]["count"] == len(artifacts) == 2
    for artifact in artifacts:
        assert hashlib.sha256(archive.read(f"files/{artifact.stored_name}")).hexdigest() == artifact.sha256
    assert "artifacts table" in manifest["files"]["note"]


def _peak_of_backup(folder: Path, files: int, rows: int, tmp_path: Path) -> int:
    """The peak of Python memory while backing up, after adding `files` 256 KB files and `rows` audit rows."""
    from tests.builders import make_user

    owner, uploader = make_user("student"), make_user("teacher")
    existing = db.session.scalar(select(db.func.count()).select_from(Artifact)) or 0
    for number in range(existing, existing + files):
        data = _file(256 * 1024, number)
        name = f"{number:032x}.png"
        (folder / name).write_bytes(data)
        db.session.add(Artifact(owner_student_id=owner.id, uploaded_by_id=uploader.id, original_name="x.png",
                                stored_name=name, content_type="image/png", size=len(data),
                                sha256=hashlib.sha256(data).hexdigest()))
    db.session.execute(insert(AuditEvent), [{"actor_id": uploader.id, "action": "view.record",
                                             "detail": {"note": "x" * 200}} for _ in range(rows)])
    db.session.commit()
    tracemalloc.start()
    try:
        backup(db.session, tmp_path / f"backup-{files}.zip", files_folder=folder)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        db.session.rollback()


def test_a_backup_streams_memory_does_not_grow_with_rows_or_files(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    small = _peak_of_backup(folder, files=5, rows=3_000, tmp_path=tmp_path)
    large = _peak_of_backup(folder, files=35, rows=27_000, tmp_path=tmp_path)
    # Seven times the files (9 MB in all) and nine times the rows: the peak stays where it was.
    assert large < small + 2 * 1024 * 1024, (small, large)
    assert os.path.getsize(tmp_path / "backup-35.zip") > 8 * 1024 * 1024


def test_the_backup_and_restore_commands_carry_the_files(app: Flask, tmp_path: Path) -> None:
    from flask.cli import AppGroup

    from gradebook.interop.cli_backup import register
    from tests.conftest import _empty_tables

    group = AppGroup("throwaway")
    register(group)
    runner = app.test_cli_runner()
    uploads = Path(app.config["UPLOAD_FOLDER"])
    _school_with_files(uploads, sizes=(1500, 2500))
    stored = {a.stored_name: a.sha256 for a in db.session.scalars(select(Artifact))}
    db.session.rollback()

    result = runner.invoke(group, ["backup", str(tmp_path / "school.zip")])
    assert result.exit_code == 0 and "and 3 files" in result.output, result.output
    _empty_tables()
    for name in stored:
        (uploads / name).unlink()

    result = runner.invoke(group, ["restore", str(tmp_path / "school.zip")])
    assert result.exit_code == 0, result.output
    assert {name: hashlib.sha256((uploads / name).read_bytes()).hexdigest() for name in stored} == stored
