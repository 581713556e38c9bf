"""CASE import: the tree, sibling order and crosswalks from real packages; re-import by identifier that never
touches evidence; malformed packages that import nothing; the import-case command."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.interop.case_import import import_case
from gradebook.interop.cli_imports import register
from gradebook.models import (
    AuditEvent,
    Competency,
    Crosswalk,
    Evidence,
    EvidenceRevision,
    Framework,
    ProficiencyRecord,
    SectionStandard,
)
from gradebook.services import ServiceError
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import make_assessment, make_section

CASE_DATA = Path(__file__).resolve().parents[1] / "data" / "case"  # copied unchanged from ../shared/testdata


def table_rows() -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, so a test can prove an import changed nothing at all."""
    db.session.expire_all()
    return {table.name: sorted(tuple(repr(v) for v in row) for row in db.session.execute(select(table)).all())
            for table in db.metadata.sorted_tables}


def children(parent: Competency | None, framework: Framework) -> list[Competency]:
    query = select(Competency).where(Competency.framework_id == framework.id).order_by(Competency.position)
    query = query.where(Competency.parent_id.is_(None) if parent is None else Competency.parent_id == parent.id)
    return list(db.session.scalars(query))


def by_code(framework: Framework, code: str) -> Competency:
    return db.session.scalars(select(Competency).where(Competency.framework_id == framework.id,
                                                       Competency.code == code)).one()


# ---------------------------------------------------------------- a package built in the test

DOC = "doc-science-7"


def _item(identifier: str, code: str, statement: str, item_type: str, short: str | None = None) -> dict[str, Any]:
    item = {"identifier": identifier, "uri": f"https://case.example/{identifier}", "humanCodingScheme": code,
            "fullStatement": statement, "CFItemType": item_type, "lastChangeDateTime": "2026-01-01T00:00:00+00:00"}
    if short:
        item["abbreviatedStatement"] = short
    return item


def _child(origin: str, destination: str, sequence: int | None) -> dict[str, Any]:
    assoc: dict[str, Any] = {
        "identifier": f"a-{origin}", "associationType": "isChildOf",
        "originNodeURI": {"identifier": origin, "uri": f"https://case.example/{origin}", "title": origin},
        "destinationNodeURI": {"identifier": destination, "uri": f"https://case.example/{destination}",
                               "title": destination},
    }
    if sequence is not None:
        assoc["sequenceNumber"] = sequence
    return assoc


def _match(origin: str, target: str, title: str) -> dict[str, Any]:
    return {"identifier": f"x-{origin}-{target}", "associationType": "exactMatchOf",
            "originNodeURI": {"identifier": origin, "uri": f"https://case.example/{origin}", "title": origin},
            "destinationNodeURI": {"identifier": target, "uri": f"https://other.example/{target}", "title": title}}


