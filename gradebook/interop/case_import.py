"""CASE import: a 1EdTech CASE 1.0/1.1 JSON package becomes a framework of competencies.

Rules:
- the CFDocument is the framework (matched by its identifier); CFItems are competencies (matched by
  identifier within the framework); `isChildOf` builds the tree (origin is the child, destination the parent
  or the document); `sequenceNumber` orders siblings; `exactMatchOf` is kept as a crosswalk; `A precedes B`
  is kept as a framework prerequisite (A is a prerequisite of B, in every section that assesses both).
- Re-importing updates by identifier, never duplicates, and never touches evidence: competencies are only
  created or updated, never deleted (items a new version leaves out are kept and counted).
- `isRelatedTo` is kept too (a Crosswalk row of that kind, shown on the standard's admin page); `precedes`
  and the other association types are counted in a note.
- Codes: `humanCodingScheme`; else the item's `listEnumeration` under its parent's code; else an
  abbreviated statement under the parent's code. Codes are unique within the framework: a repeated one gets
  a suffix, with a note.
- The whole package is validated before anything is written. A problem with the package itself (not JSON,
  not CASE, no document identifier or title, an isChildOf cycle, which is named) raises ServiceError and
  nothing is written. A problem with one item (no identifier or fullStatement, an identifier used twice with
  different contents, a dangling isChildOf) rejects that item and the items below it, under the import rule
  (gradebook/interop/rule.py): a package with a rejected item imports nothing unless skipping them is chosen.
  The writes happen inside one savepoint, so a failure leaves the caller's transaction as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook.interop.rule import DRY_RUN, IMPORTED, Rejection, outcome_sentence, under_rule
from gradebook.models import (
    AuditEvent,
    Competency,
    Crosswalk,
    Framework,
    LevelDescriptor,
    Prerequisite,
    TextTranslation,
    User,
)
from gradebook.services import ServiceError

T = TypeVar("T")

MAX_CASE_BYTES = 50 * 1024 * 1024
MAX_ERRORS = 10
CROSSWALK_KIND = "exactMatchOf"
PRECEDES_KIND = "precedes"
RELATED_KIND = "isRelatedTo"
TRANSLATION_KIND = "isTranslationOf"
LINK_KINDS = (CROSSWALK_KIND, RELATED_KIND)  # kept as Crosswalk rows, told apart by their kind

# Column widths of the models: checked here so SQLite and PostgreSQL refuse the same input.
CODE_MAX = 80
SHORT_NAME_MAX = 255
ITEM_TYPE_MAX = 80
IDENTIFIER_MAX = 255
TITLE_MAX = 255
PUBLISHER_MAX = 255
VERSION_MAX = 60
SUBJECT_MAX = 120
TARGET_LABEL_MAX = 500
OUR_LAYOUT = "our standards spreadsheet"


# ---------------------------------------------------------------- shared by the CASE and CSV imports

@dataclass
class ImportReport:
    """What a standards import did. `changed_codes` lists the codes of created and updated competencies."""

    framework: Framework
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_codes: list[str] = field(default_factory=list)
    crosswalks: int = 0
    crosswalks_added: int = 0
    crosswalks_updated: int = 0
    crosswalks_removed: int = 0
    crosswalks_resolved: int = 0  # crosswalks of other frameworks that now point at a created competency
    prerequisites: int = 0  # CASE `precedes` kept as prerequisites
    prerequisites_added: int = 0
    prerequisites_removed: int = 0
    framework_created: bool = False
    framework_changed: bool = False
    kept_not_in_file: int = 0
    related: int = 0  # isRelatedTo links kept
    layout: str = ""  # which spreadsheet layout was recognised (standards spreadsheets)
    warnings: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    outcome: str = IMPORTED
    title: str = ""  # the framework's title, kept apart from the row (a dry run rolls the row back)
    title_note: str = ""  # how the title was chosen when none was given (said first in the summary)

    @property
    def no_change(self) -> bool:
        return not (self.created or self.updated or self.framework_created or self.framework_changed
                    or self.crosswalks_added or self.crosswalks_updated or self.crosswalks_removed
                    or self.crosswalks_resolved or self.prerequisites_added or self.prerequisites_removed)

    @property
    def summary(self) -> str:
        title = self.title or self.framework.title
        head = outcome_sentence(self.outcome, len(self.rejected))
        read_as = f" Read as {self.layout}." if self.layout and self.layout != OUR_LAYOUT else ""
        if self.no_change and not self.rejected:
            text = (f"No change: “{title}” is already up to date ("
                    + ngettext("%(num)d competency", "%(num)d competencies", self.unchanged)
                    + (", " + ngettext("%(num)d crosswalk", "%(num)d crosswalks", self.crosswalks)
                       if self.crosswalks else "") + ")." + read_as)
            return " ".join(part for part in (head if self.outcome == DRY_RUN else "", self.title_note, text) if part)
        if self.outcome == IMPORTED:
            verb = "Imported" if self.framework_created else "Updated"
            text = f"{verb} “{title}”: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        else:
            verb = "Create" if self.framework_created else "Update"
            text = f"{verb} “{title}”: {self.created} new, {self.updated} changed, {self.unchanged} unchanged"
        if self.crosswalks:
            text += "; " + ngettext("%(num)d crosswalk", "%(num)d crosswalks", self.crosswalks)
        if self.prerequisites:
            text += "; " + ngettext("%(num)d prerequisite", "%(num)d prerequisites", self.prerequisites)
        if self.related:
            text += "; " + ngettext("%(num)d related-standard link", "%(num)d related-standard links", self.related)
        if self.kept_not_in_file:
            text += "; " + ngettext("%(num)d competency not in this file was kept",
                                    "%(num)d competencies not in this file were kept", self.kept_not_in_file)
        text += "."
        if self.changed_codes:
            shown = ", ".join(self.changed_codes[:20])
            more = len(self.changed_codes) - 20
            text += f" Changed: {shown}" + (f" and {more} more." if more > 0 else ".")
        return " ".join(part for part in (head, self.title_note, text + read_as) if part)


@dataclass
class PlannedCompetency:
    """One competency as the file says it should be; `key` matches it to an existing row."""

    key: str
    code: str
    statement: str
    short_name: str | None = None
    item_type: str | None = None
    identifier: str | None = None
    parent_key: str | None = None
    position: int = 0
    # points → description of the non-empty level cells; None when the file has no level columns.
    descriptors: dict[float, str] | None = None
    # the points of every level column in the file: an empty cell there removes that descriptor.
    level_columns: frozenset[float] = frozenset()


def check_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise ServiceError(f"The file is {size / 1024 / 1024:.1f} MB; the limit for {what} is "
                           f"{limit // 1024 // 1024} MB. Nothing was imported.")


def decode_utf8(data: bytes, what: str) -> str:
    """UTF-8 text, with a leading byte-order mark accepted and dropped; any other encoding is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ServiceError(f"{what} is UTF-16 text. Save it as UTF-8 and import it again. Nothing was imported.")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ServiceError(f"{what} is not UTF-8 text (an invalid byte on line {line}). Save it as UTF-8 and "
                           "import it again. Nothing was imported.") from None


