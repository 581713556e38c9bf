"""Standards from a spreadsheet (CSV), for schools that keep them there. Three layouts, told apart by the
header (the report says which one it read):

- **ours**: `code`, `statement`, optional `parent_code` and `short_name`, and one column per level descriptor,
  named `level_4`, `level_3` … (the level's points) or by the scale's label (`Exceeds`, `Meets` …);
- **OpenSALT's CASE spreadsheet**: `Identifier`, `fullStatement`, `Human Coding Scheme`, `Is Child Of` (the
  parent's coding scheme or identifier), `sequenceNumber`, `Abbreviated Statement`, `CFItemType` … (the other
  CASE columns are read and not imported, with a note);
- **the Canvas outcomes CSV**: `vendor_guid`, `object_type` (group or outcome), `title`, `description`,
  `display_name`, `parent_guids` (space-separated), `calculation_method`, `calculation_int`, `workflow_state`,
  and `ratings` followed by points/description pairs. Groups become inner competencies, outcomes standards,
  `parent_guids` the tree (an outcome in several groups sits under the most specific), ratings the level
  descriptors; `calculation_method`/`calculation_int` are offered as a section policy in a note.

Row numbers in messages count the header as row 1, as a spreadsheet shows them.

Rules (the same as the CASE import): competencies are matched by code within the framework, so a
re-import updates and never duplicates; nothing is ever deleted, so evidence is never touched; an empty
level cell removes that level's descriptor. A header that cannot be read imports nothing; a row that
cannot be imported (no code, no statement, a repeated code, an unknown parent or value …) is rejected with
its row and reason, and so are the rows below it, under the import rule (gradebook/interop/rule.py): a file
with a rejected row imports nothing unless skipping them is chosen.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook.interop.case_import import (
    CODE_MAX,
    IDENTIFIER_MAX,
    ITEM_TYPE_MAX,
    OUR_LAYOUT,
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
    natural_key,
)
from gradebook.interop.rule import Rejection, under_rule
from gradebook.models import Competency, Framework, ScaleLevel, School, User
from gradebook.proficiency import DEFAULT_LEVELS
from gradebook.services import ServiceError

MAX_CSV_BYTES = 10 * 1024 * 1024
REQUIRED = ("code", "statement")
OPTIONAL = ("parent_code", "short_name")
ALIASES = {"parent": "parent_code", "parent code": "parent_code", "short name": "short_name",
           "full_statement": "statement"}
LEVEL_RE = re.compile(r"^level[ _-]?(\d+(?:\.\d+)?)$")

OPENSALT_LAYOUT = "OpenSALT's CASE spreadsheet"
CANVAS_LAYOUT = "the Canvas outcomes CSV"
# OpenSALT columns by their squashed name (lower case, no spaces or underscores).
OPENSALT_COLUMNS = {"identifier": "identifier", "fullstatement": "statement", "humancodingscheme": "code",
                    "ischildof": "parent", "sequencenumber": "sequence", "abbreviatedstatement": "short_name",
                    "cfitemtype": "item_type", "itemtype": "item_type"}
CANVAS_COLUMNS = ("vendor_guid", "object_type", "title", "description", "display_name", "calculation_method",
                  "calculation_int", "workflow_state", "parent_guids", "ratings", "mastery_points")
CANVAS_METHODS = {"decaying_average": "decaying average", "weighted_average": "weighted average",
                  "n_mastery": "n mastery", "latest": "latest", "highest": "highest", "average": "average",
                  "standard_decaying_average": "decaying average"}


@dataclass
class _Row:
    number: int
    code: str
    statement: str
    parent: str | None = None  # a code (ours), a code or identifier (OpenSALT), a vendor_guid (Canvas)
    short_name: str | None = None
    identifier: str | None = None
    item_type: str | None = None
    sequence: tuple = (True, 0)
    descriptors: dict[float, str] | None = None
    problems: list[str] = field(default_factory=list)


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


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def recognise(header: list[str]) -> str:
    """Which layout a header is: ours, OpenSALT's CASE spreadsheet, or the Canvas outcomes CSV."""
    names = {_squash(cell) for cell in header}
    if {"vendorguid", "objecttype", "title"} <= names:
        return CANVAS_LAYOUT
    if "fullstatement" in names and ({"identifier", "humancodingscheme"} & names) and "code" not in names:
        return OPENSALT_LAYOUT
    return OUR_LAYOUT