def science_package(*, edited: bool = False, added: bool = False, version: str = "1.0") -> dict[str, Any]:
    """Four levels: domain → cluster → standard → component; siblings listed out of order on purpose."""
    items = [
        _item("sci-d1", "SCI.1", "Life science: from molecules to organisms.", "Domain", "Life science"),
        _item("sci-c1", "SCI.1.A", "Structure and function of living things.", "Cluster", "Cells"),
        _item("sci-s2", "SCI.1.A.2", "Develop a model of how the parts of a cell work together.", "Standard"),
        _item("sci-s1", "SCI.1.A.1", "Plan an investigation showing living things are made of cells.", "Standard"),
        _item("sci-p1", "SCI.1.A.2a", "Identify the nucleus, membrane and wall.", "Component"),
        _item("sci-c2", "SCI.1.B", "Growth and development of organisms.", "Cluster", "Growth"),
        _item("sci-s3", "SCI.1.B.1", ("Argue from evidence how behaviours and structures raise the odds of "
                                      "successful reproduction." if edited else
                                      "Argue from evidence how behaviours affect reproduction."), "Standard"),
        _item("sci-d2", "SCI.2", "Earth and space science.", "Domain", "Earth science"),
        _item("sci-s4", "SCI.2.1", "Model the cycling of Earth's materials.", "Standard"),
    ]
    associations = [
        _child("sci-d2", DOC, 2), _child("sci-d1", DOC, 1),
        _child("sci-c2", "sci-d1", 2), _child("sci-c1", "sci-d1", 1),
        _child("sci-s2", "sci-c1", 2), _child("sci-s1", "sci-c1", 1),
        _child("sci-p1", "sci-s2", 1), _child("sci-s3", "sci-c2", 1), _child("sci-s4", "sci-d2", 1),
        _match("sci-s1", "other-1", "OTHER.1 Cells"),
        _match("sci-s3", "ngss-ms-ls1-4", "MS-LS1-4"),
    ]
    if added:
        items.append(_item("sci-s5", "SCI.2.2", "Explain how water shapes Earth's surface.", "Standard"))
        associations.append(_child("sci-s5", "sci-d2", 2))
    return {
        "CFDocument": {"identifier": DOC, "uri": f"https://case.example/{DOC}", "title": "Science 7",
                       "creator": "State Board", "publisher": "State Department of Education", "version": version,
                       "lastChangeDateTime": "2026-01-01T00:00:00+00:00"},
        "CFItems": items,
        "CFAssociations": associations,
    }


def other_package() -> dict[str, Any]:
    return {"CFDocument": {"identifier": "doc-other", "title": "Other framework", "creator": "Other"},
            "CFItems": [_item("other-1", "OTHER.1", "Cells are the unit of life.", "Standard")],
            "CFAssociations": [_child("other-1", "doc-other", 1)]}


def encode(package: dict[str, Any]) -> bytes:
    return json.dumps(package, ensure_ascii=False).encode()


def record_scores(world, standard: Competency, scores: list[float]) -> None:  # type: ignore[no-untyped-def]
    for i, score in enumerate(scores):
        assessment = make_assessment(world, standards=[standard], title=f"{standard.code} task {i}",
                                     on=date(2026, 9, 1 + i))
        for student in world.students:
            record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                            competency_id=standard.id, value=CellValue("scored", score),
                            observed_on=assessment.assessed_on, assessment=assessment)
    db.session.commit()


def evidence_state() -> list[tuple]:
    return [tuple(r) for r in db.session.execute(
        select(Evidence.id, Evidence.competency_id, Evidence.student_id, Evidence.score, Evidence.status,
               Evidence.version, Evidence.deleted_at).order_by(Evidence.id))]


def proficiency_state() -> list[tuple]:
    return [tuple(r) for r in db.session.execute(
        select(ProficiencyRecord.id, ProficiencyRecord.student_id, ProficiencyRecord.competency_id,
               ProficiencyRecord.score, ProficiencyRecord.level_points).order_by(ProficiencyRecord.id))]


# ---------------------------------------------------------------- real packages

def test_the_crosswalk_package_becomes_a_tree_in_sequence_order_with_its_crosswalks(app: Flask) -> None:
    report = import_case(db.session, (CASE_DATA / "ccss-math-6rp-crosswalk.json").read_bytes(), actor=None)
    db.session.commit()

    framework = db.session.scalars(select(Framework)).one()
    assert (framework.identifier, framework.title, framework.publisher, framework.source) == (
        "20c5134f-423d-4097-a971-3dd5152bf507", "What Standards Could Be", "Brandon Dorman", "case")
    assert (report.created, report.updated, report.unchanged, report.crosswalks) == (16, 0, 0, 16)
    top = children(None, framework)
    assert [c.code for c in top] == ["CCSS.Math.Content.6.RP.A", "CCSS.Math.Content.7.RP.A"]
    assert [c.code for c in children(top[0], framework)] == [
        "CCSS.Math.Content.6.RP.A.1", "CCSS.Math.Content.6.RP.A.2", "CCSS.Math.Content.6.RP.A.3"]
    a3 = by_code(framework, "CCSS.Math.Content.6.RP.A.3")
    assert [c.code for c in children(a3, framework)] == [f"CCSS.Math.Content.6.RP.A.3{x}" for x in "abcd"]
    assert [c.item_type for c in (top[0], a3, children(a3, framework)[0])] == ["Cluster", "Standard", "Component"]
    assert a3.statement.startswith("Use ratio and rate reasoning to solve real-world")

    crosswalk = db.session.scalars(select(Crosswalk).where(Crosswalk.competency_id == top[0].id)).one()
    assert (crosswalk.kind, crosswalk.target_identifier, crosswalk.target_label, crosswalk.target_competency_id) \
        == ("exactMatchOf", "5b6c487e-04f1-5ba9-9722-d099849b9167", "Destination", None)
    assert not any("3 precedes" in warning for warning in report.warnings)  # kept: test_case_prerequisites.py