def natural_key(text: str | None) -> tuple[tuple[int, int, str], ...]:
    """Sorts “L1.2” before “L1.10”."""
    parts = re.findall(r"\d+|\D+", (text or "").lower())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def find_cycle_in_graph(parents: dict[str, list[str | None]]) -> list[str] | None:
    """The keys of one cycle in a child → parents map (a child may have several parents), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in parents:
        if state.get(start):
            continue
        path: list[str] = [start]
        stack: list[tuple[str, list[str]]] = [(start, [p for p in parents.get(start, []) if p is not None])]
        state[start] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            nxt = todo.pop(0)
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, [p for p in parents.get(nxt, []) if p is not None]))
    return None


def find_cycle(parents: dict[str, str | None]) -> list[str] | None:
    """The keys of one cycle in a child → parent map, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in parents:
        path: list[str] = []
        node: str | None = start
        while node is not None and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parents.get(node)
        if node is not None and state.get(node) == 1:
            return path[path.index(node):] + [node]
        for visited in path:
            state[visited] = 2
    return None


def fail(errors: list[str], what: str) -> None:
    if not errors:
        return
    shown = errors[:MAX_ERRORS]
    more = len(errors) - len(shown)
    head = f"Nothing was imported: {what} has {len(errors)} problem{'s' if len(errors) != 1 else ''}."
    if len(errors) == 1:
        head = f"Nothing was imported: {what} has a problem."
    raise ServiceError(head + " " + " ".join(shown) + (f" (and {more} more)" if more > 0 else ""))


@dataclass
class TreeOutcome:
    created: list[Competency] = field(default_factory=list)
    updated: list[Competency] = field(default_factory=list)
    unchanged: list[Competency] = field(default_factory=list)
    by_key: dict[str, Competency] = field(default_factory=dict)
    kept: int = 0


