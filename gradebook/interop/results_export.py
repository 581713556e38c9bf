"""Results out to the SIS: a section's current levels per student and standard.

Two formats:

- **OneRoster 1.2 Gradebook CSV**, the zip a SIS gradebook import takes: `manifest.csv`, `categories.csv`
  (one category, the standards' current levels), `lineItems.csv` (one line item per standard of the section)
  and `results.csv` (one result per student and standard that has a level: the level's points as `score`,
  its label as `textScore`). Columns are the OneRoster 1.2 CSV lists, in their order; every required field
  is filled. Records without a SIS `sourcedId` of their own get a stable one made from our ids.
  The section's **term grade** by the school's published grade bridge rides along: a second category
  (`Term grade`), one line item for the section, one result per student with the grade as `textScore`, its
  place on the table as `score` (0 for the lowest grade, one more for each above it) and the explanation as
  `comment`. `read_oneroster_term_grades` reads them back.
- **CASE-aligned JSON**: the same levels, each standard named by its CASE identifier (from the CASE import)
  and its human coding scheme, so another system can match them to its own copy of the framework.

`read_oneroster_results` reads such a zip back (the round-trip test holds the two to each other).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook.interop import csv_safe
from gradebook.models import Framework, School, Section, Term
from gradebook.services import ServiceError
from gradebook.services import gradebook as read
from gradebook.services.term_grades import preview_bridge, section_term_grades, stored_bridge

# OneRoster 1.2 CSV: the columns of each Gradebook file, in order, and which of them are required.
CATEGORIES_COLUMNS = ("sourcedId", "status", "dateLastModified", "title", "weight")
CATEGORIES_REQUIRED = ("sourcedId", "status", "dateLastModified", "title")
LINE_ITEMS_COLUMNS = ("sourcedId", "status", "dateLastModified", "title", "description", "assignDate", "dueDate",
                      "classSourcedId", "schoolSourcedId", "categorySourcedId", "gradingPeriodSourcedId",
                      "academicSessionSourcedId", "scoreScaleSourcedId", "resultValueMin", "resultValueMax")
LINE_ITEMS_REQUIRED = ("sourcedId", "status", "dateLastModified", "title", "assignDate", "dueDate",
                       "classSourcedId", "schoolSourcedId", "categorySourcedId", "resultValueMin", "resultValueMax")
RESULTS_COLUMNS = ("sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId",
                   "classSourcedId", "scoreScaleSourcedId", "scoreStatus", "score", "textScore", "scoreDate",
                   "comment", "inProgress", "incomplete", "late", "missing")
RESULTS_REQUIRED = ("sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId",
                    "scoreStatus", "scoreDate")
SCORE_STATUSES = ("exempt", "fully graded", "not submitted", "partially graded", "submitted")
MANIFEST_FILES = ("academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
                  "demographics", "enrollments", "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales",
                  "orgs", "resources", "resultLearningObjectiveIds", "results", "resultScoreScales", "roles",
                  "scoreScales", "userProfiles", "userResources", "users")
TERM_GRADE = "term-grade"
TERM_GRADE_TITLE = "Term grade"
GRADEBOOK_FILES = {"categories": (CATEGORIES_COLUMNS, CATEGORIES_REQUIRED),
                   "lineItems": (LINE_ITEMS_COLUMNS, LINE_ITEMS_REQUIRED),
                   "results": (RESULTS_COLUMNS, RESULTS_REQUIRED)}


@dataclass(frozen=True)
class _Level:
    student_sid: str
    student_name: str
    code: str
    identifier: str | None
    framework_identifier: str | None
    statement: str
    points: float
    label: str
    score: float | None
    judgement: bool


def _sid(own: str | None, kind: str, number: int) -> str:
    return own or f"gradebook-{kind}-{number}"


def _points(value: float) -> str:
    return f"{value:g}"


def _levels(session: Session, section: Section) -> tuple[read.SectionGradebook, list[_Level]]:
    book = read.load_gradebook(session, section)
    frameworks = {f.id: f.identifier for f in session.scalars(select(Framework).where(
        Framework.id.in_({s.framework_id for s in book.standards})))} if book.standards else {}
    levels: list[_Level] = []
    for student in book.students:
        for standard in book.standards:
            cell = book.cell(student.id, standard.id)
            if cell.level is None:
                continue
            levels.append(_Level(_sid(student.sourced_id, "user", student.id), student.name, standard.code,
                                 standard.identifier, frameworks.get(standard.framework_id), standard.statement,
                                 cell.level.points, cell.level.label, cell.score, cell.override is not None))
    return book, levels


def _line_item_sid(section_sid: str, identifier: str | None, competency_id: int) -> str:
    return f"{section_sid}-standard-{identifier or competency_id}"


def oneroster_results_zip(session: Session, section: Section, *, now: datetime | None = None) -> bytes:
    """The section's current levels as a OneRoster 1.2 Gradebook CSV zip."""
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    today = now.date().isoformat()
    book, levels = _levels(session, section)
    term = session.get(Term, section.term_id)
    school = session.get(School, section.school_id)
    section_sid = _sid(section.sourced_id, "class", section.id)
    category_sid = f"{section_sid}-standards"
    scale_points = [level.points for level in book.scale.levels]
    line_item_of: dict[str, str] = {}
    line_items: list[dict[str, str]] = []
    for standard in book.standards:
        sid = _line_item_sid(section_sid, standard.identifier, standard.id)
        line_item_of[standard.code] = sid
        description = standard.statement + (f" (CASE {standard.identifier})" if standard.identifier else "")
        line_items.append({
            "sourcedId": sid, "status": "active", "dateLastModified": stamp,
            "title": f"{standard.code}: current level"[:255], "description": description,
            "assignDate": term.starts_on.isoformat() if term else today,
            "dueDate": term.ends_on.isoformat() if term else today,
            "classSourcedId": section_sid, "categorySourcedId": category_sid,
            "gradingPeriodSourcedId": _sid(term.sourced_id, "term", term.id) if term else "",
            "academicSessionSourcedId": _sid(term.sourced_id, "term", term.id) if term else "",
            "resultValueMin": _points(min(scale_points)), "resultValueMax": _points(max(scale_points)),
            "schoolSourcedId": _sid(school.sourced_id, "school", school.id) if school else "",
        })
    results = [{
        "sourcedId": f"{line_item_of[level.code]}-{level.student_sid}", "status": "active",
        "dateLastModified": stamp, "lineItemSourcedId": line_item_of[level.code],
        "studentSourcedId": level.student_sid, "classSourcedId": section_sid, "scoreStatus": "fully graded",
        "score": _points(level.points), "textScore": level.label, "scoreDate": today,
        "comment": "teacher judgement" if level.judgement else "",
    } for level in levels]
    categories = [{"sourcedId": category_sid, "status": "active", "dateLastModified": stamp,
                   "title": "Standards: current level", "weight": ""}]
    grades = section_term_grades(session, section)
    if grades:
        grade_category = f"{section_sid}-{TERM_GRADE}"
        top = next(iter(grades.values())).top_points
        categories.append({"sourcedId": grade_category, "status": "active", "dateLastModified": stamp,
                           "title": TERM_GRADE_TITLE, "weight": ""})
        line_items.append({**line_items[0], "sourcedId": grade_category, "title": TERM_GRADE_TITLE,
                           "description": "The term grade by the school's published grade bridge",
                           "categorySourcedId": grade_category, "resultValueMin": "0",
                           "resultValueMax": str(top)} if line_items else {
            "sourcedId": grade_category, "status": "active", "dateLastModified": stamp, "title": TERM_GRADE_TITLE,
            "assignDate": term.starts_on.isoformat() if term else today,
            "dueDate": term.ends_on.isoformat() if term else today, "classSourcedId": section_sid,
            "schoolSourcedId": _sid(school.sourced_id, "school", school.id) if school else "",
            "categorySourcedId": grade_category, "resultValueMin": "0", "resultValueMax": str(top)})
        sids = {s.id: _sid(s.sourced_id, "user", s.id) for s in book.students}
        results += [{
            "sourcedId": f"{grade_category}-{sids[student_id]}", "status": "active", "dateLastModified": stamp,
            "lineItemSourcedId": grade_category, "studentSourcedId": sids[student_id], "classSourcedId": section_sid,
            "scoreStatus": "fully graded", "score": str(grade.rank_points), "textScore": grade.result.grade,
            "scoreDate": today, "comment": grade.explanation,
        } for student_id, grade in grades.items() if student_id in sids]
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    manifest += [(f"file.{name}", "bulk" if name in GRADEBOOK_FILES else "absent") for name in MANIFEST_FILES]
    manifest += [("source.systemName", "Gradebook"), ("source.systemCode", "gradebook")]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.csv", _csv(("propertyName", "value"), [dict(zip(("propertyName", "value"), row,
                                                                                    strict=True)) for row in manifest]))
        archive.writestr("categories.csv", _csv(CATEGORIES_COLUMNS, categories))
        archive.writestr("lineItems.csv", _csv(LINE_ITEMS_COLUMNS, line_items))
        archive.writestr("results.csv", _csv(RESULTS_COLUMNS, results))
    return buffer.getvalue()


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(name, "") for name in columns])
    return out.getvalue()