def test_siblings_without_sequence_numbers_follow_their_coding_scheme_in_natural_order(app: Flask) -> None:
    import_case(db.session, (CASE_DATA / "ordering.json").read_bytes(), actor=None)
    db.session.commit()

    framework = db.session.scalars(select(Framework)).one()
    level_1 = by_code(framework, "H.A.MATH.GM.PF.2DFP.L1")
    assert [c.code for c in children(level_1, framework)] == [f"H.A.MATH.GM.PF.2DFP.L1.{n}" for n in range(1, 25)]
    assert by_code(framework, "H.A.MATH.GM").short_name == "Geometry and Measurement"
    assert by_code(framework, "H.A.MATH.GM.PF.2DFP.L1.1").parent_id == level_1.id


def test_non_ascii_statements_survive_and_items_without_a_coding_scheme_get_a_short_code(app: Flask) -> None:
    import_case(db.session, (CASE_DATA / "utf8.json").read_bytes(), actor=None)
    db.session.commit()

    item = db.session.scalars(select(Competency)).one()
    assert (item.statement, item.code) == ("Item 𝑑 1", "Item 𝑑 1")
    assert db.session.scalars(select(Framework.title)).one() == "UTF8 𝑑 Test"


def test_a_utf8_byte_order_mark_is_accepted(app: Flask) -> None:
    report = import_case(db.session, b"\xef\xbb\xbf" + (CASE_DATA / "smart-level.json").read_bytes(), actor=None)

    assert report.created == 14


# ---------------------------------------------------------------- re-import never touches evidence