def _columns(header: list[str], labels: dict[str, float]) -> tuple[dict[str, int], dict[float, int]]:
    """Column positions of the known fields and of the level columns (by points), for our layout."""
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
                           "(level_4, level_3 … or the level names); OpenSALT's CASE spreadsheet and the "
                           "Canvas outcomes CSV are recognised by their own headers.")
    if unknown:
        raise ServiceError(f"Nothing was imported: unknown column{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(f'“{u}”' for u in unknown)}. The columns are code, parent_code, statement, "
                           f"short_name and one per level (level_4, level_3 … or {', '.join(labels)}).")
    return fields, levels


def _cells(row: list[str], width: int) -> list[str]:
    return [cell.strip() for cell in row] + [""] * (width - len(row))


def _our_rows(header: list[str], body: list[tuple[int, list[str]]],
              labels: dict[str, float]) -> tuple[list[_Row], frozenset[float], bool]:
    fields, levels = _columns(header, labels)
    rows: list[_Row] = []
    for number, raw in body:
        cells = _cells(raw[:len(header)], len(header))

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[fields[name]] if name in fields else ""

        descriptors = {points: cells[index] for points, index in levels.items() if cells[index]}
        rows.append(_Row(number, cell("code"), cell("statement"), parent=cell("parent_code") or None,
                         short_name=cell("short_name") or None, descriptors=descriptors if levels else None,
                         problems=[f"has {len(raw)} cells but the header has {len(header)} columns."]
                         if len(raw) > len(header) else []))
    return rows, frozenset(levels), bool(levels)


def _opensalt_rows(header: list[str], body: list[tuple[int, list[str]]],
                   warnings: list[str]) -> list[_Row]:
    fields: dict[str, int] = {}
    other: list[str] = []
    for index, raw in enumerate(header):
        name = OPENSALT_COLUMNS.get(_squash(raw))
        if name is None:
            if raw.strip():
                other.append(raw.strip())
            continue
        if name in fields:
            raise ServiceError(f"Nothing was imported: the column “{raw.strip()}” appears twice in the header.")
        fields[name] = index
    if "statement" not in fields:
        raise ServiceError("Nothing was imported: this OpenSALT spreadsheet has no fullStatement column.")
    if other:
        warnings.append(f"Columns read and not imported: {', '.join(other)}.")
    rows: list[_Row] = []
    for number, raw in body:
        cells = _cells(raw, len(header))

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[fields[name]] if name in fields and fields[name] < len(cells) else ""

        identifier = cell("identifier") or None
        sequence_text = cell("sequence")
        row = _Row(number, cell("code") or (identifier or ""), cell("statement"), parent=cell("parent") or None,
                   short_name=cell("short_name") or None, identifier=identifier,
                   item_type=cell("item_type") or None)
        if sequence_text:
            if sequence_text.lstrip("-").isdigit():
                row.sequence = (False, int(sequence_text))
            else:
                row.problems.append(f"has the sequenceNumber “{sequence_text}”, not a whole number.")
        if identifier and len(identifier) > IDENTIFIER_MAX:
            row.problems.append(f"has an Identifier longer than {IDENTIFIER_MAX} characters.")
        if row.item_type and len(row.item_type) > ITEM_TYPE_MAX:
            row.problems.append(f"has a CFItemType longer than {ITEM_TYPE_MAX} characters.")
        rows.append(row)
    return rows