def read_oneroster_results(data: bytes) -> dict[tuple[str, str], tuple[float, str]]:
    """(studentSourcedId, line item title's code) → (score, textScore) from a OneRoster 1.2 Gradebook zip.

    Checks the manifest says 1.2 and that each file has the 1.2 columns and its required fields.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        files = {name.rsplit("/", 1)[-1][:-4]: archive.read(name).decode("utf-8-sig")
                 for name in archive.namelist() if name.endswith(".csv")}
    except (zipfile.BadZipFile, UnicodeDecodeError, KeyError) as error:
        raise ServiceError(f"This is not a OneRoster Gradebook zip ({error}).") from None
    manifest = {row["propertyName"]: row["value"] for row in csv.DictReader(io.StringIO(files.get("manifest", "")))}
    if manifest.get("oneroster.version") != "1.2":
        raise ServiceError("The manifest does not say oneroster.version 1.2.")
    tables: dict[str, list[dict[str, str]]] = {}
    for name, (columns, required) in GRADEBOOK_FILES.items():
        if manifest.get(f"file.{name}") != "bulk" or name not in files:
            raise ServiceError(f"The manifest does not list {name}.csv as bulk, or the zip lacks it.")
        reader = csv.DictReader(io.StringIO(files[name]))
        missing = [column for column in required if column not in (reader.fieldnames or ())]
        unknown = [column for column in (reader.fieldnames or ()) if column not in columns]
        if missing or unknown:
            raise ServiceError(f"{name}.csv does not have the OneRoster 1.2 columns (missing "
                               f"{', '.join(missing) or 'none'}; unknown {', '.join(unknown) or 'none'}).")
        rows = list(reader)
        for number, row in enumerate(rows, start=2):
            empty = [column for column in required if not row[column]]
            if empty:
                raise ServiceError(f"{name}.csv row {number} lacks the required {', '.join(empty)}.")
        tables[name] = rows
    codes = {row["sourcedId"]: row["title"].rsplit(": current level", 1)[0] for row in tables["lineItems"]
             if row["title"] != TERM_GRADE_TITLE}
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for row in tables["results"]:
        if row["lineItemSourcedId"] not in codes:
            continue  # the term grade (read_oneroster_term_grades)
        if row["scoreStatus"] not in SCORE_STATUSES:
            raise ServiceError(f"results.csv has the unknown scoreStatus “{row['scoreStatus']}”.")
        out[(row["studentSourcedId"], codes[row["lineItemSourcedId"]])] = (float(row["score"]), row["textScore"])
    return out


TERM_GRADES_CSV_COLUMNS = ("studentSourcedId", "student", "classSourcedId", "class", "term", "grade", "why")


def term_grades_csv(session: Session, school: School) -> tuple[str, list[int]]:
    """Every student's term grade in every active class of the school by its published table, as CSV for a
    SIS that takes a plain file (through csv_safe); and the ids of the students in it (for the audit)."""
    preview = preview_bridge(session, school, stored_bridge(session, school).bridge)
    terms = {t.id: t.name for t in session.scalars(select(Term).where(
        Term.id.in_({row.section.term_id for row in preview.rows})))} if preview.rows else {}
    rows = sorted(preview.rows, key=lambda r: (r.section.name, r.student.name))
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(TERM_GRADES_CSV_COLUMNS)
    for row in rows:
        writer.writerow([_sid(row.student.sourced_id, "user", row.student.id), row.student.name,
                         _sid(row.section.sourced_id, "class", row.section.id), row.section.name,
                         terms.get(row.section.term_id, ""), row.proposed, row.explanation])
    return out.getvalue(), sorted({row.student.id for row in rows})


def read_oneroster_term_grades(data: bytes) -> dict[str, tuple[str, str]]:
    """studentSourcedId → (term grade, its explanation) from a OneRoster 1.2 Gradebook zip of ours."""
    read_oneroster_results(data)  # the same checks of the manifest and the columns
    archive = zipfile.ZipFile(io.BytesIO(data))
    items = {row["sourcedId"] for row in csv.DictReader(io.StringIO(archive.read("lineItems.csv").decode("utf-8-sig")))
             if row["title"] == TERM_GRADE_TITLE}
    return {row["studentSourcedId"]: (row["textScore"], row["comment"])
            for row in csv.DictReader(io.StringIO(archive.read("results.csv").decode("utf-8-sig")))
            if row["lineItemSourcedId"] in items}


def case_results_json(session: Session, section: Section, *, now: datetime | None = None) -> str:
    """The section's current levels as CASE-aligned JSON: each standard by its CASE identifier and code."""
    now = now or datetime.now(UTC)
    book, levels = _levels(session, section)
    term = session.get(Term, section.term_id)
    frameworks = {f.id: f for f in session.scalars(select(Framework).where(
        Framework.id.in_({s.framework_id for s in book.standards})))} if book.standards else {}
    document: dict[str, Any] = {
        "format": "gradebook-case-aligned-results",
        "version": 1,
        "generated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "section": {"sourcedId": _sid(section.sourced_id, "class", section.id), "title": section.name,
                    "code": section.code, "term": term.name if term else None},
        "scale": [{"points": level.points, "label": level.label, "mastery": level.is_mastery}
                  for level in book.scale.levels],
        "frameworks": [{"CFDocumentIdentifier": f.identifier, "title": f.title, "version": f.version}
                       for f in frameworks.values()],
        "standards": [{"CFItemIdentifier": s.identifier, "humanCodingScheme": s.code, "fullStatement": s.statement,
                       "CFDocumentIdentifier": frameworks[s.framework_id].identifier} for s in book.standards],
        "results": [{"studentSourcedId": level.student_sid, "student": level.student_name,
                     "CFItemIdentifier": level.identifier, "humanCodingScheme": level.code,
                     "points": level.points, "level": level.label,
                     "score": None if level.score is None else round(level.score, 4),
                     "teacherJudgement": level.judgement} for level in levels],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