def test_reimport_updates_only_what_changed_and_keeps_evidence_intact(app: Flask) -> None:
    import_case(db.session, encode(other_package()), actor=None)
    first = import_case(db.session, encode(science_package()), actor=None)
    db.session.commit()
    framework = first.framework
    assert (first.created, first.updated, first.unchanged, first.crosswalks) == (9, 0, 0, 2)
    domain = children(None, framework)
    assert [c.code for c in domain] == ["SCI.1", "SCI.2"]
    assert [c.code for c in children(by_code(framework, "SCI.1.A"), framework)] == ["SCI.1.A.1", "SCI.1.A.2"]
    assert by_code(framework, "SCI.1.A.2a").parent_id == by_code(framework, "SCI.1.A.2").id  # fourth level
    s1, s3 = by_code(framework, "SCI.1.A.1"), by_code(framework, "SCI.1.B.1")
    resolved = db.session.scalars(select(Crosswalk).where(Crosswalk.competency_id == s1.id)).one()
    assert resolved.target_competency_id == db.session.scalars(
        select(Competency.id).where(Competency.identifier == "other-1")).one()
    unresolved = db.session.scalars(select(Crosswalk).where(Crosswalk.competency_id == s3.id)).one()
    assert (unresolved.target_identifier, unresolved.target_label, unresolved.target_competency_id) == (
        "ngss-ms-ls1-4", "MS-LS1-4", None)

    world = make_section(students=3, standards=1)
    for position, standard in enumerate((s1, s3), start=1):
        db.session.add(SectionStandard(section_id=world.section.id, competency_id=standard.id, position=position))
    db.session.commit()
    record_scores(world, s1, [2, 3])
    record_scores(world, s3, [1, 3, 4])
    evidence, proficiency = evidence_state(), proficiency_state()
    revisions = db.session.scalar(select(func.count()).select_from(EvidenceRevision))
    ids = {c.identifier: c.id for c in db.session.scalars(select(Competency).where(Competency.framework_id == framework.id))}
    audits = db.session.scalar(select(func.count()).select_from(AuditEvent))
    rows = table_rows()

    again = import_case(db.session, encode(science_package()), actor=None)
    db.session.commit()
    assert again.no_change and (again.created, again.updated, again.unchanged) == (0, 0, 9)
    assert again.summary.startswith("No change")
    assert table_rows() == rows

    changed = import_case(db.session, encode(science_package(edited=True, added=True, version="1.1")), actor=None)
    db.session.commit()
    assert (changed.created, changed.updated, changed.unchanged) == (1, 1, 8)
    assert changed.changed_codes == ["SCI.1.B.1", "SCI.2.2"]
    assert "1 created, 1 updated, 8 unchanged" in changed.summary
    assert db.session.get(Framework, framework.id).version == "1.1"
    after = {c.identifier: c.id for c in db.session.scalars(select(Competency).where(Competency.framework_id == framework.id))}
    assert {k: v for k, v in after.items() if k != "sci-s5"} == ids
    assert by_code(framework, "SCI.1.B.1").statement.endswith("raise the odds of successful reproduction.")
    assert [c.code for c in children(by_code(framework, "SCI.2"), framework)] == ["SCI.2.1", "SCI.2.2"]
    assert evidence_state() == evidence and len(evidence) == 15
    assert proficiency_state() == proficiency
    assert db.session.scalar(select(func.count()).select_from(EvidenceRevision)) == revisions
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audits + 1


def test_a_crosswalk_to_a_framework_imported_later_is_resolved_when_it_arrives(app: Flask) -> None:
    import_case(db.session, encode(science_package()), actor=None)
    report = import_case(db.session, encode(other_package()), actor=None)
    db.session.commit()

    target = db.session.scalars(select(Competency.id).where(Competency.identifier == "other-1")).one()
    crosswalk = db.session.scalars(select(Crosswalk).where(Crosswalk.target_identifier == "other-1")).one()
    assert (report.crosswalks_resolved, crosswalk.target_competency_id) == (1, target)


def test_items_a_new_version_leaves_out_are_kept_not_deleted(app: Flask) -> None:
    import_case(db.session, encode(science_package(added=True)), actor=None)
    report = import_case(db.session, encode(science_package()), actor=None)

    assert report.kept_not_in_file == 1
    assert db.session.scalar(select(func.count()).select_from(Competency)) == 10


# ---------------------------------------------------------------- malformed packages import nothing

def _without_title() -> bytes:
    package = science_package(edited=True)
    del package["CFDocument"]["title"]
    return encode(package)


def _item_without(field: str) -> bytes:
    package = science_package(edited=True)
    del package["CFItems"][3][field]  # sci-s1
    return encode(package)


def _with_associations(*extra: dict[str, Any]) -> bytes:
    package = science_package(edited=True)
    package["CFAssociations"] = [a for a in package["CFAssociations"]
                                 if not (a["associationType"] == "isChildOf"
                                         and a["originNodeURI"]["identifier"] in {x["originNodeURI"]["identifier"]
                                                                                   for x in extra})] + list(extra)
    return encode(package)


def _duplicate_item() -> bytes:
    package = science_package(edited=True)
    package["CFItems"].append({**package["CFItems"][0], "fullStatement": "Another statement"})
    return encode(package)


def _long_code() -> bytes:
    package = science_package(edited=True)
    package["CFItems"][0]["humanCodingScheme"] = "X" * 81
    return encode(package)


