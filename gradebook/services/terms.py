"""Terms end and begin without losing anything.

The end-of-term rollover closes a term: its sections become read-only (no new evidence, no edits; their
pages stay readable and every row is kept), and the next term opens (found by name, or created). With
`copy_sections` each closed section gets a successor in the next term: the same name, code, subject, scale,
policy, teachers, standards, learning path (units with their dates moved into the new term, prerequisites,
playlists, ways to show; nothing of the students' own) and active students, and no evidence (what the students showed before follows
them on their record, and their new teacher may accept it). Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook.models import Enrollment, Section, SectionStandard, SectionTeacher, Term, User, utcnow
from gradebook.services import ServiceError
from gradebook.services.audit import record_change
from gradebook.services.paths import copy_path


@dataclass
class RolloverReport:
    closed_term: Term
    next_term: Term
    next_created: bool = False
    sections_closed: list[str] = field(default_factory=list)
    sections_copied: list[str] = field(default_factory=list)
    enrolments_copied: int = 0
    paths_copied: int = 0  # successors that got their section's learning path

    def __str__(self) -> str:
        text = (f"{self.closed_term.name} is closed: {len(self.sections_closed)} section(s) made read-only"
                f"{' (' + ', '.join(self.sections_closed) + ')' if self.sections_closed else ''}. "
                f"{self.next_term.name} is {'created and ' if self.next_created else ''}open")
        if self.sections_copied:
            text += (f"; {len(self.sections_copied)} section(s) carried into it with their teachers, standards"
                     f"{f', {self.paths_copied} learning path(s)' if self.paths_copied else ''} "
                     f"and {self.enrolments_copied} enrolment(s)")
        return text + ". Nothing was deleted."


def find_term(session: Session, name_or_id: str) -> Term | None:
    term = session.scalar(select(Term).where(Term.name == name_or_id).order_by(Term.id).limit(1))
    if term is None and name_or_id.isdigit():
        term = session.get(Term, int(name_or_id))
    return term


def rollover(session: Session, actor: User | None, *, term: Term, next_name: str, next_starts: date | None = None,
             next_ends: date | None = None, copy_sections: bool = False) -> RolloverReport:
    """Close `term` (its sections read-only) and open the next term, named `next_name` (created with the given
    dates when it does not exist; by default it starts the day after `term` ends and lasts as long)."""
    next_name = (next_name or "").strip()
    if not next_name or len(next_name) > 120:
        raise ServiceError("Name the next term (1 to 120 characters).")
    if actor is not None and actor.role != "admin":
        raise ServiceError("Only an admin can end a term.")
    same_school = Term.school_id.is_(None) if term.school_id is None else Term.school_id == term.school_id
    following = session.scalar(select(Term).where(Term.name == next_name, same_school).order_by(Term.id).limit(1))
    if following is not None and following.id == term.id:
        raise ServiceError("The next term must be another term than the one that ends.")
    report_created = False
    if following is None:
        starts = next_starts or date.fromordinal(term.ends_on.toordinal() + 1)
        ends = next_ends or date.fromordinal(starts.toordinal() + (term.ends_on - term.starts_on).days)
        if ends < starts:
            raise ServiceError("The next term must end after it starts.")
        if starts <= term.starts_on:
            raise ServiceError(f"The next term must start after {term.name} starts ({term.starts_on.isoformat()}).")
        following = Term(name=next_name, starts_on=starts, ends_on=ends, active=True, school_id=term.school_id)
        session.add(following)
        session.flush()
        report_created = True
    elif following.closed_at is not None:
        raise ServiceError(f"{following.name} is closed already: choose a term that is still to come.")
    elif following.starts_on <= term.starts_on:
        raise ServiceError(f"{following.name} starts before {term.name}: the next term comes after.")
    report = RolloverReport(term, following, next_created=report_created)
    now = utcnow()
    if term.closed_at is None:
        term.closed_at = now
    sections = list(session.scalars(select(Section).where(Section.term_id == term.id).order_by(Section.name,
                                                                                                Section.id)))
    for section in sections:
        if section.closed_at is None:
            section.closed_at, section.closed_by_id = now, actor.id if actor is not None else None
            report.sections_closed.append(section.name)
    if copy_sections:
        _copy_sections(session, actor, sections, following, report)
    session.flush()
    record_change(session, actor, "term.rollover", target_type="term", target_id=term.id,
                  detail={"next_term_id": following.id, "closed": len(report.sections_closed),
                          "copied": len(report.sections_copied), "enrolments": report.enrolments_copied,
                          "paths": report.paths_copied})
    return report


def _copy_sections(session: Session, actor: User | None, sections: list[Section], following: Term, report: RolloverReport) -> None:
    old_term = report.closed_term
    ids = [s.id for s in sections]
    existing = {(s.name, s.code) for s in session.scalars(select(Section).where(Section.term_id == following.id))}
    teachers: dict[int, list[int]] = {}
    for section_id, teacher_id in session.execute(select(SectionTeacher.section_id, SectionTeacher.teacher_id)
                                                  .where(SectionTeacher.section_id.in_(ids))):
        teachers.setdefault(section_id, []).append(teacher_id)
    standards: dict[int, list[tuple[int, int]]] = {}
    for row in session.scalars(select(SectionStandard).where(SectionStandard.section_id.in_(ids))):
        standards.setdefault(row.section_id, []).append((row.competency_id, row.position))
    students: dict[int, list[int]] = {}
    for section_id, student_id in session.execute(select(Enrollment.section_id, Enrollment.student_id).where(
            Enrollment.section_id.in_(ids), Enrollment.active.is_(True))):
        students.setdefault(section_id, []).append(student_id)
    for old in sections:
        if (old.name, old.code) in existing or not old.active:
            continue
        new = Section(term_id=following.id, school_id=old.school_id, name=old.name, code=old.code,
                      subject=old.subject, scale_id=old.scale_id, policy=dict(old.policy) if old.policy else None)
        session.add(new)
        session.flush()
        for teacher_id in teachers.get(old.id, []):
            session.add(SectionTeacher(section_id=new.id, teacher_id=teacher_id))
            record_change(session, actor, "section.teacher.add", target_type="section", target_id=new.id,
                          detail={"teacher_id": teacher_id, "carried_from_section_id": old.id})
        for competency_id, position in standards.get(old.id, []):
            session.add(SectionStandard(section_id=new.id, competency_id=competency_id, position=position))
        for student_id in students.get(old.id, []):
            session.add(Enrollment(section_id=new.id, student_id=student_id, active=True))
            record_change(session, actor, "enrollment.add", student_id=student_id, target_type="section",
                          target_id=new.id, detail={"carried_from_section_id": old.id})
            report.enrolments_copied += 1
        session.flush()
        if copy_path(session, old, new, shift=following.starts_on - old_term.starts_on):
            report.paths_copied += 1
        report.sections_copied.append(old.name)