def apply_tree(session: Session, framework: Framework, planned: list[PlannedCompetency], *,
               match_on: str) -> TreeOutcome:
    """Create or update the framework's competencies to match `planned`; never delete one.

    `match_on` is the column that identifies a competency across imports ("identifier" for CASE, "code"
    for a spreadsheet). A row is written only when one of its values differs, so an unchanged file writes
    nothing.
    """
    existing = session.scalars(select(Competency).where(Competency.framework_id == framework.id)
                               .order_by(Competency.id)).all()
    outcome = TreeOutcome()
    for competency in existing:
        key = getattr(competency, match_on)
        if key is not None:
            outcome.by_key.setdefault(key, competency)
    planned_keys = {p.key for p in planned}
    outcome.kept = sum(1 for c in existing if getattr(c, match_on) not in planned_keys)

    descriptors: dict[int, dict[float, LevelDescriptor]] = {}
    if any(p.descriptors is not None for p in planned) and existing:
        for row in session.scalars(select(LevelDescriptor).where(
                LevelDescriptor.competency_id.in_([c.id for c in existing]))):
            descriptors.setdefault(row.competency_id, {})[row.points] = row

    fresh: list[tuple[PlannedCompetency, Competency]] = []
    for plan in planned:
        if plan.key not in outcome.by_key:
            competency = Competency(framework_id=framework.id, identifier=plan.identifier, code=plan.code,
                                    statement=plan.statement, short_name=plan.short_name,
                                    item_type=plan.item_type, position=plan.position)
            session.add(competency)
            outcome.by_key[plan.key] = competency
            fresh.append((plan, competency))
    session.flush()
    new_ids = {c.id for _, c in fresh}

    for plan in planned:
        competency = outcome.by_key[plan.key]
        parent_id = outcome.by_key[plan.parent_key].id if plan.parent_key is not None else None
        if competency.id in new_ids:
            competency.parent_id = parent_id
            for points, text in (plan.descriptors or {}).items():
                session.add(LevelDescriptor(competency_id=competency.id, points=points, description=text))
            outcome.created.append(competency)
            continue
        wanted = {"code": plan.code, "statement": plan.statement, "short_name": plan.short_name,
                  "item_type": plan.item_type, "position": plan.position, "parent_id": parent_id}
        if plan.identifier is not None:
            wanted["identifier"] = plan.identifier
        changed = False
        for name, value in wanted.items():
            if getattr(competency, name) != value:
                setattr(competency, name, value)
                changed = True
        if plan.descriptors is not None:
            have = descriptors.get(competency.id, {})
            for points, text in plan.descriptors.items():
                row = have.get(points)
                if row is None:
                    session.add(LevelDescriptor(competency_id=competency.id, points=points, description=text))
                    changed = True
                elif row.description != text:
                    row.description = text
                    changed = True
            for points, row in have.items():
                if points not in plan.descriptors and points in plan.level_columns:
                    session.delete(row)
                    changed = True
        (outcome.updated if changed else outcome.unchanged).append(competency)
    session.flush()
    return outcome


def audit_import(session: Session, actor: User | None, report: ImportReport, source: str) -> None:
    session.add(AuditEvent(actor_id=actor.id if actor else None, action="framework.import",
                           target_type="framework", target_id=report.framework.id,
                           detail={"source": source, "created": report.created, "updated": report.updated,
                                   "unchanged": report.unchanged, "changed_codes": report.changed_codes[:200]}))


# ---------------------------------------------------------------- CASE parsing and validation

@dataclass
class _Document:
    identifier: str
    title: str
    publisher: str | None
    version: str | None
    subject: str | None


@dataclass
class _Crosswalk:
    origin: str
    target: str
    label: str | None
    kind: str = CROSSWALK_KIND


@dataclass
class _Package:
    document: _Document
    items: list[PlannedCompetency]
    crosswalks: list[_Crosswalk]
    warnings: list[str]
    precedes: list[tuple[str, str]] = field(default_factory=list)  # (origin, destination) identifiers
    rejected: list[Rejection] = field(default_factory=list)
    # CASE `isTranslationOf`: (the original item, the language, its statement, its short name) in that language.
    translations: list[tuple[str, str, str, str | None]] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _node_id(node: Any) -> str | None:
    """A LinkURI's identifier (CASE 1.0 and 1.1 both use {title, identifier, uri})."""
    if isinstance(node, dict):
        return _text(node.get("identifier"))
    return None


def _load_json(data: bytes) -> Any:
    if not data.strip():
        raise ServiceError("The file is empty. A CASE package is a JSON file with a CFDocument, CFItems and "
                           "CFAssociations. Nothing was imported.")
    text = decode_utf8(data, "The file")
    try:
        return json.loads(text)
    except RecursionError:
        raise ServiceError("The file is not a CASE package: its JSON is nested too deeply. "
                           "Nothing was imported.") from None
    except json.JSONDecodeError as error:
        hint = ""
        first_line = text.lstrip().split("\n", 1)[0]
        if not first_line.startswith(("{", "[")) and "," in first_line:
            hint = " It looks like a CSV file: use the standards CSV import for spreadsheets."
        elif _unclosed(text):
            hint = " The file ends before its JSON is complete: it may be truncated."
        raise ServiceError(f"The file is not valid JSON (line {error.lineno}, column {error.colno}: "
                           f"{error.msg}).{hint} A CASE package is a JSON file with a CFDocument. "
                           "Nothing was imported.") from None


