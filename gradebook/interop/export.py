"""Exports people can take away: the whole school as a zip of JSON and CSV, and a student's record as one
self-contained HTML document a family can keep.

Both read only. Secrets (password hashes, session tokens, reset-token hashes) never leave in an export;
a full-fidelity copy is what `services.backup` is for.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, StrictUndefined, Template
from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from gradebook.interop import csv_safe
from gradebook.interop.backup import SQL_NULL_KEY, column_kind, iter_portable_rows
from gradebook.models import (
    Assessment,
    Base,
    Competency,
    Evidence,
    FeedbackReply,
    School,
    SectionTeacher,
    User,
)
from gradebook.proficiency import Scale, format_score
from gradebook.services.artifacts import INLINE_SAFE, artifact_path
from gradebook.services.portfolio import StandardView, load_story

SECRET_COLUMNS: dict[str, frozenset[str]] = {
    "users": frozenset({"password_hash", "session_token"}),
    "password_resets": frozenset({"token_hash"}),
}


# ---------------------------------------------------------------- the school as a zip


def school_zip(session: Session, output: IO[bytes] | None = None, *, files_folder: str | None = None,
               progress: Callable[[int, str], None] | None = None, school_ids: list[int] | None = None) -> Any:
    """Every table as `json/<table>.json` (an array of rows) and `csv/<table>.csv`, plus a manifest.

    Values as in a backup (ISO dates, JSON as JSON); in CSV, empty for null, true/false, JSON as text,
    and text that a spreadsheet would run as a formula is prefixed with an apostrophe. CSV files carry a
    UTF-8 byte-order mark so spreadsheets read accents correctly. With ``files_folder`` every uploaded file
    is included under `files/<stored name>` (the `artifacts` table names each one's original name), listed
    in `files/index.jsonl`. Streams row by row and file by file into ``output`` and returns the row counts;
    without ``output`` returns the zip's bytes. With ``school_ids``, only those schools' rows and files (see
    `school_rows`); the manifest names the schools (or says the whole district).
    """
    from gradebook.interop.backup import BackupCounts, write_files

    progress = progress or (lambda _p, _s: None)
    connection = session.connection()
    buffer = output if output is not None else io.BytesIO()
    counts = BackupCounts()
    tables = Base.metadata.sorted_tables
    rules = school_rows(school_ids) if school_ids is not None else {}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, table in enumerate(tables):
            progress(5 + 60 * number // len(tables), f"Table {number + 1} of {len(tables)}")
            hidden = SECRET_COLUMNS.get(table.name, frozenset())
            columns = [(column.name, column_kind(column)) for column in table.columns if column.name not in hidden]
            rows = 0
            # One zip entry can be open for writing at a time: the CSV waits in a spooled file (in memory up
            # to a few MB, then on disk), so memory stays bounded however large the table.
            with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as spool:
                text_csv = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
                writer = csv_safe.writer(text_csv)
                writer.writerow([name for name, _ in columns])
                with archive.open(f"json/{table.name}.json", "w", force_zip64=True) as as_json:
                    as_json.write(b"[")
                    for row in iter_portable_rows(connection, table, rules[table.name] if rules else None):
                        row.pop(SQL_NULL_KEY, None)
                        item = {name: row[name] for name, _ in columns}
                        as_json.write((",\n" if rows else "\n").encode()
                                      + json.dumps(item, ensure_ascii=False, allow_nan=False).encode("utf-8"))
                        writer.writerow([_csv_cell(kind, item[name]) for name, kind in columns])
                        rows += 1
                    as_json.write(b"\n]\n")
                text_csv.flush()
                text_csv.detach()
                spool.seek(0)
                with archive.open(f"csv/{table.name}.csv", "w", force_zip64=True) as as_csv:
                    shutil.copyfileobj(spool, as_csv, 1024 * 1024)
            counts[table.name] = rows
        files: dict[str, Any] | None = None
        if files_folder is not None:
            files = write_files(connection, archive, Path(files_folder), counts, progress, rules.get("artifacts"))
            files["note"] = ("files/<stored name> holds each uploaded file as it was uploaded; the artifacts "
                             "table gives its original name, owner and the evidence or portfolio entry it "
                             "belongs to.")
        archive.writestr("manifest.json", json.dumps({
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scope": _scope(session, school_ids),
            "tables": dict(counts),
            "left_out": {table: sorted(names) for table, names in SECRET_COLUMNS.items()},
            "files": files or {"included": False, "note": "This export was made without the uploaded files; "
                               "Setup → Export and every backup include them."},
        }, indent=2))
    if output is None:
        return buffer.getvalue()  # type: ignore[union-attr]
    return counts


def _scope(session: Session, school_ids: list[int] | None) -> dict[str, Any]:
    if school_ids is None:
        return {"district": True, "schools": [{"id": i, "name": n} for i, n in session.execute(
            select(School.id, School.name).order_by(School.id))],
            "note": "The whole district: every school's rows and files."}
    return {"district": False, "schools": [{"id": i, "name": n} for i, n in session.execute(
        select(School.id, School.name).where(School.id.in_(school_ids)).order_by(School.id))],
        "note": "Only these schools: their people (members, the students and teachers of their sections, the "
                "guardians of their students), sections, terms, the frameworks and scales they use, everything "
                "recorded in their sections, their students' portfolios, goals and profiles, and those records' "
                "files. The audit log holds the entries about their students. A reference to someone outside "
                "(a district admin who recorded something) names an account that is not in this export."}


def _csv(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow([name for name, _ in columns])
    for row in rows:
        writer.writerow([_csv_cell(kind, row[name]) for name, kind in columns])
    return out.getvalue()


def _csv_cell(kind: str, value: Any) -> Any:
    """The cell for a value: numbers stay numbers; everything else is text (neutralised by the writer)."""
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "json":
        return json.dumps(value, ensure_ascii=False)
    if kind in ("integer", "float"):
        return value
    return str(value)


# ---------------------------------------------------------------- a student's record


STATUS_WORDS = {
    "missing": "Missing",
    "excused": "Excused",
    "not_yet": "Not yet scored (attempted)",
}


def _plain_helpers() -> dict[str, Any]:
    """The record's words without a translator: English, school data as written (CLI, tests)."""
    from markupsafe import Markup, escape

    def as_is(text: str | None) -> Markup:
        return Markup(escape(text or ""))

    return {"gettext": lambda message: message,
            "ngettext": lambda singular, plural, n: singular if n == 1 else plural,
            "local": lambda obj, field: as_is(getattr(obj, field)),
            "school_text": lambda _table, _row_id, _field, original: as_is(original),
            "level_text": lambda level, field="label": as_is(getattr(level, field)),
            "as_written": as_is, "next_step_text": lambda descriptor: as_is(descriptor.description),
            "format_date": lambda d, _format=None: d.isoformat(), "language": "en"}


def student_record(session: Session, student: User, *, own: bool = False, upload_folder: str | None = None,
                   words: dict[str, Any] | None = None) -> str:
    """One HTML document with the student's whole story, to download and keep: no scripts, no links out.

    What the student and their family see: every standard of the student's sections with its level and
    score (a teacher's judgement labelled, with its reason), every live piece of evidence with date,
    assessment, result, status, feedback and replies, the teacher's narratives, goals and steps with their
    comments, the portfolio entries shared with family with the teachers' comments, and the learner profile.
    The student's own copy (``own``) holds all their entries, private and teachers-only ones too, each
    marked with who may see it. Images of the work are embedded (``upload_folder``), so the file stands
    alone; other files are named. Every value is HTML-escaped.
    `words` gives the reader's language: gettext and ngettext, and the helpers that show school data in it
    (the web layer passes Flask-Babel's; without them the record is in English).
    """
    story = load_story(session, student, viewer=student, family_only=not own, include_closed=True)
    images = _embedded_images(story, upload_folder)
    section_ids = [s.id for s in story.sections]
    evidence_rows = session.execute(
        select(Evidence, Assessment).outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .where(Evidence.student_id == student.id, Evidence.deleted_at.is_(None),
               Evidence.section_id.in_(section_ids))
        .order_by(Evidence.observed_on, Evidence.recorded_at, Evidence.id)).all()
    replies: dict[int, list[tuple[FeedbackReply, str]]] = defaultdict(list)
    for reply, author in session.execute(
            select(FeedbackReply, User.name).join(User, User.id == FeedbackReply.author_id)
            .where(FeedbackReply.evidence_id.in_([e.id for e, _ in evidence_rows]))
            .order_by(FeedbackReply.created_at, FeedbackReply.id)):
        replies[reply.evidence_id].append((reply, author))
    by_standard: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for evidence, assessment in evidence_rows:
        by_standard[(evidence.section_id, evidence.competency_id)].append(
            _evidence_item(story.scale, evidence, assessment, replies.get(evidence.id, [])))

    # Evidence on a standard the section no longer lists is still the student's: shown apart, not lost.
    listed = {(s.section.id, s.competency.id) for s in story.standards}
    other_ids = {competency_id for (section_id, competency_id) in by_standard
                 if (section_id, competency_id) not in listed}
    others = {c.id: c for c in session.scalars(select(Competency).where(Competency.id.in_(other_ids)))} \
        if other_ids else {}
    teachers: dict[int, list[str]] = defaultdict(list)
    for section_id, name in session.execute(
            select(SectionTeacher.section_id, User.name).join(User, User.id == SectionTeacher.teacher_id)
            .where(SectionTeacher.section_id.in_(section_ids)).order_by(User.name)):
        teachers[section_id].append(name)

    sections = []
    for section in story.sections:
        groups = [
            {"competency": view.competency, "level": view.level, "score": view.score,
             "standards": [_standard_item(s, by_standard.get((section.id, s.competency.id), []))
                           for s in view.standards]}
            for view in story.competencies if view.section.id == section.id
        ]
        unlisted = sorted((others[c] for (s, c) in by_standard if s == section.id and c in others),
                          key=lambda c: c.code)
        sections.append({
            "section": section,
            "teachers": teachers.get(section.id, []),
            "narrative": next((n for s, n in story.narratives if s.id == section.id and n.body.strip()), None),
            "groups": groups,
            "unlisted": [(c, by_standard[(section.id, c.id)]) for c in unlisted],
        })
    school = session.scalar(select(School.name).order_by(School.id).limit(1))
    helpers = {**_plain_helpers(), **(words or {})}
    return _template(helpers["gettext"], helpers["ngettext"]).render(
        **{k: v for k, v in helpers.items() if k not in ("gettext", "ngettext")},
        story=story, student=student, school=school, sections=sections, score=_score, own=own, images=images,
        levels=sorted(story.scale.levels, key=lambda lv: -lv.points),
        generated_on=datetime.now(UTC).date(),
    )


def _embedded_images(story: Any, folder: str | None) -> dict[int, str]:
    """Each image of the entries as a data: URI, by artifact id (a missing file is simply not embedded)."""
    out: dict[int, str] = {}
    if not folder:
        return out
    for artifacts in story.entry_artifacts.values():
        for artifact in artifacts:
            if artifact.content_type not in INLINE_SAFE:
                continue
            try:
                data = artifact_path(folder, artifact).read_bytes()
            except OSError:
                continue
            out[artifact.id] = f"data:{artifact.content_type};base64,{base64.b64encode(data).decode('ascii')}"
    return out


def _score(value: float | None) -> str:
    return "" if value is None else format_score(value)  # rounded as levels are decided, so they agree


def _standard_item(view: StandardView, evidence: list[dict[str, Any]]) -> dict[str, Any]:
    return {"view": view, "evidence": evidence}


def _evidence_item(scale: Scale, evidence: Evidence, assessment: Assessment | None,
                   replies: list[tuple[FeedbackReply, str]]) -> dict[str, Any]:
    level = scale.level_for(evidence.score) if evidence.status == "scored" and evidence.score is not None else None
    return {
        "evidence": evidence,
        "assessment": assessment,
        "level": level,
        "status": STATUS_WORDS.get(evidence.status, "Scored"),
        "replies": replies,
    }


_TEMPLATE: Template | None = None
# The record's markup: a template of its own (not one of the site's: no base page, no links out).
RECORD_TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "record" / "student_record.html"


_WORDS: dict[str, Any] = {}


def _template(gettext: Any, ngettext: Any) -> Template:
    global _TEMPLATE
    _WORDS.update(gettext=gettext, ngettext=ngettext)  # read at render time, by the installed callables
    if _TEMPLATE is None:
        env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          extensions=["jinja2.ext.i18n"])
        env.install_gettext_callables(lambda message: _WORDS["gettext"](message),  # type: ignore[attr-defined]
                                      lambda s, p, n: _WORDS["ngettext"](s, p, n), newstyle=True)
        _TEMPLATE = env.from_string(RECORD_TEMPLATE.read_text(encoding="utf-8"))
    return _TEMPLATE


