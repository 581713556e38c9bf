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


# ---------------------------------------------------------------- issue 15: the spreadsheets teachers bring

SHEETS = Path(__file__).resolve().parents[1] / "data" / "spreadsheets"  # copied unchanged from ../shared/testdata


def _tree(framework_title: str) -> dict[str, str | None]:
    framework = db.session.scalars(select(Framework).where(Framework.title == framework_title)).one()
    rows = db.session.scalars(select(Competency).where(Competency.framework_id == framework.id)).all()
    code = {c.id: c.code for c in rows}
    return {c.code: code.get(c.parent_id) if c.parent_id else None for c in rows}


def test_opensalts_case_spreadsheet_is_recognised_and_becomes_its_tree(app: Flask) -> None:
    report = _import((SHEETS / "opensalt-sample_case.csv").read_bytes(), title="OpenSALT sample")

    assert (report.layout, report.created, report.rejected) == ("OpenSALT's CASE spreadsheet", 10, [])
    assert "Read as OpenSALT's CASE spreadsheet." in report.summary
    assert _tree("OpenSALT sample") == {
        "M": None, "M.F": "M", "M.F.1-2": "M.F", "M.F.1-2.S1": "M.F.1-2", "M.F.1-2.S1a": "M.F.1-2.S1",
        "M.F.1-2.S1b": "M.F.1-2.S1", "M.F.C2": "M.F", "M.F.C2.S1": "M.F.C2", "M.E": None, "M.E.C1": None}
    cluster = _code("M.F.1-2")
    assert (cluster.identifier, cluster.statement) == ("Math.Fractions.Cluster1",
                                                       "Students understand operations on fractions.")
    assert [c.code for c in db.session.scalars(select(Competency).where(Competency.parent_id == _code("M.F").id)
                                                .order_by(Competency.position))] == ["M.F.1-2", "M.F.C2"]
    assert any("IsRelatedTo" in w and "not imported" in w for w in report.warnings)
    assert _import((SHEETS / "opensalt-sample_case.csv").read_bytes(), title="OpenSALT sample").no_change


def test_the_canvas_outcomes_csv_is_recognised_groups_outcomes_and_ratings(app: Flask) -> None:
    report = _import((SHEETS / "canvas-outcomes-sample.csv").read_bytes(), title="Canvas outcomes")

    assert (report.layout, report.created, report.rejected) == ("the Canvas outcomes CSV", 3, [])
    assert _tree("Canvas outcomes") == {"G-1": None, "G-1.1": "G-1", "LS-100": "G-1.1"}
    outcome = _code("LS-100")
    assert (outcome.item_type, outcome.short_name, outcome.statement, outcome.identifier) == (
        "Outcome", "Learning Standard", "outcome description", "c")
    assert (_code("G-1").item_type, _code("G-1.1").short_name) == ("Group", "Child group")
    assert _descriptors("LS-100") == {3.0: "Excellent", 2.0: "Better", 1.0: "Good"}
    notes = " ".join(report.warnings)
    assert ("Canvas calculation method for LS-100: decaying_average 40 → decaying average, weight of the latest "
            "evidence 0.40. To use it, set it as the section's calculation policy") in notes
    assert "placed under b, the most specific" in notes


def test_a_canvas_row_with_an_unknown_object_type_is_rejected_and_can_be_skipped(app: Flask) -> None:
    data = (SHEETS / "canvas-outcomes-sample.csv").read_bytes() + b"d,rubric,Odd,,X-1,,,active,a,,,,,,,,\n"

    blocked = _import(data, title="Canvas outcomes")
    assert (blocked.outcome, [str(r) for r in blocked.rejected]) == ("blocked", [
        "the spreadsheet row 5: X-1 has the object_type “rubric”, neither group nor outcome."])
    report = import_standards_csv(db.session, data, framework_title="Canvas outcomes", actor=None, skip_rejected=True)

    assert (report.outcome, report.created) == ("imported", 3)


def test_a_dry_run_reports_and_changes_nothing(app: Flask) -> None:
    before = table_rows()

    report = import_standards_csv(db.session, _sheet(), framework_title=TITLE, actor=None, dry_run=True)
    db.session.commit()

    assert (report.outcome, report.created, report.framework_created) == ("dry_run", 5, True)
    assert report.summary.startswith("Dry run, nothing changed yet. Importing it would do this: Create “Riverside")
    assert table_rows() == before