def _bad_sequence() -> bytes:
    package = science_package(edited=True)
    package["CFAssociations"][0]["sequenceNumber"] = "first"
    return encode(package)


MALFORMED_CASE: list[tuple[str, Callable[[], bytes], str]] = [
    ("truncated JSON", lambda: encode(science_package(edited=True))[:700], "may be truncated"),
    ("not JSON", lambda: b"Science standards, version 7\nnothing structured here", "not valid JSON"),
    ("CSV instead of JSON", lambda: b"code,parent_code,statement\nSCI.1,,Life science\n", "looks like a CSV file"),
    ("latin-1 bytes", lambda: encode(science_package(edited=True)).replace(b"Earth", "Erdé".encode("latin-1")),
     "not UTF-8"),
    ("UTF-16", lambda: json.dumps(science_package()).encode("utf-16"), "UTF-16"),
    ("empty file", lambda: b"", "The file is empty"),
    ("whitespace only", lambda: b"  \n\t\n", "The file is empty"),
    ("JSON without CFDocument", lambda: b'{"CFItems": [], "CFAssociations": []}', "no CFDocument"),
    ("a JSON list", lambda: b"[1, 2, 3]", "no CFDocument"),
    ("CFDocument without title", _without_title, "The CFDocument doc-science-7 has no title"),
    ("item without identifier", lambda: _item_without("identifier"), "CFItems[3] (SCI.1.A.1): has no identifier"),
    ("item without fullStatement", lambda: _item_without("fullStatement"),
     "CFItem sci-s1 (SCI.1.A.1): has no fullStatement"),
    ("cycle", lambda: _with_associations(_child("sci-d1", "sci-s1", 1)),
     "cycle (child → parent): SCI.1 (sci-d1) → SCI.1.A.1 (sci-s1) → SCI.1.A (sci-c1) → SCI.1 (sci-d1)"),
    ("dangling destination", lambda: _with_associations(_child("sci-s4", "nowhere-42", 1)),
     "destination nowhere-42 is neither an item of this package nor the CFDocument (child SCI.2.1 (sci-s4))"),
    ("dangling origin", lambda: _with_associations(_child("ghost-7", "sci-d1", 3)),
     "CFAssociation a-ghost-7 (isChildOf): is dangling: its origin ghost-7 is not an item of this package"),
    ("crosswalk from a missing item", lambda: _with_associations(_match("ghost-8", "other-1", "OTHER.1")),
     "(exactMatchOf): is dangling: its origin ghost-8"),
    ("duplicate item", _duplicate_item, "CFItem sci-d1 (SCI.1): appears twice in CFItems (CFItems[0] and CFItems[9]) "
                                        "with different contents, so neither was imported."),
    ("code too long", _long_code, "its humanCodingScheme is 81 characters long; at most 80 fit"),
    ("sequenceNumber not a number", _bad_sequence, "sequenceNumber that is not a whole number: 'first'"),
    ("200 MB file", lambda: b"x" * (200 * 1024 * 1024), "The file is 200.0 MB; the limit for a CASE package is 50 MB"),
]


@pytest.mark.parametrize(("data", "message"), [pytest.param(make, message, id=name)
                                                for name, make, message in MALFORMED_CASE])
def test_a_malformed_package_gets_a_clear_message_and_changes_nothing(app: Flask, data: Callable[[], bytes],
                                                                      message: str) -> None:
    import_case(db.session, encode(science_package()), actor=None)
    db.session.commit()
    before = table_rows()

    try:  # a broken package raises; a broken item is rejected, and a rejection imports nothing by default
        report = import_case(db.session, data(), actor=None)
        said = " ".join(str(r) for r in report.rejected)
        assert report.outcome == "blocked"
    except ServiceError as error:
        said = error.message
    db.session.commit()

    assert message in said
    assert table_rows() == before


