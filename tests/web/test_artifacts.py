"""Uploads: checked by content and size, stored outside static/, served only to those allowed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import Artifact, GuardianLink, PortfolioEntry
from gradebook.services import ServiceError
from gradebook.services.artifacts import Upload, store_upload
from tests.builders import make_section, make_user
from tests.web.test_access import PNG

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _store(app: Flask, world, data: bytes, name: str = "work.png", **kwargs) -> Artifact:  # type: ignore[no-untyped-def]
    artifact = store_upload(db.session, Upload(name, io.BytesIO(data)), folder=app.config["UPLOAD_FOLDER"],
                            owner_student_id=world.students[0].id, uploaded_by=world.teacher, **kwargs)
    db.session.commit()
    return artifact


def test_a_photo_is_stored_outside_static_under_a_random_name(app: Flask) -> None:
    world = make_section(students=1)
    artifact = _store(app, world, PNG, "my photo.png")
    path = Path(app.config["UPLOAD_FOLDER"]) / artifact.stored_name
    assert path.read_bytes() == PNG
    assert "static" not in str(path.parent)
    assert artifact.stored_name != "my photo.png" and artifact.content_type == "image/png"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("virus.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "not accepted"),
        ("script.png", b"#!/bin/sh\nrm -rf /\n", "not accepted"),
        ("empty.pdf", b"", "empty"),
        ("", PNG, "Choose a file"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_written(app: Flask, name: str, data: bytes,
                                                                         message: str) -> None:
    world = make_section(students=1)
    with pytest.raises(ServiceError, match=message):
        _store(app, world, data, name)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Artifact)) == 0


def test_a_file_over_the_size_limit_is_refused(app: Flask) -> None:
    world = make_section(students=1)
    with pytest.raises(ServiceError, match="larger than"):
        store_upload(db.session, Upload("big.pdf", io.BytesIO(PDF + b"0" * (50 * 1024 * 1024))),
                     folder=app.config["UPLOAD_FOLDER"], owner_student_id=world.students[0].id,
                     uploaded_by=world.teacher)
    assert db.session.scalar(select(func.count()).select_from(Artifact)) == 0


def test_a_pdf_is_served_as_a_download_and_a_photo_inline(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    pdf, png = _store(app, world, PDF, "essay.pdf"), _store(app, world, PNG)
    login_as(world.teacher)
    download = client.get(f"/artifacts/{pdf.id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"/artifacts/{png.id}").headers["Content-Disposition"].startswith("inline")


def test_another_family_gets_404_for_an_artifact(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    artifact = _store(app, world, PNG)
    login_as(make_user("guardian"))
    assert client.get(f"/artifacts/{artifact.id}").status_code == 404


def test_a_guardian_cannot_fetch_a_file_from_a_private_entry(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    guardian = make_user("guardian")
    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=world.students[0].id))
    entry = PortfolioEntry(student_id=world.students[0].id, title="Diary", visibility="private")
    db.session.add(entry)
    db.session.commit()
    artifact = _store(app, world, PNG, portfolio_entry_id=entry.id)
    login_as(guardian)
    assert client.get(f"/artifacts/{artifact.id}").status_code == 404


def test_a_teacher_attaches_a_photo_to_evidence_from_the_cell_detail(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from gradebook.services.evidence import CellValue, record_evidence

    world = make_section(students=1, standards=1)
    evidence = record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                               competency_id=world.standards[0].id, value=CellValue("scored", 3.0),
                               observed_on=date(2026, 10, 1))
    db.session.commit()
    login_as(world.teacher)
    response = client.post(f"/sections/{world.section.id}/evidence/{evidence.id}/artifacts",
                           data={"file": (io.BytesIO(PNG), "lab.png")}, content_type="multipart/form-data")
    assert response.status_code == 303
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "lab.png" in detail


def test_an_executable_renamed_pdf_is_refused_from_the_cell_detail(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from gradebook.services.evidence import CellValue, record_evidence

    world = make_section(students=1, standards=1)
    evidence = record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                               competency_id=world.standards[0].id, value=CellValue("scored", 3.0),
                               observed_on=date(2026, 10, 1))
    db.session.commit()
    login_as(world.teacher)
    response = client.post(f"/sections/{world.section.id}/evidence/{evidence.id}/artifacts",
                           data={"file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 100), "report.pdf")},
                           content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "not accepted" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Artifact)) == 0


def test_a_50_mb_upload_is_refused_with_a_clear_message(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from gradebook.services.evidence import CellValue, record_evidence

    world = make_section(students=1, standards=1)
    evidence = record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                               competency_id=world.standards[0].id, value=CellValue("scored", 3.0),
                               observed_on=date(2026, 10, 1))
    db.session.commit()
    login_as(world.teacher)
    response = client.post(f"/sections/{world.section.id}/evidence/{evidence.id}/artifacts",
                           data={"file": (io.BytesIO(PDF + b"0" * (50 * 1024 * 1024)), "big.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert b"too large" in response.data