# ---------------------------------------------------------------- one school's part of it

def school_rows(school_ids: list[int]) -> dict[str, Any]:
    """For each table, the condition that picks one school's rows (a school admin's export, or a district
    admin's export of one school): its people (members, the students enrolled and teachers teaching in its
    sections, the guardians of its students), its sections and everything recorded in them, its terms (and
    the district-wide terms its sections use), the frameworks it uses (its own and the district's library),
    the scales its sections and frameworks use, its students' portfolios, goals and profiles, the uploaded
    files of those records, its jobs and grade bridge. Nothing of another school: a record of a person who
    belongs to both schools goes with the school it was recorded in (evidence by section), a portfolio with
    the student.

    Every table must have a rule here (a test checks it), so a new table is never exported whole by mistake."""
    t = Base.metadata.tables

    def col(table: str, name: str) -> Any:
        return t[table].c[name]

    schools = list(school_ids)
    sections = select(col("sections", "id")).where(col("sections", "school_id").in_(schools))
    members = select(col("school_members", "user_id")).where(col("school_members", "school_id").in_(schools))
    enrolled = select(col("enrollments", "student_id")).where(col("enrollments", "section_id").in_(sections))
    teaching = select(col("section_teachers", "teacher_id")).where(col("section_teachers", "section_id").in_(sections))
    users = t["users"]
    students = select(users.c.id).where(users.c.role == "student",
                                        users.c.id.in_(members) | users.c.id.in_(enrolled))
    guardians = select(col("guardian_links", "guardian_id")).where(col("guardian_links", "student_id").in_(students))
    people = users.c.id.in_(members) | users.c.id.in_(enrolled) | users.c.id.in_(teaching) | users.c.id.in_(guardians)
    frameworks = select(col("frameworks", "id")).where(
        col("frameworks", "school_id").in_(schools) | col("frameworks", "school_id").is_(None))
    competencies = select(col("competencies", "id")).where(col("competencies", "framework_id").in_(frameworks))
    scales = (select(col("schools", "default_scale_id")).where(col("schools", "id").in_(schools))
              .union(select(col("districts", "default_scale_id")),
                     select(col("sections", "scale_id")).where(col("sections", "school_id").in_(schools)),
                     select(col("frameworks", "scale_id")).where(col("frameworks", "id").in_(frameworks))))
    goals = select(col("goals", "id")).where(col("goals", "student_id").in_(students))
    entries = select(col("portfolio_entries", "id")).where(col("portfolio_entries", "student_id").in_(students))
    evidence = select(col("evidence", "id")).where(col("evidence", "section_id").in_(sections))
    habit_evidence = select(col("habit_evidence", "id")).where(col("habit_evidence", "section_id").in_(sections))
    assessments = select(col("assessments", "id")).where(col("assessments", "section_id").in_(sections))
    units = select(col("path_units", "id")).where(col("path_units", "section_id").in_(sections))
    activities = select(col("activities", "id")).where(col("activities", "section_id").in_(sections))
    levels = select(col("scale_levels", "id")).where(col("scale_levels", "scale_id").in_(scales))
    descriptors = select(col("level_descriptors", "id")).where(col("level_descriptors", "competency_id").in_(competencies))
    artifacts = t["artifacts"]
    activity_files = select(col("activities", "artifact_id")).where(col("activities", "artifact_id").is_not(None))
    translated = {"scale_levels": levels, "competencies": competencies, "level_descriptors": descriptors}

    def in_sections(table: str) -> Any:
        return col(table, "section_id").in_(sections)

    rules: dict[str, Any] = {
        "proficiency_scales": col("proficiency_scales", "id").in_(scales),
        "scale_levels": col("scale_levels", "scale_id").in_(scales),
        "text_translations": or_(*[(col("text_translations", "table_name") == name)
                                   & col("text_translations", "row_id").in_(ids) for name, ids in translated.items()]),
        "users": people,
        "audit_log": col("audit_log", "student_id").in_(students),
        "comments": ((col("comments", "subject_type") == "goal") & col("comments", "subject_id").in_(goals))
        | ((col("comments", "subject_type") == "entry") & col("comments", "subject_id").in_(entries)),
        "districts": true(),
        "goals": col("goals", "student_id").in_(students),
        "goal_steps": col("goal_steps", "goal_id").in_(goals),
        "goal_competencies": col("goal_competencies", "goal_id").in_(goals),
        "guardian_links": col("guardian_links", "student_id").in_(students),
        "learner_profiles": col("learner_profiles", "student_id").in_(students),
        "password_resets": col("password_resets", "user_id").in_(select(users.c.id).where(people)),
        "portfolio_entries": col("portfolio_entries", "student_id").in_(students),
        "portfolio_entry_standards": col("portfolio_entry_standards", "entry_id").in_(entries),
        "portfolio_entry_evidence": col("portfolio_entry_evidence", "entry_id").in_(entries)
        & col("portfolio_entry_evidence", "evidence_id").in_(evidence),
        "schools": col("schools", "id").in_(schools),
        "school_members": col("school_members", "school_id").in_(schools),
        "frameworks": col("frameworks", "id").in_(frameworks),
        "competencies": col("competencies", "id").in_(competencies),
        "level_descriptors": col("level_descriptors", "competency_id").in_(competencies),
        "crosswalks": col("crosswalks", "competency_id").in_(competencies),
        "comment_bank": col("comment_bank", "teacher_id").in_(teaching),
        "grade_bridges": col("grade_bridges", "school_id").in_(schools),
        "grade_bridge_changes": col("grade_bridge_changes", "school_id").in_(schools),
        "import_jobs": col("import_jobs", "school_id").in_(schools),
        "terms": col("terms", "school_id").in_(schools)
        | col("terms", "id").in_(select(col("sections", "term_id")).where(col("sections", "school_id").in_(schools))),
        "sections": col("sections", "school_id").in_(schools),
        "prerequisites": in_sections("prerequisites")
        | (col("prerequisites", "section_id").is_(None) & col("prerequisites", "competency_id").in_(competencies)),
        "policy_changes": in_sections("policy_changes") | col("policy_changes", "school_id").in_(schools)
        | (col("policy_changes", "section_id").is_(None) & col("policy_changes", "school_id").is_(None)),
        "assessment_standards": col("assessment_standards", "assessment_id").in_(assessments),
        "path_unit_standards": col("path_unit_standards", "unit_id").in_(units),
        "evidence_revisions": col("evidence_revisions", "evidence_id").in_(evidence),
        "feedback_reads": col("feedback_reads", "evidence_id").in_(evidence),
        "feedback_replies": col("feedback_replies", "evidence_id").in_(evidence),
        "habit_revisions": col("habit_revisions", "habit_evidence_id").in_(habit_evidence),
        "activity_assignments": col("activity_assignments", "activity_id").in_(activities),
        "activity_choices": col("activity_choices", "activity_id").in_(activities),
        "artifacts": artifacts.c.evidence_id.in_(evidence) | artifacts.c.portfolio_entry_id.in_(entries)
        | artifacts.c.id.in_(select(col("activities", "artifact_id")).where(col("activities", "section_id").in_(sections)))
        | (artifacts.c.evidence_id.is_(None) & artifacts.c.portfolio_entry_id.is_(None)
           & artifacts.c.id.not_in(activity_files) & artifacts.c.owner_student_id.in_(students)),
    }
    for table in ("assessments", "enrollments", "narratives", "overrides", "path_focus", "path_units",
                  "proficiency_records", "reassessment_requests", "section_habits", "section_standards",
                  "section_teachers", "ways_to_show", "evidence", "habit_evidence", "path_adjustments",
                  "activities", "ready_to_show"):
        rules[table] = in_sections(table)
    return rules
