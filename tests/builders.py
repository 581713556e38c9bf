"""Test builders: make_user, make_section(students=30, standards=8) …, committed so other threads see them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from gradebook.extensions import db
from gradebook.models import (
    Assessment,
    AssessmentStandard,
    Competency,
    Enrollment,
    Evidence,
    FeedbackReply,
    Framework,
    Goal,
    GoalCompetency,
    GuardianLink,
    LevelDescriptor,
    PortfolioEntry,
    School,
    SchoolMember,
    Section,
    SectionStandard,
    SectionTeacher,
    Term,
    User,
)
from gradebook.services.accounts import create_user
from gradebook.services.evidence import CellValue, record_evidence
from gradebook.services.proficiency import default_scale_row

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(role: str = "teacher", name: str | None = None, school: School | None = None,  # type: ignore[no-untyped-def]
              **kwargs) -> User:
    """An account; an admin is a district admin unless ``school`` makes them that school's admin; anyone else
    joins ``school`` when given (make_section adds its teacher and students to the section's school)."""
    n = next(_seq)
    user = create_user(db.session, email=f"{role}{n}@example.org", name=name or f"{role.title()} {n}", role=role,
                       password=PASSWORD, **kwargs)
    user.district_admin = role == "admin" and school is None
    if school is not None:
        db.session.add(SchoolMember(user_id=user.id, school_id=school.id))
    db.session.commit()
    return user


def make_school() -> School:
    school = db.session.query(School).first()
    if school is None:
        scale = default_scale_row(db.session)
        school = School(name="Test School", default_scale_id=scale.id,
                        default_policy={"method": "decaying_average", "weight": 0.65, "min_evidence": 1})
        db.session.add(school)
        db.session.commit()
    return school


def make_framework(standards: int = 8, per_competency: int = 4, code: str = "SCI") -> list[Competency]:
    """A framework with inner competencies grouping `standards` leaves; returns the leaves."""
    framework = Framework(title=f"{code} framework {next(_seq)}", source="authored")
    db.session.add(framework)
    db.session.flush()
    leaves: list[Competency] = []
    parent: Competency | None = None
    for i in range(standards):
        if i % per_competency == 0:
            parent = Competency(framework_id=framework.id, code=f"{code}.{i // per_competency + 1}",
                                statement=f"Competency {i // per_competency + 1}", short_name=f"Group {i // per_competency + 1}",
                                position=i // per_competency)
            db.session.add(parent)
            db.session.flush()
        assert parent is not None
        leaf = Competency(framework_id=framework.id, parent_id=parent.id, code=f"{parent.code}.{i % per_competency + 1}",
                          statement=f"Do skill {i + 1} well.", short_name=f"Skill {i + 1}", position=i)
        db.session.add(leaf)
        db.session.flush()
        for points in (1, 2, 3, 4):
            db.session.add(LevelDescriptor(competency_id=leaf.id, points=points,
                                           description=f"Level {points} on skill {i + 1}."))
        leaves.append(leaf)
    db.session.commit()
    return leaves


@dataclass
class SectionWorld:
    section: Section
    teacher: User
    students: list[User]
    standards: list[Competency]
    guardians: list[User] = field(default_factory=list)


def make_section(students: int = 3, standards: int = 4, teacher: User | None = None, guardians: bool = False,
                 name: str | None = None, school: School | None = None) -> SectionWorld:
    """A section of ``school`` (default: the first school) with its teacher, students (and guardians) its
    school's members."""
    school = school or make_school()
    term = db.session.query(Term).first()
    if term is None:
        term = Term(name="Fall", starts_on=date(2026, 8, 31), ends_on=date(2026, 12, 18))
        db.session.add(term)
        db.session.flush()
    teacher = teacher or make_user("teacher")
    leaves = make_framework(standards)
    section = Section(term_id=term.id, school_id=school.id, name=name or f"Section {next(_seq)}")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionTeacher(section_id=section.id, teacher_id=teacher.id))
    from gradebook.services.schools import add_members

    add_members(db.session, teacher.id, [school.id])
    for position, leaf in enumerate(leaves):
        db.session.add(SectionStandard(section_id=section.id, competency_id=leaf.id, position=position))
    roster = [make_user("student", name=f"Student {i + 1:02d}") for i in range(students)]
    for student in roster:
        db.session.add(Enrollment(section_id=section.id, student_id=student.id))
        db.session.add(SchoolMember(user_id=student.id, school_id=school.id))
    family: list[User] = []
    if guardians:
        for student in roster:
            guardian = make_user("guardian", school=school)
            db.session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id))
            family.append(guardian)
    db.session.commit()
    return SectionWorld(section, teacher, roster, leaves, family)


