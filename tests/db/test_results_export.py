"""Results out to the SIS: a section's current levels as OneRoster 1.2 Gradebook CSV (valid against the 1.2
column lists, re-read by our parser to the same levels) and as CASE-aligned JSON."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.interop import results_export
from gradebook.interop.case_import import import_case
from gradebook.models import AuditEvent, Competency, SectionStandard
from gradebook.services import gradebook as read
from tests.builders import make_evidence, make_section
from tests.db.test_case_import import encode, science_package

# The OneRoster 1.2 CSV tables (1EdTech, OneRoster v1.2 CSV binding), written out here on purpose: a test
# that compared the export with the module's own constants would prove nothing.
ONEROSTER_12 = {
    "categories.csv": (["sourcedId", "status", "dateLastModified", "title", "weight"],
                       {"sourcedId", "status", "dateLastModified", "title"}),
    "lineItems.csv": (["sourcedId", "status", "dateLastModified", "title", "description", "assignDate", "dueDate",
                       "classSourcedId", "schoolSourcedId", "categorySourcedId", "gradingPeriodSourcedId",
                       "academicSessionSourcedId", "scoreScaleSourcedId", "resultValueMin", "resultValueMax"],
                      {"sourcedId", "status", "dateLastModified", "title", "assignDate", "dueDate", "classSourcedId",
                       "schoolSourcedId", "categorySourcedId", "resultValueMin", "resultValueMax"}),
    "results.csv": (["sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId",
                     "classSourcedId", "scoreScaleSourcedId", "scoreStatus", "score", "textScore", "scoreDate",
                     "comment", "inProgress", "incomplete", "late", "missing"],
                    {"sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId",
                     "scoreStatus", "scoreDate"}),
}


def _world():  # type: ignore[no-untyped-def]
    world = make_section(students=3, standards=3)
    for student, scores in zip(world.students, ((4, 3), (2, 2), (3, 1)), strict=True):
        for standard, score in zip(world.standards, scores, strict=False):
            make_evidence(world, student, standard, score=score)
    return world


def _levels_in_the_grid(world) -> dict[tuple[str, str], tuple[float, str]]:  # type: ignore[no-untyped-def]
    book = read.load_gradebook(db.session, world.section)
    return {(s.sourced_id or f"gradebook-user-{s.id}", c.code): (book.cell(s.id, c.id).level.points,
                                                                  book.cell(s.id, c.id).level.label)
            for s in book.students for c in book.standards if book.cell(s.id, c.id).level}


def test_the_oneroster_gradebook_export_has_the_12_columns_and_every_required_field(app: Flask) -> None:
    world = _world()
    archive = zipfile.ZipFile(io.BytesIO(results_export.oneroster_results_zip(db.session, world.section)))

    assert sorted(archive.namelist()) == ["categories.csv", "lineItems.csv", "manifest.csv", "results.csv"]
    manifest = dict(csv.reader(io.StringIO(archive.read("manifest.csv").decode())))
    assert (manifest["oneroster.version"], manifest["file.lineItems"], manifest["file.results"],
            manifest["file.categories"], manifest["file.users"]) == ("1.2", "bulk", "bulk", "bulk", "absent")
    for name, (columns, required) in ONEROSTER_12.items():
        rows = list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        assert list(rows[0]) == columns, name
        for row in rows:
            assert all(row[column] for column in required), (name, row)
    line_items = list(csv.DictReader(io.StringIO(archive.read("lineItems.csv").decode())))
    results = list(csv.DictReader(io.StringIO(archive.read("results.csv").decode())))
    standards = [li for li in line_items if li["title"] != "Term grade"]
    term_grade = [li["sourcedId"] for li in line_items if li["title"] == "Term grade"]
    assert len(standards) == 3 and len(term_grade) == 1
    assert len([r for r in results if r["lineItemSourcedId"] not in term_grade]) == 6
    assert len([r for r in results if r["lineItemSourcedId"] in term_grade]) == 3  # one term grade per student
    assert {r["lineItemSourcedId"] for r in results} <= {li["sourcedId"] for li in line_items}
    assert {r["scoreStatus"] for r in results} == {"fully graded"}
    assert (line_items[0]["resultValueMin"], line_items[0]["resultValueMax"]) == ("1", "4")


def test_our_oneroster_export_read_back_gives_the_same_levels(app: Flask) -> None:
    world = _world()

    again = results_export.read_oneroster_results(results_export.oneroster_results_zip(db.session, world.section))

    assert again == _levels_in_the_grid(world) and len(again) == 6


def test_the_case_json_names_each_standard_by_its_case_identifier(app: Flask) -> None:
    world = make_section(students=2, standards=1)
    import_case(db.session, encode(science_package()), actor=None)
    standard = db.session.scalars(select(Competency).where(Competency.identifier == "sci-s1")).one()
    db.session.add(SectionStandard(section_id=world.section.id, competency_id=standard.id, position=5))
    db.session.commit()
    make_evidence(world, world.students[0], standard, score=3)

    document = json.loads(results_export.case_results_json(db.session, world.section))

    result = next(r for r in document["results"] if r["CFItemIdentifier"] == "sci-s1")
    assert (result["humanCodingScheme"], result["points"], result["level"], result["teacherJudgement"]) == (
        "SCI.1.A.1", 3.0, result["level"], False)
    assert {"CFDocumentIdentifier": "doc-science-7", "title": "Science 7", "version": "1.0"} in document["frameworks"]
    assert any(s["CFItemIdentifier"] == "sci-s1" for s in document["standards"])


def test_the_section_page_links_both_exports_and_they_are_audited(app: Flask, client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                   login_as) -> None:
    world = _world()
    login_as(world.teacher)

    grid = client.get(f"/sections/{world.section.id}").get_data(as_text=True)
    zipped = client.get(f"/sections/{world.section.id}/export-oneroster.zip")
    as_json = client.get(f"/sections/{world.section.id}/export-case.json")

    assert "export-oneroster.zip" in grid and "export-case.json" in grid
    assert (zipped.status_code, zipped.mimetype, as_json.status_code, as_json.mimetype) == (
        200, "application/zip", 200, "application/json")
    assert results_export.read_oneroster_results(zipped.data) == _levels_in_the_grid(world)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"view.section_results_oneroster", "view.section_results_case"} <= actions


def test_the_oneroster_export_carries_each_students_term_grade_and_why(app: Flask) -> None:
    world = _world()  # levels (4, 3, -), (2, 2, -), (3, 1, -): one standard of three has no level
    world.students[0].name = "Maya Lopez"
    db.session.commit()

    grades = results_export.read_oneroster_term_grades(
        results_export.oneroster_results_zip(db.session, world.section))

    sid = {s.id: s.sourced_id or f"gradebook-user-{s.id}" for s in world.students}
    assert {sid[s.id]: grade for s, (grade, _why) in zip(world.students, grades.values(), strict=True)} == \
        {sid[world.students[0].id]: "D", sid[world.students[1].id]: "I", sid[world.students[2].id]: "I"}
    grade, why = grades[sid[world.students[0].id]]
    assert why.startswith("Maya's grade is D because 2 of 3 skills are at Meets or above.")