def _canvas_rows(header: list[str], body: list[tuple[int, list[str]]], warnings: list[str]) -> list[_Row]:
    fields: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        if name in CANVAS_COLUMNS and name not in fields:
            fields[name] = index
    ratings_at = fields.get("ratings")
    rows: list[_Row] = []
    methods: dict[str, list[str]] = {}
    by_guid: dict[str, _Row] = {}
    groups: dict[str, list[str]] = {}
    skipped: list[str] = []
    for number, raw in body:
        cells = _cells(raw, len(header))

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[fields[name]] if name in fields and fields[name] < len(cells) else ""

        guid, kind, title = cell("vendor_guid"), cell("object_type").lower(), cell("title")
        state = cell("workflow_state").lower()
        code = cell("display_name") or guid
        row = _Row(number, code, cell("description") or title, short_name=title or None, identifier=guid or None,
                   item_type={"group": "Group", "outcome": "Outcome"}.get(kind))
        if not guid:
            row.problems.append("has no vendor_guid.")
        if kind not in ("group", "outcome"):
            row.problems.append(f"has the object_type “{cell('object_type')}”, neither group nor outcome.")
        if state not in ("", "active", "deleted"):
            row.problems.append(f"has the workflow_state “{cell('workflow_state')}”, neither active nor deleted.")
        if state == "deleted":
            skipped.append(f"{code} (row {number})")
            continue
        parents = cell("parent_guids").split()
        if len(parents) > 1:
            groups[guid] = parents
        row.parent = parents[0] if parents else None
        if kind == "outcome" and ratings_at is not None:
            pairs = cells[ratings_at:]
            descriptors: dict[float, str] = {}
            for offset in range(0, len(pairs) - 1, 2):
                points_text, text = pairs[offset], pairs[offset + 1]
                if not points_text and not text:
                    continue
                try:
                    points = float(points_text)
                except ValueError:
                    row.problems.append(f"has the rating “{points_text}”, not a number of points.")
                    break
                if not text:
                    row.problems.append(f"has a rating of {points:g} points without a description.")
                    break
                descriptors[points] = text
            row.descriptors = descriptors
        method = cell("calculation_method")
        if method:
            if method not in CANVAS_METHODS:
                row.problems.append(f"has the calculation_method “{method}”, not one Canvas uses "
                                    f"({', '.join(CANVAS_METHODS)}).")
            else:
                methods.setdefault(_policy_offer(method, cell("calculation_int")), []).append(code)
        if guid:
            by_guid[guid] = row
        rows.append(row)
    # An outcome in several groups sits under the most specific one (a group below the others).
    for guid, parents in groups.items():
        def depth(g: str) -> int:
            seen, count, node = set(), 0, by_guid.get(g)
            while node is not None and node.parent and node.parent not in seen:
                seen.add(node.parent)
                count += 1
                node = by_guid.get(node.parent)
            return count
        chosen = max(parents, key=depth)
        by_guid[guid].parent = chosen
        others = [p for p in parents if p != chosen]
        warnings.append(f"Row {by_guid[guid].number} ({by_guid[guid].code}) is in the groups {' '.join(parents)}; it "
                        f"was placed under {chosen}, the most specific (a competency has one parent here; "
                        f"{' '.join(others)} kept it only as an ancestor or not at all).")
    if skipped:
        warnings.append(f"Rows with workflow_state deleted were not imported: {', '.join(skipped)}.")
    for offer, codes in methods.items():
        warnings.append(f"Canvas calculation method for {', '.join(codes)}: {offer}. To use it, set it as the "
                        "section's calculation policy (section → Calculation).")
    return rows


def _policy_offer(method: str, value: str) -> str:
    """Canvas's calculation_method/calculation_int as our policy: "decaying_average 40 → decaying average,
    weight of the latest evidence 0.40"."""
    number = int(value) if value.strip().isdigit() else None
    ours = CANVAS_METHODS[method]
    if number is not None and method in ("decaying_average", "standard_decaying_average", "weighted_average"):
        ours += f", weight of the latest evidence {number / 100:.2f}"
    if number is not None and method == "n_mastery":
        ours += f" with n = {number}"
    return f"{method}{f' {value}' if value else ''} → {ours}"


