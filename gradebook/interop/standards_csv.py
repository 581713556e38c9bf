"""Standards from a spreadsheet (CSV), for schools that keep them there.

Columns: `code`, `statement`, optional `parent_code` and `short_name`, and one column per level descriptor,
named `level_4`, `level_3` … (the level's points) or by the scale's label (`Exceeds`, `Meets` …).
Row numbers in messages count the header as row 1, as a spreadsheet shows them.

Rules (the same as the CASE import): competencies are matched by code within the framework, so a
re-import updates and never duplicates; nothing is ever deleted, so evidence is never touched; an empty
level cell removes that level's descriptor; any problem names its row and imports nothing.
"""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gradebook.interop.case_import import (
    CODE_MAX,
    SHORT_NAME_MAX,
    TITLE_MAX,
    ImportReport,
    PlannedCompetency,
    apply_tree,
    audit_import,
    check_size,
    decode_utf8,
    fail,
    find_cycle,
)
from gradebook.models import Competency, Framework, ScaleLevel, School, User
from gradebook.proficiency import DEFAULT_LEVELS
from gradebook.services import ServiceError

MAX_CSV_BYTES = 10 * 1024 * 1024
REQUIRED = ("code", "statement")
OPTIONAL = ("parent_code", "short_name")
ALIASES = {"parent": "parent_code", "parent code": "parent_code", "short name": "short_name",
           "full_statement": "statement"}
LEVEL_RE = re.compile(r"^level[ _-]?(\d+(?:\.\d+)?)$")


def _scale_labels(session: Session) -> dict[str, float]:
    """Lower-cased level label → points, from the school's scale (or the default four levels)."""
    scale_id = session.scalar(select(School.default_scale_id).order_by(School.id).limit(1))
    if scale_id is not None:
        rows = session.execute(select(ScaleLevel.label, ScaleLevel.points)
                               .where(ScaleLevel.scale_id == scale_id)).all()
        if rows:
            return {label.strip().lower(): points for label, points in rows}
    return {label.lower(): float(points) for points, label, *_ in DEFAULT_LEVELS}


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)


def _columns(header: list[str], labels: dict[str, float]) -> tuple[dict[str, int], dict[float, int]]:
    """Column positions of the known fields and of the level columns (by points)."""
    fields: dict[str, int] = {}
    levels: dict[float, int] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        name = ALIASES.get(name, name)
        match = LEVEL_RE.match(name.replace(" ", "_"))
        points = float(match.group(1)) if match else labels.get(name)
        if name in REQUIRED + OPTIONAL:
            if name in fields:
                raise ServiceError(f"Nothing was imported: the column “{raw.strip()}” appears twice in the header.")
            fields[name] = index
        elif points is not None:
            if points in levels:
                raise ServiceError(f"Nothing was imported: two columns are for level {points:g} "
                                   f"(“{header[levels[points]].strip()}” and “{raw.strip()}”).")
            levels[points] = index
        elif name:
            unknown.append(raw.strip())
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        raise ServiceError(f"Nothing was imported: the header has no {' and no '.join(missing)} column. "
                           "The columns are code, parent_code, statement, short_name and one per level "
                           "(level_4, level_3 … or the level names).")
    if unknown:
        raise ServiceError(f"Nothing was imported: unknown column{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(f'“{u}”' for u in unknown)}. The columns are code, parent_code, statement, "
                           f"short_name and one per level (level_4, level_3 … or {', '.join(labels)}).")
    return fields, levels