def _unclosed(text: str) -> bool:
    """Whether a string or a bracket is still open at the end of the text (a cut-off download)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return in_string or depth > 0


def parse_case(data: bytes) -> _Package:
    """Validate a whole CASE package without touching the database."""
    check_size(len(data), MAX_CASE_BYTES, "a CASE package")
    raw = _load_json(data)
    if isinstance(raw, dict) and isinstance(raw.get("CFPackage"), dict):
        raw = raw["CFPackage"]
    if not isinstance(raw, dict) or "CFDocument" not in raw:
        raise ServiceError("This JSON file is not a CASE package: it has no CFDocument. "
                           "Export the framework as a CASE package (JSON) and try again. Nothing was imported.")
    errors: list[str] = []
    doc_raw = raw["CFDocument"]
    if not isinstance(doc_raw, dict):
        raise ServiceError("This JSON file is not a CASE package: its CFDocument is not an object. "
                           "Nothing was imported.")
    doc_id = _text(doc_raw.get("identifier"))
    title = _text(doc_raw.get("title"))
    if doc_id is None:
        errors.append("The CFDocument has no identifier.")
    if title is None:
        errors.append(f"The CFDocument{f' {doc_id}' if doc_id else ''} has no title.")
    subject_raw = doc_raw.get("subject")
    subject = ", ".join(s for s in (_text(x) for x in subject_raw) if s) if isinstance(subject_raw, list) \
        else _text(subject_raw)
    document = _Document(identifier=doc_id or "", title=title or "",
                         publisher=_text(doc_raw.get("publisher")) or _text(doc_raw.get("creator")),
                         version=_text(doc_raw.get("version")), subject=(subject or None) and subject[:SUBJECT_MAX])
    for name, value, limit in (("identifier", doc_id, IDENTIFIER_MAX), ("title", title, TITLE_MAX),
                               ("publisher", document.publisher, PUBLISHER_MAX),
                               ("version", document.version, VERSION_MAX)):
        if value is not None and len(value) > limit:
            errors.append(f"The CFDocument's {name} is {len(value)} characters long; at most {limit} fit.")

    items_raw = raw.get("CFItems", [])
    associations_raw = raw.get("CFAssociations", [])
    if not isinstance(items_raw, list):
        errors.append("CFItems is not a list.")
        items_raw = []
    if not isinstance(associations_raw, list):
        errors.append("CFAssociations is not a list.")
        associations_raw = []

    items: dict[str, dict[str, Any]] = {}
    order: dict[str, int] = {}
    rejected: list[Rejection] = []
    warnings: list[str] = []
    bad: dict[str, str] = {}  # identifier → why the item was rejected
    first_seen: dict[str, int] = {}

    def reject(where: str, message: str) -> None:
        rejected.append(Rejection(where, None, message))

    for index, item in enumerate(items_raw):
        if not isinstance(item, dict):
            reject(f"CFItems[{index}]", "is not an object.")
            continue
        identifier = _text(item.get("identifier"))
        code = _text(item.get("humanCodingScheme"))
        where = f"CFItems[{index}]" + (f" ({code})" if code else "")
        if identifier is None:
            reject(where, "has no identifier.")
            continue
        where = f"CFItem {identifier}" + (f" ({code})" if code else "")
        if identifier in first_seen:
            if identifier in items and items[identifier] == item:
                warnings.append(f"{where} appears twice in CFItems, identical; it was imported once.")
                continue
            reject(where, f"appears twice in CFItems (CFItems[{first_seen[identifier]}] and CFItems[{index}]) with "
                          "different contents, so neither was imported.")
            bad[identifier] = "its identifier appears twice"
            items.pop(identifier, None)
            continue
        first_seen[identifier] = index
        if identifier == doc_id:
            reject(where, "has the same identifier as the CFDocument.")
            bad[identifier] = "it has the CFDocument's identifier"
            continue
        problems: list[str] = []
        statement = item.get("fullStatement")
        if not isinstance(statement, str) or not statement.strip():
            problems.append("has no fullStatement.")
        short_name = _text(item.get("abbreviatedStatement"))
        item_type = _text(item.get("CFItemType")) or _node_title(item.get("CFItemTypeURI"))
        for name, value, limit in (("identifier", identifier, IDENTIFIER_MAX),
                                   ("humanCodingScheme", code, CODE_MAX),
                                   ("abbreviatedStatement", short_name, SHORT_NAME_MAX),
                                   ("CFItemType", item_type, ITEM_TYPE_MAX)):
            if value is not None and len(value) > limit:
                problems.append(f"its {name} is {len(value)} characters long; at most {limit} fit.")
        if problems:
            for problem in problems:
                reject(where, problem)
            bad[identifier] = problems[0].rstrip(".")
            continue
        items[identifier] = item
        order[identifier] = index

    known = set(items) | set(bad)
    all_parents: dict[str, list[str | None]] = {}
    parents: dict[str, str | None] = {}
    sort_keys: dict[str, tuple] = {}
    links: dict[tuple[str, str, str], _Crosswalk] = {}
    ignored: dict[str, int] = {}
    multi_parent: list[str] = []
    precedes: dict[tuple[str, str], None] = {}
    translated: dict[str, str] = {}  # translation item → the item it translates
    for index, assoc in enumerate(associations_raw):
        if not isinstance(assoc, dict):
            reject(f"CFAssociations[{index}]", "is not an object.")
            continue
        kind = _text(assoc.get("associationType"))
        assoc_id = _text(assoc.get("identifier"))
        where = f"CFAssociation {assoc_id}" if assoc_id else f"CFAssociations[{index}]"
        origin, destination = _node_id(assoc.get("originNodeURI")), _node_id(assoc.get("destinationNodeURI"))
        if kind is None:
            reject(where, "has no associationType.")
            continue
        if kind == TRANSLATION_KIND and origin and destination and origin != destination:
            translated[origin] = destination  # kept as the destination's text in the origin's language
            continue
        if kind == PRECEDES_KIND and origin and destination and origin != destination:
            precedes[(origin, destination)] = None  # resolved when written: either end may be another framework's
            continue
        if kind not in ("isChildOf", *LINK_KINDS):
            ignored[kind] = ignored.get(kind, 0) + 1
            continue
        if origin is None or destination is None:
            reject(f"{where} ({kind})", f"has no {'originNodeURI' if origin is None else 'destinationNodeURI'} "
                                        "identifier.")
            if origin is not None and kind == "isChildOf" and origin in items:
                bad.setdefault(origin, "its isChildOf association was rejected")
            continue
        if origin in bad:
            continue  # the item's own rejection says why
        if origin not in items:
            reject(f"{where} ({kind})", f"is dangling: its origin {origin} "
                                        f"{'is the CFDocument' if origin == doc_id else 'is not an item of this package'}.")
            continue
        if kind in LINK_KINDS:
            label = _text(assoc["destinationNodeURI"].get("title"))
            if len(destination) > IDENTIFIER_MAX:
                reject(f"{where} ({kind})", "its destination identifier is too long.")
                continue
            links.setdefault((origin, destination, kind), _Crosswalk(origin, destination,
                                                                     label and label[:TARGET_LABEL_MAX], kind))
            continue
        # isChildOf: the destination is an item of the package or the document itself (top level).
        if destination != doc_id and destination not in known:
            reject(f"{where} (isChildOf)", f"is dangling: its destination {destination} is neither an item of "
                                           f"this package nor the CFDocument (child {_label(items[origin], origin)}).")
            bad.setdefault(origin, "its isChildOf association was rejected")
            continue
        if destination == origin:
            reject(f"{where} (isChildOf)", f"makes {_label(items[origin], origin)} its own parent.")
            bad.setdefault(origin, "its isChildOf association was rejected")
            continue
        sequence = assoc.get("sequenceNumber")
        if sequence is not None and not (isinstance(sequence, int) and not isinstance(sequence, bool)):
            if isinstance(sequence, str) and sequence.strip().lstrip("-").isdigit():
                sequence = int(sequence)
            else:
                reject(f"{where} (isChildOf)", f"has a sequenceNumber that is not a whole number: {sequence!r}.")
                bad.setdefault(origin, "its isChildOf association was rejected")
                continue
        parent = None if destination == doc_id else destination
        all_parents.setdefault(origin, []).append(parent)
        if origin in parents:
            if parents[origin] != parent:
                multi_parent.append(_label(items[origin], origin))
            continue
        parents[origin] = parent
        sort_keys[origin] = (sequence is None, sequence or 0)

    # A translation is not a standard of its own: its words join the item it translates (CFItem `language`,
    # else the CFDocument's).
    doc_language = (_text(doc_raw.get("language")) or "").split("-")[0].lower()
    translations: list[tuple[str, str, str, str | None]] = []
    for origin, destination in translated.items():
        item = items.pop(origin, None)
        parents.pop(origin, None)
        all_parents.pop(origin, None)
        language = ((_text(item.get("language")) if item else None) or doc_language).split("-")[0].lower()
        if item is None or destination not in items or not language:
            warnings.append(f"The translation {origin} was not kept: it needs a language and an item of this "
                            "package to translate.")
            continue
        translations.append((destination, language, item["fullStatement"].strip(),
                             _text(item.get("abbreviatedStatement"))))

    # A cycle through any isChildOf (not only each item's first parent) is named and imports nothing.
    cycle = find_cycle_in_graph(all_parents)
    if cycle:
        errors.append("The isChildOf associations make a cycle (child → parent): "
                      + " → ".join(_label(items.get(node, {}), node) for node in cycle)
                      + ". An item cannot be its own ancestor.")
    fail(errors, "this CASE package")

    # Children of a rejected item cannot be placed: they are rejected too, naming the item above.
    changed = True
    while changed:
        changed = False
        for identifier, parent in parents.items():
            if identifier in items and identifier not in bad and parent is not None and parent in bad:
                bad[identifier] = f"its parent {parent} was rejected"
                reject(f"CFItem {_label(items[identifier], identifier)}", f"{bad[identifier]}.")
                changed = True
    for identifier, why in bad.items():
        if identifier in items and why == "its isChildOf association was rejected":
            reject(f"CFItem {_label(items[identifier], identifier)}", "was not imported: its isChildOf association "
                                                                     "was rejected (above).")
    for identifier in bad:
        items.pop(identifier, None)
    parents = {i: p for i, p in parents.items() if i in items}

    if multi_parent:
        warnings.append(f"{len(multi_parent)} item(s) have more than one parent; each was placed under its first "
                        f"(e.g. {multi_parent[0]}).")
    if ignored:
        warnings.append("Associations of other types were not imported: "
                        + ", ".join(f"{count} {kind}" for kind, count in sorted(ignored.items())) + ".")

    siblings: dict[str | None, list[str]] = {}
    for identifier in items:
        siblings.setdefault(parents.get(identifier), []).append(identifier)
    position: dict[str, int] = {}
    for members in siblings.values():
        members.sort(key=lambda i: (*sort_keys.get(i, (True, 0)),
                                    natural_key(_text(items[i].get("listEnumeration"))),
                                    natural_key(_text(items[i].get("humanCodingScheme"))), order[i]))
        for rank, identifier in enumerate(members):
            position[identifier] = rank
    codes = _codes(items, siblings, warnings)

    # Parents before children, so the report lists codes in tree order.
    planned: list[PlannedCompetency] = []

    def visit(parent: str | None) -> None:
        for identifier in siblings.get(parent, []):
            item = items[identifier]
            planned.append(PlannedCompetency(
                key=identifier, identifier=identifier, code=codes[identifier],
                statement=item["fullStatement"].strip(), short_name=_text(item.get("abbreviatedStatement")),
                item_type=_text(item.get("CFItemType")) or _node_title(item.get("CFItemTypeURI")),
                parent_key=parents.get(identifier), position=position[identifier]))
            visit(identifier)

    visit(None)
    kept_links = [link for link in links.values() if link.origin in items]
    return _Package(document, planned, kept_links, warnings, list(precedes), rejected, translations)


def _node_title(node: Any) -> str | None:
    return _text(node.get("title")) if isinstance(node, dict) else None


def _label(item: dict[str, Any], identifier: str) -> str:
    code = _text(item.get("humanCodingScheme"))
    return f"{code} ({identifier})" if code else identifier


_MINOR_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to",
                "with"}


def _abbreviation(text: str) -> str:
    """A short readable code from a statement: one word as it is, a title by its initials (“Ratios and
    Proportional Relationships” → “RP”, as the Common Core codes its domains), a sentence by its first words."""
    words = [w for w in re.split(r"[\s\-—–/,:;()]+", text) if w]
    significant = [w for w in words if w.lower() not in _MINOR_WORDS]
    if not significant or len(text) <= 12:
        return text[:24]
    if len(significant) == 1:
        return significant[0][:24]
    if len(significant) <= 6:
        return "".join(w[0].upper() for w in significant if w[0].isalnum())
    return " ".join(words[:4])[:24].rstrip(".,;: ") + "…"


def _codes(items: dict[str, dict[str, Any]], siblings: dict[str | None, list[str]],
           warnings: list[str]) -> dict[str, str]:
    """humanCodingScheme; else the listEnumeration under the parent's code; else an abbreviated statement
    (abbreviatedStatement, or one made from fullStatement), under the parent's code. Codes are unique within
    the framework: a code the package repeats gets a suffix (“ #2”), with a note."""
    codes: dict[str, str] = {}

    def visit(parent: str | None) -> None:
        for identifier in siblings.get(parent, []):
            item = items[identifier]
            code = _text(item.get("humanCodingScheme"))
            if code is None:
                above = codes.get(parent) if parent is not None else None
                enumeration = _text(item.get("listEnumeration"))
                short = _text(item.get("abbreviatedStatement"))
                if enumeration is not None and above is not None:
                    code = f"{above}.{enumeration}"
                else:
                    piece = short if short is not None and len(short) <= 30 else _abbreviation(
                        _text(item.get("fullStatement")) or identifier)
                    joiner = "." if piece.isalnum() and piece.isupper() else " "
                    code = f"{above}{joiner}{piece}" if above is not None else piece
                code = code[:CODE_MAX]
            codes[identifier] = code
            visit(identifier)

    visit(None)
    seen: dict[str, int] = {}
    repeated: list[str] = []
    ordered: list[str] = []

    def walk(parent: str | None) -> None:
        for identifier in siblings.get(parent, []):
            ordered.append(identifier)
            walk(identifier)

    walk(None)
    taken = set()
    for identifier in ordered:
        code = codes[identifier]
        if code not in taken:
            taken.add(code)
            seen[code] = 1
            continue
        number = seen.get(code, 1)
        while True:
            number += 1
            suffix = f" #{number}"
            candidate = code[:CODE_MAX - len(suffix)] + suffix
            if candidate not in taken:
                break
        seen[code] = number
        taken.add(candidate)
        codes[identifier] = candidate
        repeated.append(f"{code} → {candidate} ({identifier})")
    if repeated:
        warnings.append(f"{len(repeated)} item(s) repeat a code already used in this framework, so each got a "
                        f"suffix: {'; '.join(repeated[:10])}" + (" …" if len(repeated) > 10 else "") + ".")
    return codes


# ---------------------------------------------------------------- CASE writing

def import_case(session: Session, data: bytes, *, actor: User | None, dry_run: bool = False,
                skip_rejected: bool = False, school_id: int | None = None) -> ImportReport:
    """Import (or re-import) a CASE package; see the module docstring for the rules.

    ``school_id``: a school admin's import, into that school's frameworks: a new framework is the school's;
    the district's framework, or another school's, is not changed (refused with the reason).

    Under the import rule (gradebook/interop/rule.py): ``dry_run`` reports and changes nothing; a package
    with a rejected item imports nothing (``outcome == "blocked"``) unless ``skip_rejected``.
    """
    package = parse_case(data)
    if school_id is not None:
        found = session.execute(select(Framework.id, Framework.school_id)
                                .where(Framework.identifier == package.document.identifier)).first()
        owner = found.school_id if found is not None else school_id
        if owner != school_id:
            raise ServiceError(f"Nothing was imported: “{package.document.title}” is already "
                               f"{'the district’s framework' if owner is None else 'another school’s framework'}; "
                               "a district admin updates it. Your school's sections can use it as it is.")

    def write() -> ImportReport:
        report = _write_case(session, package, actor)
        if school_id is not None and report.framework is not None and report.framework.school_id is None:
            report.framework.school_id = school_id
        return report

    return under_rule(session, write, dry_run=dry_run,
                      skip_rejected=skip_rejected, what="The package")


def _write_case(session: Session, package: _Package, actor: User | None) -> ImportReport:
    doc = package.document
    framework = session.scalar(select(Framework).where(Framework.identifier == doc.identifier))
    created = framework is None
    changed = False
    if framework is None:
        framework = Framework(identifier=doc.identifier, title=doc.title, publisher=doc.publisher,
                              version=doc.version, subject=doc.subject, source="case")
        session.add(framework)
        session.flush()
    else:
        for name in ("title", "publisher", "version", "subject"):
            value = getattr(doc, name)
            if getattr(framework, name) != value:
                setattr(framework, name, value)
                changed = True

    if not created:
        _keep_codes_unique(session, framework, package)
    outcome = apply_tree(session, framework, package.items, match_on="identifier")
    report = ImportReport(framework=framework, created=len(outcome.created), updated=len(outcome.updated),
                          unchanged=len(outcome.unchanged), framework_created=created, framework_changed=changed,
                          kept_not_in_file=outcome.kept, warnings=list(package.warnings),
                          rejected=list(package.rejected), title=framework.title)
    changed_ids = {c.id for c in outcome.created} | {c.id for c in outcome.updated}
    report.changed_codes = [outcome.by_key[p.key].code for p in package.items
                            if outcome.by_key[p.key].id in changed_ids]
    _write_crosswalks(session, package, outcome, report)
    _write_precedes(session, package, outcome, report)
    _write_translations(session, package, outcome)
    if not report.no_change:
        audit_import(session, actor, report, "case")
    return report


def _write_translations(session: Session, package: _Package, outcome: TreeOutcome) -> None:
    """Each `isTranslationOf` item's statement (and short name) as the original's text in its language."""
    for original, language, statement, short_name in package.translations:
        competency = outcome.by_key.get(original)
        if competency is None:
            continue
        for name, text in (("statement", statement), ("short_name", short_name)):
            if not text:
                continue
            row = session.scalar(select(TextTranslation).where(
                TextTranslation.table_name == "competencies", TextTranslation.row_id == competency.id,
                TextTranslation.field == name, TextTranslation.language == language))
            if row is None:
                session.add(TextTranslation(table_name="competencies", row_id=competency.id, field=name,
                                            language=language, text=text))
            else:
                row.text = text


def _keep_codes_unique(session: Session, framework: Framework, package: _Package) -> None:
    """A code already held by a competency this package leaves out (kept, never deleted) gets a suffix."""
    ids = {p.identifier for p in package.items}
    kept = {code for code, identifier in session.execute(select(Competency.code, Competency.identifier).where(
        Competency.framework_id == framework.id)) if identifier not in ids}
    if not kept:
        return
    taken = kept | {p.code for p in package.items}
    for plan in package.items:
        if plan.code in kept:
            number = 1
            while True:
                number += 1
                candidate = f"{plan.code[:CODE_MAX - len(str(number)) - 2]} #{number}"
                if candidate not in taken:
                    break
            package.warnings.append(f"{plan.code} is the code of a competency this package leaves out (kept); "
                                    f"{plan.identifier} became {candidate}.")
            taken.add(candidate)
            plan.code = candidate


def _chunks(values: list[T], size: int = 500) -> Iterable[list[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _write_crosswalks(session: Session, package: _Package, outcome: TreeOutcome, report: ImportReport) -> None:
    framework_id = report.framework.id
    package_ids = [outcome.by_key[p.key].id for p in package.items]
    targets = sorted({c.target for c in package.crosswalks})
    resolved: dict[str, int] = {}
    for chunk in _chunks(targets):
        rows = session.execute(select(Competency.identifier, Competency.id, Competency.framework_id)
                               .where(Competency.identifier.in_(chunk))).all()
        # A target in this framework wins; otherwise the first one imported.
        for identifier, competency_id, _owner in sorted(rows, key=lambda r: (r[2] != framework_id, r[1])):
            resolved.setdefault(identifier, competency_id)

    existing: dict[tuple[int, str, str], Crosswalk] = {}
    for id_chunk in _chunks(package_ids):
        for row in session.scalars(select(Crosswalk).where(Crosswalk.competency_id.in_(id_chunk),
                                                           Crosswalk.kind.in_(LINK_KINDS))):
            existing[(row.competency_id, row.target_identifier, row.kind)] = row
    wanted: set[tuple[int, str, str]] = set()
    for plan in package.crosswalks:
        competency_id = outcome.by_key[plan.origin].id
        key = (competency_id, plan.target, plan.kind)
        wanted.add(key)
        target_id = resolved.get(plan.target)
        row = existing.get(key)
        if row is None:
            session.add(Crosswalk(competency_id=competency_id, target_identifier=plan.target,
                                  target_competency_id=target_id, target_label=plan.label, kind=plan.kind))
            report.crosswalks_added += 1
        elif row.target_label != plan.label or row.target_competency_id != target_id:
            row.target_label, row.target_competency_id = plan.label, target_id
            report.crosswalks_updated += 1
    for key, row in existing.items():
        if key not in wanted:
            session.delete(row)
            report.crosswalks_removed += 1
    report.crosswalks = sum(1 for key in wanted if key[2] == CROSSWALK_KIND)
    report.related = sum(1 for key in wanted if key[2] == RELATED_KIND)

    # Crosswalks of other frameworks that pointed at these items before they were here now find them.
    new_identifiers = [c.identifier for c in outcome.created if c.identifier]
    for chunk in _chunks(new_identifiers):
        for row in session.scalars(select(Crosswalk).where(Crosswalk.target_competency_id.is_(None),
                                                           Crosswalk.target_identifier.in_(chunk))):
            row.target_competency_id = outcome.by_key[row.target_identifier].id
            report.crosswalks_resolved += 1
    session.flush()
    # Exact matches are one standard on a student's record and in the grid's "shown before" marks.
    from gradebook.services.record import refresh_match_groups

    refresh_match_groups(session)


def _write_precedes(session: Session, package: _Package, outcome: TreeOutcome, report: ImportReport) -> None:
    """`A precedes B` becomes Prerequisite(competency=B, requires=A, section=None, source='case'). An end that
    is not in this package is looked up among competencies already imported; one found nowhere, or an edge
    that would close a circle of prerequisites, is left out with a warning. Re-importing changes nothing; a
    `precedes` the file no longer has is removed (only between this framework's items)."""
    package_ids = {p.key: outcome.by_key[p.key].id for p in package.items}
    outside = sorted({end for pair in package.precedes for end in pair if end not in package_ids})
    resolved = dict(package_ids)
    for chunk in _chunks(outside):
        for identifier, competency_id in session.execute(
                select(Competency.identifier, Competency.id).where(Competency.identifier.in_(chunk))
                .order_by(Competency.id)).all():
            resolved.setdefault(identifier, competency_id)
    ids = list(package_ids.values())
    existing: dict[tuple[int, int], Prerequisite] = {}
    for chunk in _chunks(ids):
        for row in session.scalars(select(Prerequisite).where(
                Prerequisite.section_id.is_(None), Prerequisite.source == "case",
                Prerequisite.competency_id.in_(chunk) | Prerequisite.requires_id.in_(chunk))):
            existing[(row.competency_id, row.requires_id)] = row
    graph: dict[int, set[int]] = {}
    for competency_id, requires_id in session.execute(select(Prerequisite.competency_id, Prerequisite.requires_id)
                                                      .where(Prerequisite.section_id.is_(None))).all():
        graph.setdefault(competency_id, set()).add(requires_id)

    def reaches(start: int, goal: int) -> bool:
        seen, stack = {start}, [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            for nxt in graph.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    wanted: set[tuple[int, int]] = set()
    unresolved, circular = 0, 0
    for origin, destination in package.precedes:
        if origin not in resolved or destination not in resolved:
            unresolved += 1
            continue
        key = (resolved[destination], resolved[origin])
        if key in wanted:
            continue
        if key not in existing and reaches(key[1], key[0]):
            circular += 1
            continue
        wanted.add(key)
        if key not in existing:
            session.add(Prerequisite(competency_id=key[0], requires_id=key[1], section_id=None, source="case"))
            graph.setdefault(key[0], set()).add(key[1])
            report.prerequisites_added += 1
    in_package = set(ids)
    for key, row in existing.items():
        if key not in wanted and key[0] in in_package and key[1] in in_package:
            session.delete(row)
            report.prerequisites_removed += 1
    report.prerequisites = len(wanted)
    if unresolved:
        report.warnings.append(f"{unresolved} precedes association(s) point at items that are not imported; "
                               "they were not kept as prerequisites (import the other framework, then this one "
                               "again).")
    if circular:
        report.warnings.append(f"{circular} precedes association(s) would make a circle of prerequisites; they "
                               "were not kept.")
    session.flush()