def parse_standards_csv(session: Session, data: bytes, framework: Framework | None, *,
                        filename: str = "the spreadsheet",
                        warnings: list[str] | None = None) -> tuple[list[PlannedCompetency], list[Rejection], str]:
    """Validate the whole spreadsheet without writing anything: the planned competencies, the rejected rows,
    and the layout recognised."""
    warnings = warnings if warnings is not None else []
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
    header = rows[0]
    body = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    layout = recognise(header)
    level_columns: frozenset[float] = frozenset()
    has_levels = False
    if layout == CANVAS_LAYOUT:
        parsed = _canvas_rows(header, body, warnings)
        has_levels = any(r.descriptors for r in parsed)
    elif layout == OPENSALT_LAYOUT:
        parsed = _opensalt_rows(header, body, warnings)
    else:
        parsed, level_columns, has_levels = _our_rows(header, body, _scale_labels(session))
    if not parsed:
        fail(["It has a header but no rows of standards."], "this spreadsheet")
    if layout == CANVAS_LAYOUT and has_levels:
        scale_points = set(_scale_labels(session).values())
        odd = sorted({p for r in parsed for p in (r.descriptors or {}) if p not in scale_points})
        if odd:
            warnings.append(f"Ratings at {', '.join(f'{p:g}' for p in odd)} points are not levels of the school's "
                            "scale; their descriptions are kept and show where a level has those points.")

    existing_parents: dict[str, str | None] = {}
    existing_identifiers: dict[str, str] = {}
    if framework is not None:
        competencies = session.execute(select(Competency.id, Competency.code, Competency.parent_id,
                                              Competency.identifier)
                                       .where(Competency.framework_id == framework.id)
                                       .order_by(Competency.id)).all()
        code_of = {cid: code for cid, code, _, _ in competencies}
        for _cid, code, parent_id, identifier in competencies:
            existing_parents.setdefault(code, code_of.get(parent_id) if parent_id else None)
            if identifier:
                existing_identifiers.setdefault(identifier, code)

    rejected: list[Rejection] = []
    bad: dict[str, int] = {}  # code → row, of rejected rows (their children are rejected too)

    def reject(row: _Row, message: str) -> None:
        rejected.append(Rejection(filename, row.number, f"{row.code or 'the row'} {message}"))

    row_of: dict[str, int] = {}
    good: list[_Row] = []
    for row in parsed:
        problems = list(row.problems)
        if not row.code:
            problems.append("has no code." if layout == OUR_LAYOUT else "has no code (Human Coding Scheme, "
                            "Identifier, display_name or vendor_guid).")
        elif len(row.code) > CODE_MAX:
            problems.append(f"is a code of {len(row.code)} characters; at most {CODE_MAX} fit.")
        elif row.code in row_of:
            problems.append(f"is already on row {row_of[row.code]}.")
        if not row.statement:
            problems.append("has no statement.")
        if row.short_name and len(row.short_name) > SHORT_NAME_MAX:
            row.short_name = row.short_name[:SHORT_NAME_MAX]
        if problems:
            for problem in problems:
                reject(row, problem)
            if row.code and row.code not in row_of:
                bad[row.code] = row.number
            continue
        row_of[row.code] = row.number
        good.append(row)

    # Parents name a code (or, in the other layouts, an identifier / vendor_guid).
    by_identifier = {r.identifier: r.code for r in good if r.identifier}
    bad_identifiers = {r.identifier for r in parsed if r.identifier and r.code in bad}
    for row in good:
        if row.parent is None:
            continue
        target = row.parent if row.parent in row_of or row.parent in bad else (
            by_identifier.get(row.parent) or existing_identifiers.get(row.parent) or row.parent)
        if row.parent in bad_identifiers:
            target = next(r.code for r in parsed if r.identifier == row.parent)
        row.parent = target
        if target == row.code:
            row.problems.append("names itself as its parent.")
        elif target not in row_of and target not in existing_parents and target not in bad:
            row.problems.append(f"has the parent {target}, which is neither in the file nor in the framework.")

    parents = {**existing_parents, **{r.code: r.parent for r in good if not r.problems}}
    cycle = find_cycle(parents)
    if cycle:
        fail(["The parents make a cycle (child → parent): " + " → ".join(
            f"{code} (row {row_of[code]})" if code in row_of else code for code in cycle) + "."], "this spreadsheet")

    changed = True
    while changed:  # a row under a rejected row is rejected too
        changed = False
        for row in good:
            if row.code in bad:
                continue
            if row.problems:
                for problem in row.problems:
                    reject(row, problem)
            elif row.parent in bad:
                reject(row, f"is under {row.parent} (row {bad[row.parent]}), which was rejected.")
            else:
                continue
            bad[row.code] = row.number
            changed = True
    kept = [r for r in good if r.code not in bad]
    rejected.sort(key=lambda r: r.row or 0)

    siblings: dict[str | None, list[_Row]] = {}
    for row in kept:
        siblings.setdefault(row.parent, []).append(row)
    planned: list[PlannedCompetency] = []
    for members in siblings.values():
        if layout == OPENSALT_LAYOUT:
            members.sort(key=lambda r: (*r.sequence, natural_key(r.code), r.number))
        for position, row in enumerate(members):
            planned.append(PlannedCompetency(
                key=row.code, code=row.code, statement=row.statement, short_name=row.short_name,
                identifier=row.identifier, item_type=row.item_type, parent_key=row.parent, position=position,
                descriptors=row.descriptors if has_levels else None,
                level_columns=level_columns if layout == OUR_LAYOUT else frozenset(row.descriptors or {})))
    planned.sort(key=lambda p: row_of[p.code])
    return planned, rejected, layout


