"""Exports: the whole school as a zip of JSON and CSV; a student's record as one HTML document to keep."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta

from flask import Flask

from gradebook.extensions import db
from gradebook.interop.export import school_zip, student_record
from gradebook.models import Base, PortfolioEntry
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import SectionWorld, make_assessment, make_section


def _evidence(world: SectionWorld, feedback: str, score: float = 3.0, student: int = 0) -> None:
    record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[student].id,
                    competency_id=world.standards[0].id, value=CellValue("scored", score),
                    observed_on=date.today() - timedelta(days=3), assessment=make_assessment(world),
                    feedback=feedback)
    db.session.commit()


def _open(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _csv_rows(archive: zipfile.ZipFile, table: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(archive.read(f"csv/{table}.csv").decode("utf-8-sig"))))


def test_school_zip_has_a_json_and_a_csv_file_for_every_table(app: Flask) -> None:
    world = make_section(students=2)
    _evidence(world, "Clear reasoning.")

    archive = _open(school_zip(db.session))

    names = set(archive.namelist())
    for table in Base.metadata.tables:
        assert {f"json/{table}.json", f"csv/{table}.csv"} <= names, table
    revisions = json.loads(archive.read("json/evidence_revisions.json"))
    assert [r["new"]["feedback"] for r in revisions] == ["Clear reasoning."]
    header, *rows = _csv_rows(archive, "evidence_revisions")
    assert header[:3] == ["id", "evidence_id", "action"] and len(rows) == 1


def test_school_zip_csv_and_json_agree_row_for_row(app: Flask) -> None:
    make_section(students=3)

    archive = _open(school_zip(db.session))

    users = json.loads(archive.read("json/users.json"))
    header, *rows = _csv_rows(archive, "users")
    assert [dict(zip(header, row, strict=True))["email"] for row in rows] == [u["email"] for u in users]
    assert json.loads(archive.read("manifest.json"))["tables"]["users"] == len(users) == 4


def test_school_zip_leaves_out_password_hashes_and_tokens(app: Flask) -> None:
    make_section(students=1)

    archive = _open(school_zip(db.session))

    users = json.loads(archive.read("json/users.json"))
    assert not {"password_hash", "session_token"} & set(users[0])
    assert "password_hash" not in _csv_rows(archive, "users")[0]
    assert b"$argon2" not in b"".join(archive.read(name) for name in archive.namelist())


def test_school_zip_csv_keeps_spreadsheets_from_running_text_as_formulas(app: Flask) -> None:
    world = make_section(students=1)
    _evidence(world, '=HYPERLINK("http://evil.example","click")')

    archive = _open(school_zip(db.session))

    header, row = _csv_rows(archive, "evidence")
    assert dict(zip(header, row, strict=True))["feedback"] == '\'=HYPERLINK("http://evil.example","click")'
    assert json.loads(archive.read("json/evidence.json"))[0]["feedback"].startswith("=HYPERLINK")


def test_student_record_is_one_document_with_the_students_name_and_feedback(app: Flask) -> None:
    world = make_section(students=2)
    _evidence(world, "You explained the pattern clearly; next, test it on a new table.")
    _evidence(world, "Feedback for someone else.", student=1)
    student = world.students[0]

    html = student_record(db.session, student)

    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert student.name in html and world.section.name in html
    assert "You explained the pattern clearly; next, test it on a new table." in html
    assert "Feedback for someone else." not in html
    assert world.standards[0].statement in html


def test_student_record_escapes_what_people_typed(app: Flask) -> None:
    world = make_section(students=1)
    _evidence(world, "<script>alert('hi')</script> & <b>bold</b>")

    html = student_record(db.session, world.students[0])

    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_student_record_needs_nothing_from_outside(app: Flask) -> None:
    world = make_section(students=1)
    _evidence(world, "Good.")

    html = student_record(db.session, world.students[0]).lower()

    for outside in ("<script", "<link", "src=", "http://", "https://", "@import", "url("):
        assert outside not in html, outside


def test_student_record_shows_only_the_entries_shared_with_family(app: Flask) -> None:
    world = make_section(students=1)
    student = world.students[0]
    db.session.add_all([
        PortfolioEntry(student_id=student.id, title="Shared bridge model", visibility="family"),
        PortfolioEntry(student_id=student.id, title="Private draft", visibility="private"),
        PortfolioEntry(student_id=student.id, title="For teachers only", visibility="teachers"),
    ])
    db.session.commit()

    html = student_record(db.session, student)

    assert "Shared bridge model" in html
    assert "Private draft" not in html and "For teachers only" not in html


def test_a_schools_export_has_a_rule_for_every_table() -> None:
    """A new table must say which of its rows are a school's, or a school's export would leave it out (or,
    worse, the table's every row would need a rule written later): `school_rows` names every table."""
    from gradebook.interop.export import school_rows

    assert set(school_rows([1])) == set(Base.metadata.tables)