def parse_standards_csv(session: Session, data: bytes, framework: Framework | None) -> list[PlannedCompetency]:
    """Validate the whole spreadsheet without writing anything."""
    check_size(len(data), MAX_CSV_BYTES, "a standards spreadsheet")
    if not data.strip():
        raise ServiceError("The file is empty. A standards spreadsheet has a header row (code, parent_code, "
                           "statement …) and one row per standard. Nothing was imported.")
    text = decode_utf8(data, "The file")
    if text.lstrip().startswith(("{", "[")):
        raise ServiceError("The file looks like JSON, not CSV. For a CASE package use the CASE import. "
                           "Nothing was imported.")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True))
    except csv.Error as error:
        raise ServiceError(f"Nothing was imported: the file is not valid CSV ({error}).") from None
    header, body = rows[0], rows[1:]
    fields, levels = _columns(header, _scale_labels(session))
    level_columns = frozenset(levels)

    existing_parents: dict[str, str | None] = {}
    if framework is not None:
        competencies = session.execute(select(Competency.id, Competency.code, Competency.parent_id)
                                       .where(Competency.framework_id == framework.id)
                                       .order_by(Competency.id)).all()
        code_of = {cid: code for cid, code, _ in competencies}
        for _cid, code, parent_id in competencies:
            existing_parents.setdefault(code, code_of.get(parent_id) if parent_id else None)

    errors: list[str] = []
    planned: list[PlannedCompetency] = []
    row_of: dict[str, int] = {}
    positions: dict[str | None, int] = {}
    for number, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append(f"Row {number} has {len(row)} cells but the header has {len(header)} columns.")
            continue
        row = row + [""] * (len(header) - len(row))

        def cell(name: str, row: list[str] = row) -> str:
            return row[fields[name]].strip() if name in fields else ""

        code, statement, parent = cell("code"), cell("statement"), cell("parent_code") or None
        short_name = cell("short_name") or None
        if not code:
            errors.append(f"Row {number} has no code.")
            continue
        if len(code) > CODE_MAX:
            errors.append(f"Row {number}: the code is {len(code)} characters long; at most {CODE_MAX} fit.")
            continue
        if code in row_of:
            errors.append(f"Row {number}: the code {code} is already on row {row_of[code]}.")
            continue
        row_of[code] = number
        if not statement:
            errors.append(f"Row {number} ({code}) has no statement.")
        if short_name and len(short_name) > SHORT_NAME_MAX:
            errors.append(f"Row {number} ({code}): the short name is longer than {SHORT_NAME_MAX} characters.")
        if parent == code:
            errors.append(f"Row {number} ({code}) names itself as its parent.")
            parent = None
        descriptors = {points: row[index].strip() for points, index in levels.items() if row[index].strip()}
        position = positions.get(parent, 0)
        positions[parent] = position + 1
        planned.append(PlannedCompetency(key=code, code=code, statement=statement, short_name=short_name,
                                         parent_key=parent, position=position,
                                         descriptors=descriptors if levels else None, level_columns=level_columns))
    for plan in planned:
        if plan.parent_key is not None and plan.parent_key not in row_of and plan.parent_key not in existing_parents:
            errors.append(f"Row {row_of[plan.code]} ({plan.code}): the parent code {plan.parent_key} is neither in "
                          "the file nor in the framework.")
    if not planned and not errors:
        errors.append("It has a header but no rows of standards.")
    fail(errors, "this spreadsheet")

    parents = {**existing_parents, **{p.code: p.parent_key for p in planned}}
    cycle = find_cycle(parents)
    if cycle:
        fail(["The parent codes make a cycle (child → parent): " + " → ".join(
            f"{code} (row {row_of[code]})" if code in row_of else code for code in cycle) + "."], "this spreadsheet")
    return planned


def import_standards_csv(session: Session, data: bytes, *, framework_title: str, actor: User | None) -> ImportReport:
    """Import (or re-import) a spreadsheet of standards into the framework with this title."""
    title = (framework_title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise ServiceError(f"Give the framework a title of 1 to {TITLE_MAX} characters.", "framework_title")
    frameworks = session.scalars(select(Framework).where(Framework.title == title).order_by(Framework.id)).all()
    if len(frameworks) > 1:
        raise ServiceError(f"Several frameworks are titled “{title}”; rename one first. Nothing was imported.",
                           "framework_title")
    framework = frameworks[0] if frameworks else None
    planned = parse_standards_csv(session, data, framework)
    try:
        with session.begin_nested():
            created = framework is None
            if framework is None:
                framework = Framework(title=title, source="csv")
                session.add(framework)
                session.flush()
            outcome = apply_tree(session, framework, planned, match_on="code")
            changed = {c.id for c in outcome.created} | {c.id for c in outcome.updated}
            report = ImportReport(framework=framework, created=len(outcome.created), updated=len(outcome.updated),
                                  unchanged=len(outcome.unchanged), framework_created=created,
                                  kept_not_in_file=outcome.kept,
                                  changed_codes=[p.code for p in planned if outcome.by_key[p.key].id in changed])
            if not report.no_change:
                audit_import(session, actor, report, "csv")
    except SQLAlchemyError as error:
        raise ServiceError(f"The spreadsheet could not be saved, so nothing was imported "
                           f"({type(error).__name__}).") from error
    return report