def make_assessment(world: SectionWorld, standards: list[Competency] | None = None, title: str = "Quiz",
                    kind: str = "test", on: date = date(2026, 10, 5), counts: bool = True) -> Assessment:
    assessment = Assessment(section_id=world.section.id, title=title, kind=kind, assessed_on=on, counts=counts,
                            created_by_id=world.teacher.id)
    db.session.add(assessment)
    db.session.flush()
    for standard in standards or world.standards[:2]:
        db.session.add(AssessmentStandard(assessment_id=assessment.id, competency_id=standard.id))
    db.session.commit()
    return assessment


def make_evidence(world: SectionWorld, student: User, standard: Competency, score: float | None = 3,
                  on: date = date(2026, 10, 5), feedback: str = "", assessment: Assessment | None = None,
                  status: str = "scored") -> Evidence:
    """One piece of evidence recorded by the section's teacher through the service (so the cache is fresh)."""
    evidence = record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                               competency_id=standard.id,
                               value=CellValue(status, float(score) if status == "scored" and score is not None
                                               else None),
                               observed_on=on, assessment=assessment, feedback=feedback)
    db.session.commit()
    return evidence


def make_busy_student(standards: int, pieces: int) -> SectionWorld:
    """A student (with a guardian) who has `pieces` scored pieces of evidence with feedback on each of
    `standards` standards, a reply on each standard, a goal and a piece of work shared with the family."""
    world = make_section(students=1, standards=standards, guardians=True)
    student = world.students[0]
    assessments = [make_assessment(world, standards=world.standards, title=f"Task {i + 1}",
                                   on=date(2026, 9, 1) + timedelta(days=7 * i)) for i in range(pieces)]
    for standard in world.standards:
        for i, assessment in enumerate(assessments):
            evidence = make_evidence(world, student, standard, 1 + (i % 4), on=assessment.assessed_on,
                                     assessment=assessment, feedback=f"Feedback {i + 1} on {standard.code}.")
        db.session.add(FeedbackReply(evidence_id=evidence.id, author_id=student.id, body="Thanks."))
    goal = Goal(student_id=student.id, title="A goal")
    db.session.add(goal)
    db.session.flush()
    db.session.add(GoalCompetency(goal_id=goal.id, competency_id=world.standards[0].id))
    db.session.add(PortfolioEntry(student_id=student.id, title="Shared work", reflection="What it shows.",
                                  visibility="family", featured=True))
    db.session.commit()
    return world


def make_habits(world: SectionWorld, names: tuple[str, ...] = ("Responsibility", "Persistence", "Collaboration"),
                method: str = "mode") -> list[Competency]:
    """A habits framework (on the habits scale) whose habits the world's section tracks; returns them."""
    from gradebook.services.habits import create_habit_framework, set_section_habits

    framework = create_habit_framework(
        db.session, f"Habits of work {next(_seq)}",
        [(f"HW.{i + 1}", name) for i, name in enumerate(names)], method=method)
    habits = list(db.session.scalars(db.select(Competency).where(Competency.framework_id == framework.id)
                                     .order_by(Competency.position)))
    set_section_habits(db.session, world.teacher, world.section, [h.id for h in habits])
    db.session.commit()
    return habits


def make_habit(world: SectionWorld, student: User, habit: Competency, value: str, on: date = date(2026, 10, 5),
               assessment: Assessment | None = None):  # type: ignore[no-untyped-def]
    """One habit observation recorded by the section's teacher through the service ('3', 'M', 'L' …)."""
    from gradebook.proficiency import HABIT_SCALE
    from gradebook.services.habits import parse_habit, record_habit

    evidence = record_habit(db.session, world.teacher, section=world.section, student_id=student.id,
                            competency_id=habit.id, value=parse_habit(value, HABIT_SCALE), observed_on=on,
                            assessment=assessment)
    db.session.commit()
    return evidence
