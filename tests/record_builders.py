"""Builders for the record across years: a student taught the same standards in one section a year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gradebook.extensions import db
from gradebook.models import (
    Competency,
    Crosswalk,
    Enrollment,
    Framework,
    Section,
    SectionStandard,
    SectionTeacher,
    Term,
    User,
)
from gradebook.services.record import refresh_match_groups
from tests.builders import SectionWorld, make_evidence, make_framework, make_school, make_user


@dataclass
class YearsWorld:
    student: User
    standards: list[Competency]
    years: list[SectionWorld]  # oldest first; each its own term


def make_term(name: str, year: int, closed: bool = False) -> Term:
    from gradebook.models import utcnow

    term = Term(name=name, starts_on=date(year, 8, 31), ends_on=date(year + 1, 6, 15),
                closed_at=utcnow() if closed else None)
    db.session.add(term)
    db.session.flush()
    return term


def section_in(term: Term, standards: list[Competency], students: list[User], teacher: User | None = None,
               name: str | None = None) -> SectionWorld:
    school = make_school()
    teacher = teacher or make_user("teacher")
    section = Section(term_id=term.id, school_id=school.id, name=name or f"Science {term.name}")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionTeacher(section_id=section.id, teacher_id=teacher.id))
    for position, standard in enumerate(standards):
        db.session.add(SectionStandard(section_id=section.id, competency_id=standard.id, position=position))
    for student in students:
        db.session.add(Enrollment(section_id=section.id, student_id=student.id))
    db.session.commit()
    return SectionWorld(section, teacher, students, standards)


def make_years(years: int, standards: int = 3, scores: list[float] | None = None,
               student: User | None = None) -> YearsWorld:
    """One student, one section a year for `years` years (all but the last year's term closed), the same
    standards in each; in year i the student scores `scores[i]` (default 1, 2, 3, …) on every standard,
    dated in that year."""
    student = student or make_user("student", name="Maya Johnson")
    leaves = make_framework(standards)
    worlds = []
    for i in range(years):
        term = make_term(f"Year {2020 + i}", 2020 + i)
        world = section_in(term, leaves, [student], name=f"Science {2020 + i}")
        score = (scores or [1 + (j % 4) for j in range(years)])[i]
        for standard in leaves:
            make_evidence(world, student, standard, score, on=date(2020 + i, 10, 5))
        worlds.append(world)
    close(*[w.section for w in worlds[:-1]])
    return YearsWorld(student, leaves, worlds)


def close(*sections: Section) -> None:
    """Close these sections and their terms (as the rollover does), after their evidence is in."""
    from gradebook.models import utcnow

    for section in sections:
        row = db.session.get(Section, section.id)
        term = db.session.get(Term, section.term_id)
        assert row is not None and term is not None
        row.closed_at = term.closed_at = utcnow()
    db.session.commit()


def crosswalk(origin: Competency, target: Competency) -> None:
    """`origin` exactMatchOf `target` (as a CASE import keeps it), then the exact-match groups."""
    db.session.add(Crosswalk(competency_id=origin.id, target_identifier=target.identifier or f"id-{target.id}",
                             target_competency_id=target.id, kind="exactMatchOf"))
    db.session.flush()
    refresh_match_groups(db.session)
    db.session.commit()


def other_framework(standards: int, code: str = "NGSS") -> list[Competency]:
    leaves = make_framework(standards, code=code)
    framework = db.session.get(Framework, leaves[0].framework_id)
    assert framework is not None
    return leaves
