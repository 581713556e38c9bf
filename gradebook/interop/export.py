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


def student_record(session: Session, student: User, *, own: bool = False, upload_folder: str | None = None) -> str:
    """One HTML document with the student's whole story, to download and keep: no scripts, no links out.

    What the student and their family see: every standard of the student's sections with its level and
    score (a teacher's judgement labelled, with its reason), every live piece of evidence with date,
    assessment, result, status, feedback and replies, the teacher's narratives, goals and steps with their
    comments, the portfolio entries shared with family with the teachers' comments, and the learner profile.
    The student's own copy (``own``) holds all their entries, private and teachers-only ones too, each
    marked with who may see it. Images of the work are embedded (``upload_folder``), so the file stands
    alone; other files are named. Every value is HTML-escaped.
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
    return _template().render(
        story=story, student=student, school=school, sections=sections, score=_score, own=own, images=images,
        visibility_words=VISIBILITY_WORDS,
        levels=sorted(story.scale.levels, key=lambda lv: -lv.points),
        generated_on=datetime.now(UTC).date(),
    )


VISIBILITY_WORDS = {"private": "only you", "teachers": "you and your teachers", "family": "your teachers and family"}


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


def _template() -> Template:
    global _TEMPLATE
    if _TEMPLATE is None:
        env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        _TEMPLATE = env.from_string(RECORD_TEMPLATE)
    return _TEMPLATE


RECORD_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Learning record: {{ student.name }}</title>
<style>
  body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
         max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { margin-bottom: 0; } h2 { border-bottom: 2px solid #d5dae3; padding-bottom: .2rem; margin-top: 2rem; }
  h3 { margin: 1.2rem 0 .3rem; } h4 { margin: .9rem 0 .2rem; }
  .muted { color: #5b6475; } .small { font-size: .9em; }
  .level { display: inline-block; padding: 0 .5rem; border-radius: .7rem; color: #fff; font-weight: 600; }
  .level.none { background: #e8ebf0; color: #3a4150; font-weight: 400; }
  .tag { border: 1px solid #8a93a5; border-radius: .3rem; padding: 0 .3rem; font-size: .85em; }
  table { border-collapse: collapse; width: 100%; margin: .3rem 0 .8rem; font-size: .93em; }
  th, td { text-align: left; vertical-align: top; padding: .25rem .4rem; border-bottom: 1px solid #e3e6ec; }
  th { background: #f3f5f8; }
  td:first-child { white-space: nowrap; }
  .standard { margin: .6rem 0 1rem; padding-left: .8rem; border-left: 3px solid #d5dae3; }
  .reply { margin: .2rem 0 0 .8rem; font-style: italic; }
  dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
  dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
  .card { break-inside: avoid; }
  @media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } }
</style>
</head>
<body>
{% macro badge(level, override=none) -%}
{% if level %}<span class="level" style="background: {{ level.colour }}">{{ level.symbol }} {{ level.label }}</span>
{%- if override %} <span class="tag">teacher judgement</span>{% endif %}
{%- else %}<span class="level none">not enough evidence yet</span>{% endif %}
{%- endmacro %}
{% macro evidence_table(items) %}
{% if items %}
<table>
  <thead><tr><th>Date</th><th>Assessment</th><th>Result</th><th>Status</th><th>Feedback</th></tr></thead>
  <tbody>
  {% for item in items %}
  {% set e = item.evidence %}
  <tr>
    <td>{{ e.observed_on.isoformat() }}</td>
    <td>{% if item.assessment %}{{ item.assessment.title }} <span class="muted small">({{ item.assessment.kind.replace("_", " ") }}{% if not item.assessment.counts %}; does not count toward the level{% endif %})</span>{% else %}<span class="muted">Recorded without an assessment</span>{% endif %}
      {% if e.is_reassessment %} <span class="tag">reassessment</span>{% endif %}</td>
    <td>{% if e.score is not none %}{{ score(e.score) }}{% if item.level %} · {{ item.level.label }}{% endif %}{% endif %}</td>
    <td>{{ item.status }}</td>
    <td>{{ e.feedback }}
      {% for reply, author in item.replies %}<div class="reply">{{ author }}: {{ reply.body }}</div>{% endfor %}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}<p class="muted small">No evidence yet.</p>{% endif %}
{% endmacro %}
<header>
  <h1>{{ student.name }}</h1>
  <p class="muted">Learning record{% if school %} · {{ school }}{% endif %}{% if student.grade_level %} · grade {{ student.grade_level }}{% endif %} · made on {{ generated_on.isoformat() }}</p>
</header>

<section class="card">
  <h2>What the levels mean</h2>
  <ul>
  {% for level in levels %}
    <li>{{ badge(level) }}{% if level.is_mastery %} <strong>(the goal)</strong>{% endif %} — {{ level.description }}</li>
  {% endfor %}
  </ul>
</section>

<section class="card">
  <h2>Classes</h2>
  {% if sections %}
  <ul>
  {% for item in sections %}
    <li>{{ item.section.name }}{% if item.teachers %} <span class="muted">with {{ item.teachers|join(", ") }}</span>{% endif %}</li>
  {% endfor %}
  </ul>
  {% else %}<p class="muted">Not enrolled in any class.</p>{% endif %}
</section>

{% for item in sections %}
<section>
  <h2>{{ item.section.name }}</h2>
  {% if item.narrative %}<p><strong>From the teacher:</strong> {{ item.narrative.body }}</p>{% endif %}
  {% for group in item.groups %}
    {% if group.competency %}
    <h3>{{ group.competency.code }} {{ group.competency.short_name or group.competency.statement }}
      {{ badge(group.level) }}{% if group.score is not none %} <span class="muted small">score {{ score(group.score) }}</span>{% endif %}</h3>
    {% endif %}
    {% for standard in group.standards %}
    {% set view = standard.view %}
    <div class="standard">
      <h4>{{ view.competency.code }} {{ view.competency.statement }}</h4>
      <p>{{ badge(view.level, view.override) }}
        {% if view.score is not none %} score {{ score(view.score) }}{% endif %}
        <span class="muted small">· {{ view.count }} scored piece{{ "" if view.count == 1 else "s" }} of evidence</span></p>
      {% if view.override %}<p class="small"><strong>Teacher judgement:</strong> {{ view.override.reason }}
        {% if view.computed_level %}<span class="muted">(calculated: {{ view.computed_level.label }})</span>{% endif %}</p>{% endif %}
      {% if view.next_step %}<p class="small"><strong>Next step:</strong> {{ view.next_step }}</p>{% endif %}
      {{ evidence_table(standard.evidence) }}
    </div>
    {% endfor %}
  {% endfor %}
  {% for competency, evidence in item.unlisted %}
    <div class="standard">
      <h4>{{ competency.code }} {{ competency.statement }} <span class="muted small">(no longer assessed in this class)</span></h4>
      {{ evidence_table(evidence) }}
    </div>
  {% endfor %}
</section>
{% endfor %}


<section class="card">
  <h2>Goals</h2>
  {% if story.goals %}
  {% for goal, steps, standards in story.goals %}
    <h3>{{ goal.title }} <span class="muted small">{{ goal.status }}{% if goal.target_on %} · by {{ goal.target_on.isoformat() }}{% endif %}</span></h3>
    {% if standards %}<p class="small muted">On: {% for s in standards %}{{ s.competency.code }} {{ s.competency.short_name or s.competency.statement }}{{ "; " if not loop.last }}{% endfor %}</p>{% endif %}
    {% if steps %}<ul>{% for step in steps %}<li>{{ "☑" if step.done else "☐" }} {{ step.text }}</li>{% endfor %}</ul>{% endif %}
    {% for comment, author in story.goal_comments.get(goal.id, []) %}<p class="reply">{{ author.name }}: {{ comment.body }}</p>{% endfor %}
  {% endfor %}
  {% else %}<p class="muted">No goals yet.</p>{% endif %}
</section>

<section class="card">
  <h2>Portfolio</h2>
  {% if story.entries %}
  {% for entry, competencies in story.entries %}
    <h3>{{ entry.title }} <span class="muted small">{{ entry.created_at.date().isoformat() }}{% if entry.featured %} · featured{% endif %}{% if own %} · seen by {{ visibility_words[entry.visibility] }}{% endif %}</span></h3>
    {% if competencies %}<p class="small muted">Shows: {% for c in competencies %}{{ c.code }} {{ c.short_name or c.statement }}{{ "; " if not loop.last }}{% endfor %}</p>{% endif %}
    {% if entry.reflection %}<p>{{ entry.reflection }}</p>{% endif %}
    {% for artifact in story.entry_artifacts.get(entry.id, []) %}
      {% if artifact.id in images %}<figure><img src="{{ images[artifact.id] }}" alt="{{ artifact.original_name }}" style="max-width: 100%; max-height: 24rem"><figcaption class="small muted">{{ artifact.original_name }}</figcaption></figure>
      {% else %}<p class="small">File: {{ artifact.original_name }}</p>{% endif %}
    {% endfor %}
    {% for comment, author in story.entry_comments.get(entry.id, []) %}<p class="reply">{{ author.name }}: {{ comment.body }}</p>{% endfor %}
  {% endfor %}
  {% else %}<p class="muted">{{ "Nothing in your portfolio yet." if own else "Nothing shared with family yet." }}</p>{% endif %}
</section>

<section class="card">
  <h2>Learner profile</h2>
  {% set profile = story.profile %}
  {% if profile %}
  <dl class="facts">
    <dt>Strengths</dt><dd>{{ profile.strengths or "—" }}</dd>
    <dt>Needs</dt><dd>{{ profile.needs or "—" }}</dd>
    <dt>Interests</dt><dd>{{ profile.interests or "—" }}</dd>
    <dt>Learns best</dt><dd>{{ profile.learns_best or "—" }}</dd>
    {% if profile.teacher_notes %}<dt>Teacher's notes</dt><dd>{{ profile.teacher_notes }}</dd>{% endif %}
  </dl>
  {% else %}<p class="muted">Not written yet.</p>{% endif %}
</section>
</body>
</html>
"""
