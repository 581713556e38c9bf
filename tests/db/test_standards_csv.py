"""Standards from a spreadsheet: the tree and level descriptors, re-import by code, errors that name the row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import pytest
from flask import Flask
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.interop.cli_imports import register
from gradebook.interop.standards_csv import import_standards_csv
from gradebook.models import Competency, Evidence, Framework, LevelDescriptor, SectionStandard
from gradebook.services import ServiceError
from tests.builders import make_section
from tests.db.test_case_import import evidence_state, proficiency_state, record_scores, table_rows

TITLE = "Riverside writing"

SHEET = """code,parent_code,statement,short_name,level_4,level_3,level_2,level_1
W.1,,Write arguments to support claims.,Argument,,,,
W.1.1,W.1,Introduce a claim and organise reasons and evidence.,Claims,Anticipates counterclaims.,States a clear claim.,States a claim with help.,Names a topic.
W.1.2,W.1,Support claims with logical reasoning and relevant evidence.,Evidence,Weighs sources.,Cites relevant evidence.,Cites some evidence.,Gives an opinion.
W.2,,Write informative texts.,Informative,,,,
W.2.1,W.2,Introduce a topic clearly.,Topic,,Introduces the topic.,,
"""


def _sheet(text: str = SHEET) -> bytes:
    return text.encode()


def _import(data: bytes, title: str = TITLE):  # type: ignore[no-untyped-def]
    report = import_standards_csv(db.session, data, framework_title=title, actor=None)
    db.session.commit()
    return report


def _code(code: str) -> Competency:
    return db.session.scalars(select(Competency).where(Competency.code == code)).one()


def _descriptors(code: str) -> dict[float, str]:
    return {d.points: d.description for d in db.session.scalars(
        select(LevelDescriptor).where(LevelDescriptor.competency_id == _code(code).id))}


def test_a_spreadsheet_becomes_a_tree_with_level_descriptors(app: Flask) -> None:
    report = _import(_sheet())

    framework = db.session.scalars(select(Framework)).one()
    assert (framework.title, framework.source, report.created) == (TITLE, "csv", 5)
    assert _code("W.1.2").parent_id == _code("W.1").id and _code("W.1.2").position == 1
    assert _code("W.1.1").short_name == "Claims"
    assert _descriptors("W.1.1") == {4: "Anticipates counterclaims.", 3: "States a clear claim.",
                                     2: "States a claim with help.", 1: "Names a topic."}
    assert _descriptors("W.2.1") == {3: "Introduces the topic."}


def test_level_columns_may_be_named_by_the_scale_labels_and_separated_by_semicolons(app: Flask) -> None:
    _import(b"Code;Parent code;Statement;Meets;Exceeds\nM.1;;Reason with ratios.;Solves ratio problems.;Explains why.\n")

    assert _descriptors("M.1") == {3: "Solves ratio problems.", 4: "Explains why."}


def test_reimport_updates_by_code_and_keeps_evidence(app: Flask) -> None:
    _import(_sheet())
    world = make_section(students=2, standards=1)
    db.session.add(SectionStandard(section_id=world.section.id, competency_id=_code("W.1.1").id, position=1))
    db.session.commit()
    record_scores(world, _code("W.1.1"), [2, 4])
    evidence, proficiency = evidence_state(), proficiency_state()
    ids = {c.code: c.id for c in db.session.scalars(select(Competency).where(Competency.code.like("W.%")))}
    rows = table_rows()

    again = _import(_sheet())
    assert again.no_change and again.summary.startswith("No change")
    assert table_rows() == rows

    edited = SHEET.replace("Introduce a claim and organise", "Introduce a precise claim and organise") \
        .replace("States a claim with help.", "") + "W.2.2,W.2,Develop the topic with facts.,Develop,,,,\n"
    report = _import(_sheet(edited))

    assert (report.created, report.updated, report.unchanged, report.changed_codes) == (1, 1, 4, ["W.1.1", "W.2.2"])
    assert 2 not in _descriptors("W.1.1")  # an emptied level cell removes that descriptor
    after = {c.code: c.id for c in db.session.scalars(select(Competency).where(Competency.code.like("W.%")))}
    assert {k: v for k, v in after.items() if k != "W.2.2"} == ids
    assert evidence_state() == evidence and proficiency_state() == proficiency
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 4


HEADER = "code,parent_code,statement,level_3\n"

MALFORMED_CSV: list[tuple[str, Callable[[], bytes], str]] = [
    ("no statement column", lambda: b"code,parent_code,text\nW.1,,Write.\n", "the header has no statement column"),
    ("unknown column", lambda: b"code,statement,levl_3\nW.1,Write.,x\n", "unknown column “levl_3”"),
    ("duplicated code", lambda: (HEADER + "W.1,,Write.,\nW.2,,Read.,\nW.1,,Again.,\n").encode(),
     "row 4: W.1 is already on row 2."),
    ("row without statement", lambda: (HEADER + "W.1,,Write.,\nW.1.1,W.1,,\n").encode(), "row 3: W.1.1 has no statement."),
    ("row without code", lambda: (HEADER + "W.1,,Write.,\n,W.1,Orphan.,\n").encode(), "row 3: the row has no code."),
    ("unknown parent", lambda: (HEADER + "W.1,,Write.,\nW.1.1,W.9,Claims.,\n").encode(),
     "row 3: W.1.1 has the parent W.9, which is neither in the file nor in the framework."),
    ("cycle", lambda: (HEADER + "A,C,First.,\nB,A,Second.,\nC,B,Third.,\n").encode(),
     "cycle (child → parent): A (row 2) → C (row 4) → B (row 3) → A (row 2)"),
    ("too many cells", lambda: (HEADER + "W.1,,Write.,,extra\n").encode(), "row 2: W.1 has 5 cells but the header has 4"),
    ("latin-1 bytes", lambda: (HEADER + "W.1,,Écrire.,\n").encode("latin-1"), "not UTF-8 text (an invalid byte on line 2)"),
    ("JSON instead of CSV", lambda: b'{"CFDocument": {}}', "looks like JSON"),
    ("empty file", lambda: b"", "The file is empty"),
    ("header only", lambda: HEADER.encode(), "no rows of standards"),
    ("11 MB file", lambda: b"x" * (11 * 1024 * 1024), "the limit for a standards spreadsheet is 10 MB"),
]


@pytest.mark.parametrize(("data", "message"), [pytest.param(make, message, id=name)
                                                for name, make, message in MALFORMED_CSV])
def test_a_malformed_spreadsheet_names_the_row_and_changes_nothing(app: Flask, data: Callable[[], bytes],
                                                                   message: str) -> None:
    _import(_sheet())
    before = table_rows()

    try:  # a header that cannot be read raises; a bad row is rejected, and a rejection imports nothing
        report = import_standards_csv(db.session, data(), framework_title=TITLE, actor=None)
        said = " ".join(str(r) for r in report.rejected)
        assert report.outcome == "blocked"
    except ServiceError as error:
        said = error.message
    db.session.commit()

    assert message in said
    assert table_rows() == before


def test_a_bom_is_accepted(app: Flask) -> None:
    assert _import(b"\xef\xbb\xbf" + _sheet()).created == 5


def test_import_standards_csv_command(app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "writing.csv"
    file.write_bytes(_sheet())
    group = click.Group("imports")
    register(group)

    result = app.test_cli_runner().invoke(group, ["import-standards-csv", str(file), "--framework-title", TITLE])

    assert result.exit_code == 0, result.output
    assert f"Imported “{TITLE}”: 5 created" in result.output
