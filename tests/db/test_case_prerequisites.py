"""CASE `precedes` associations are kept as framework prerequisites (#12): A precedes B makes A a prerequisite
of B in every section that assesses both; re-importing changes nothing; ends found nowhere are reported."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.interop.case_import import import_case
from gradebook.models import Competency, Prerequisite, Section, SectionStandard, SectionTeacher, Term
from gradebook.services import ServiceError
from gradebook.services.paths import add_prerequisite, effective_prerequisites, section_path
from tests.builders import make_user

CASE_DATA = Path(__file__).resolve().parents[1] / "data" / "case"  # copied unchanged from ../shared/testdata
PACKAGE = CASE_DATA / "ccss-math-6rp-crosswalk.json"
WITHIN_6 = ("CCSS.Math.Content.6.RP.A.2", "CCSS.Math.Content.6.RP.A.1")
ACROSS_GRADES = ("CCSS.Math.Content.7.RP.A.3", "CCSS.Math.Content.6.RP.A.3")


def code_of(competency_id: int) -> str:
    return db.session.get(Competency, competency_id).code  # type: ignore[union-attr]


def framework_pairs() -> set[tuple[str, str]]:
    """(standard, its prerequisite) by code, for every framework-level prerequisite."""
    rows = db.session.scalars(select(Prerequisite).where(Prerequisite.section_id.is_(None))).all()
    assert all(r.source == "case" for r in rows)
    return {(code_of(r.competency_id), code_of(r.requires_id)) for r in rows}


def test_precedes_becomes_a_prerequisite_and_reimport_is_idempotent(app: Flask) -> None:
    report = import_case(db.session, PACKAGE.read_bytes(), actor=None)
    db.session.commit()
    # 6.RP.A.1 precedes 6.RP.A.2: A.1 is a prerequisite of A.2; likewise 6.RP.A.3 of 7.RP.A.3. The third
    # `precedes` points at an item this package does not hold (nor anything imported), so it is reported.
    assert framework_pairs() == {WITHIN_6, ACROSS_GRADES}
    assert (report.prerequisites, report.prerequisites_added) == (2, 2)
    assert any("1 precedes association(s) point at items that are not imported" in w for w in report.warnings)
    assert "2 prerequisites" in report.summary

    again = import_case(db.session, PACKAGE.read_bytes(), actor=None)
    db.session.commit()
    assert (again.prerequisites, again.prerequisites_added, again.prerequisites_removed) == (2, 0, 0)
    assert again.no_change
    assert len(db.session.scalars(select(Prerequisite)).all()) == 2


def test_a_precedes_the_new_version_drops_is_removed(app: Flask) -> None:
    import_case(db.session, PACKAGE.read_bytes(), actor=None)
    db.session.commit()
    package = json.loads(PACKAGE.read_text())
    package["CFAssociations"] = [a for a in package["CFAssociations"] if a["associationType"] != "precedes"]
    report = import_case(db.session, json.dumps(package).encode(), actor=None)
    db.session.commit()
    assert (report.prerequisites, report.prerequisites_removed) == (0, 2)
    assert framework_pairs() == set()


def test_a_precedes_circle_in_the_file_is_not_kept(app: Flask) -> None:
    package = json.loads(PACKAGE.read_text())
    forward = next(a for a in package["CFAssociations"]
                   if a["associationType"] == "precedes" and a["destinationNodeURI"]["title"].endswith("6.RP.A.2"))
    backward = json.loads(json.dumps(forward))
    backward["identifier"] = "backward-precedes"
    backward["originNodeURI"], backward["destinationNodeURI"] = forward["destinationNodeURI"], forward["originNodeURI"]
    package["CFAssociations"].append(backward)
    report = import_case(db.session, json.dumps(package).encode(), actor=None)
    db.session.commit()
    assert framework_pairs() == {WITHIN_6, ACROSS_GRADES}
    assert any("would make a circle" in w for w in report.warnings)


def test_a_case_prerequisite_applies_in_a_section_assessing_both_and_blocks_a_teachers_circle(app: Flask) -> None:
    import_case(db.session, PACKAGE.read_bytes(), actor=None)
    db.session.commit()
    a1, a2, a3 = (db.session.scalars(select(Competency).where(Competency.code == f"CCSS.Math.Content.6.RP.A.{n}"))
                  .one() for n in (1, 2, 3))
    term = Term(name="Fall", starts_on=date(2026, 8, 31), ends_on=date(2026, 12, 18))
    db.session.add(term)
    db.session.flush()
    section = Section(term_id=term.id, name="Math 6")
    teacher = make_user("teacher")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionTeacher(section_id=section.id, teacher_id=teacher.id))
    for position, standard in enumerate((a1, a2, a3)):
        db.session.add(SectionStandard(section_id=section.id, competency_id=standard.id, position=position))
    db.session.commit()

    assert effective_prerequisites(db.session, section.id) == {a2.id: {a1.id}}
    assert section_path(db.session, section).prerequisites == {a2.id: {a1.id}}
    # A teacher cannot make A.1 need A.2: with the framework's A.2 needs A.1, that is a circle.
    try:
        add_prerequisite(db.session, teacher, section, competency_id=a1.id, requires_id=a2.id)
    except ServiceError as error:
        assert "circle" in error.message and "6.RP.A.2" in error.message
    else:
        raise AssertionError("a circle through a CASE prerequisite was accepted")
    db.session.rollback()
    assert db.session.scalars(select(Prerequisite).where(Prerequisite.section_id == section.id)).all() == []
