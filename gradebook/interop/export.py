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
from sqlalchemy import select
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
               progress: Callable[[int, str], None] | None = None) -> Any:
    """Every table as `json/<table>.json` (an array of rows) and `csv/<table>.csv`, plus a manifest.

    Values as in a backup (ISO dates, JSON as JSON); in CSV, empty for null, true/false, JSON as text,
    and text that a spreadsheet would run as a formula is prefixed with an apostrophe. CSV files carry a
    UTF-8 byte-order mark so spreadsheets read accents correctly. With ``files_folder`` every uploaded file
    is included under `files/<stored name>` (the `artifacts` table names each one's original name), listed
    in `files/index.jsonl`. Streams row by row and file by file into ``output`` and returns the row counts;
    without ``output`` returns the zip's bytes.
    """
    from gradebook.interop.backup import BackupCounts, write_files

    progress = progress or (lambda _p, _s: None)
    connection = session.connection()
    buffer = output if output is not None else io.BytesIO()
    counts = BackupCounts()
    tables = Base.metadata.sorted_tables
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
                    for row in iter_portable_rows(connection, table):
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
            files = write_files(connection, archive, Path(files_folder), counts, progress)
            files["note"] = ("files/<stored name> holds each uploaded file as it was uploaded; the artifacts "
                             "table gives its original name, owner and the evidence or portfolio entry it "
                             "belongs to.")
        archive.writestr("manifest.json", json.dumps({
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": dict(counts),
            "left_out": {table: sorted(names) for table, names in SECRET_COLUMNS.items()},
            "files": files or {"included": False, "note": "This export was made without the uploaded files; "
                               "Setup → Export and every backup include them."},
        }, indent=2))
    if output is None:
        return buffer.getvalue()  # type: ignore[union-attr]
    return counts


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
    story = load_story(session, student, viewer=student, family_only=not own)
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