def test_every_problem_is_listed_not_just_the_first(app: Flask) -> None:
    package = science_package()
    del package["CFItems"][0]["fullStatement"]
    del package["CFItems"][1]["fullStatement"]

    report = import_case(db.session, encode(package), actor=None)

    said = [str(r) for r in report.rejected]
    assert said[:2] == ["CFItem sci-d1 (SCI.1): has no fullStatement.", "CFItem sci-c1 (SCI.1.A): has no fullStatement."]
    assert "CFItem SCI.1.A.1 (sci-s1): its parent sci-c1 was rejected." in said


# ---------------------------------------------------------------- the command

def _cli(app: Flask, *args: str) -> click.testing.Result:
    group = click.Group("imports")
    register(group)
    return app.test_cli_runner().invoke(group, list(args))


def test_import_case_command_imports_and_reports(app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "science.json"
    file.write_bytes(encode(science_package()))

    result = _cli(app, "import-case", str(file))
    again = _cli(app, "import-case", str(file))

    assert result.exit_code == 0, result.output
    assert "Imported “Science 7”: 9 created, 0 updated, 0 unchanged; 2 crosswalks." in result.output
    assert "No change" in again.output
    assert db.session.scalar(select(func.count()).select_from(Competency)) == 9


def test_import_case_command_refuses_a_broken_file_and_leaves_the_database_alone(app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "broken.json"
    file.write_bytes(_with_associations(_child("sci-d1", "sci-s1", 1)))
    before = table_rows()

    result = _cli(app, "import-case", str(file))

    assert result.exit_code == 1
    assert "cycle" in result.output
    assert table_rows() == before


def test_import_case_command_checks_the_size_before_reading(app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "huge.json"
    with file.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: costs no disk

    result = _cli(app, "import-case", str(file))

    assert result.exit_code == 1
    assert "the limit for a CASE package is 50 MB" in result.output


# ---------------------------------------------------------------- issue 15: CASE, more faithfully; #11.11 cycles

def test_the_703_item_common_core_package_imports_every_item_with_unique_readable_codes(app: Flask) -> None:
    data = (CASE_DATA / "ccss-math-opensalt.json").read_bytes()
    items = json.loads(data)["CFItems"]

    report = import_case(db.session, data, actor=None)
    db.session.commit()

    framework = db.session.scalars(select(Framework)).one()
    rows = db.session.scalars(select(Competency).where(Competency.framework_id == framework.id)).all()
    assert (report.created, report.rejected, len(rows)) == (703, [], 703)
    assert {c.identifier for c in rows} == {i["identifier"] for i in items}
    codes = [c.code for c in rows]
    assert len(set(codes)) == len(codes) == 703
    # Items without humanCodingScheme (the domains) get an abbreviated statement, not a hex prefix.
    by_statement = {c.statement: c.code for c in rows if c.parent_id is None}
    assert (by_statement["Counting and Cardinality"], by_statement["Ratios and Proportional Relationships"],
            by_statement["Geometry"], by_statement["Standards for Mathematical Practice"]) == ("CC", "RPR", "Geometry", "SMP")
    assert not any(code.startswith("S11") for code in codes)
    assert import_case(db.session, data, actor=None).no_change


def test_items_without_a_code_take_their_list_enumeration_under_the_parent_and_repeats_get_a_suffix(app: Flask) -> None:
    package = science_package()
    package["CFItems"] += [
        {"identifier": "sci-x1", "fullStatement": "Clarification one.", "abbreviatedStatement": "Clarifications"},
        {"identifier": "sci-x2", "fullStatement": "Clarification two.", "abbreviatedStatement": "Clarifications"},
        {"identifier": "sci-x3", "fullStatement": "Cells divide.", "listEnumeration": "c"},
        {"identifier": "sci-x4", "fullStatement": "A repeated code.", "humanCodingScheme": "SCI.1.A.1"},
    ]
    package["CFAssociations"] += [_child("sci-x1", "sci-s1", 1), _child("sci-x2", "sci-s2", 1),
                                  _child("sci-x3", "sci-c1", 3), _child("sci-x4", "sci-d2", 2)]

    report = import_case(db.session, encode(package), actor=None)

    framework = db.session.scalars(select(Framework)).one()
    code = {c.identifier: c.code for c in db.session.scalars(select(Competency))}
    assert (code["sci-x1"], code["sci-x2"], code["sci-x3"]) == (
        "SCI.1.A.1 Clarifications", "SCI.1.A.2 Clarifications", "SCI.1.A.c")
    assert code["sci-x4"] == "SCI.1.A.1 #2" and code["sci-s1"] == "SCI.1.A.1"
    assert any("repeat a code" in w and "SCI.1.A.1 → SCI.1.A.1 #2 (sci-x4)" in w for w in report.warnings)
    assert len(set(code.values())) == len(code) and framework.title == "Science 7"


def test_is_related_to_is_kept_beside_the_crosswalks(app: Flask) -> None:
    report = import_case(db.session, (CASE_DATA / "ccss-math-6rp-crosswalk.json").read_bytes(), actor=None)
    db.session.commit()

    related = db.session.scalars(select(Crosswalk).where(Crosswalk.kind == "isRelatedTo")).all()
    assert (report.related, len(related)) == (2, 2)
    assert {r.target_identifier for r in related} == {"69901c60-9e78-5cf0-a13e-e6a2ab3d7316",
                                                       "d9a4ab74-dd9a-587a-b993-64e523e16c72"}
    assert not any("isRelatedTo" in w for w in report.warnings)
    assert "2 related-standard links" in report.summary


def test_a_cycle_through_a_second_parent_is_named_and_nothing_is_imported(app: Flask) -> None:
    """#11.11: sci-d1 sits under the document, and also under its own grandchild: a cycle, not a 'second parent'."""
    package = science_package()
    package["CFAssociations"].append({**_child("sci-d1", "sci-s1", 3), "identifier": "a-loop"})
    before = table_rows()

    with pytest.raises(ServiceError) as error:
        import_case(db.session, encode(package), actor=None)
    db.session.commit()

    message = error.value.message
    assert message.startswith("Nothing was imported")
    assert "cycle (child → parent): SCI.1 (sci-d1) → SCI.1.A.1 (sci-s1) → SCI.1.A (sci-c1) → SCI.1 (sci-d1)" in message
    assert "more than one parent" not in message
    assert table_rows() == before


def test_a_duplicated_identifier_rejects_that_item_and_skip_rejected_imports_the_rest(app: Flask) -> None:
    package = science_package()
    package["CFItems"].append({**package["CFItems"][8], "fullStatement": "A different Earth statement."})  # sci-s4
    before = table_rows()

    dry = import_case(db.session, encode(package), actor=None, dry_run=True)
    blocked = import_case(db.session, encode(package), actor=None)
    assert (dry.outcome, dry.created, blocked.outcome, table_rows() == before) == ("dry_run", 8, "blocked", True)
    assert [str(r) for r in dry.rejected] == [
        "CFItem sci-s4 (SCI.2.1): appears twice in CFItems (CFItems[8] and CFItems[9]) with different contents, "
        "so neither was imported."]
    assert dry.summary.startswith("Dry run, nothing changed yet: this file has 1 rejected row")

    report = import_case(db.session, encode(package), actor=None, skip_rejected=True)
    db.session.commit()

    assert (report.outcome, report.created) == ("imported", 8)
    assert db.session.scalars(select(Competency).where(Competency.identifier == "sci-s4")).first() is None


def test_an_identical_repeated_item_is_imported_once_with_a_note(app: Flask) -> None:
    package = science_package()
    package["CFItems"].append(dict(package["CFItems"][0]))

    report = import_case(db.session, encode(package), actor=None)

    assert (report.outcome, report.created, report.rejected) == ("imported", 9, [])
    assert any("appears twice in CFItems, identical" in w for w in report.warnings)