def title_from_filename(filename: str) -> str:
    """A framework title from an uploaded file's name: its stem, with underscores read as spaces."""
    stem = PurePath(filename.replace("\\", "/")).stem
    return " ".join(stem.replace("_", " ").split())[:TITLE_MAX]


def import_standards_csv(session: Session, data: bytes, *, framework_title: str, actor: User | None,
                         dry_run: bool = False, skip_rejected: bool = False,
                         filename: str = "the spreadsheet", school_id: int | None = None) -> ImportReport:
    """Import (or re-import) a spreadsheet of standards into the framework with this title.

    ``school_id``: a school admin's import, into that school's frameworks (another school's frameworks are
    not looked at; the district's framework of that title is not changed: refused with the reason).

    Under the import rule (gradebook/interop/rule.py): ``dry_run`` reports and changes nothing; a file with a
    rejected row imports nothing (``outcome == "blocked"``) unless ``skip_rejected``.
    """
    title, title_note = (framework_title or "").strip(), ""
    if not title and filename != "the spreadsheet":
        # An upload with the title left blank: the framework is named after the file (as a teacher who
        # uploads "Grade 6 science.csv" expects), and the report says so first, before anything is imported.
        title = title_from_filename(filename)
        title_note = (f"No framework title was given, so the framework is named “{title}” after the file "
                      "(type a title on the import page to name it otherwise).")
    if not title or len(title) > TITLE_MAX:
        raise ServiceError(f"Give the framework a title of 1 to {TITLE_MAX} characters.", "framework_title")
    titled = select(Framework).where(Framework.title == title).order_by(Framework.id)
    if school_id is not None:
        titled = titled.where(Framework.school_id.is_(None) | (Framework.school_id == school_id))
    frameworks = session.scalars(titled).all()
    if school_id is not None and any(f.school_id is None for f in frameworks):
        raise ServiceError(f"“{title}” is the district's framework: a district admin updates it. Give your "
                           "school's framework another title. Nothing was imported.", "framework_title")
    if len(frameworks) > 1:
        raise ServiceError(f"Several frameworks are titled “{title}”; rename one first. Nothing was imported.",
                           "framework_title")
    framework = frameworks[0] if frameworks else None
    warnings: list[str] = []
    planned, rejected, layout = parse_standards_csv(session, data, framework, filename=filename, warnings=warnings)
    if not planned and rejected:
        fail([str(r) for r in rejected], "this spreadsheet")

    def write() -> ImportReport:
        nonlocal framework
        created = framework is None
        if framework is None:
            framework = Framework(title=title, source="csv", school_id=school_id)
            session.add(framework)
            session.flush()
        outcome = apply_tree(session, framework, planned, match_on="code")
        changed = {c.id for c in outcome.created} | {c.id for c in outcome.updated}
        report = ImportReport(framework=framework, created=len(outcome.created), updated=len(outcome.updated),
                              unchanged=len(outcome.unchanged), framework_created=created,
                              kept_not_in_file=outcome.kept,
                              changed_codes=[p.code for p in planned if outcome.by_key[p.key].id in changed],
                              layout=layout, warnings=warnings, rejected=rejected, title=title,
                              title_note=title_note)
        if not report.no_change:
            audit_import(session, actor, report, "csv")
        return report

    return under_rule(session, write, dry_run=dry_run, skip_rejected=skip_rejected, what="The spreadsheet")
