"""A generated school district, written with bulk inserts (SQLAlchemy Core ``insert()`` + executemany).

Deterministic for a given seed: the same sections, rosters, dates and scores every run. Only the
proficiency cache is left empty: the benchmarks fill it with the product's own ``recompute``.

Shape: students are split into sections of ``section_size`` (25–30 by default), one teacher each. Every
section assesses ``standards`` leaves of one framework whose leaves are grouped under parent competencies
(``per_parent`` leaves each), a window of the framework chosen per section. Each assessment is aligned to
``standards_per_assessment`` of the section's standards, and every student gets ``evidence`` scored pieces
(1–4) on every standard, one per assessment, dated a week apart.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, insert, select

from gradebook.models import (
    Assessment,
    AssessmentStandard,
    Competency,
    Enrollment,
    Evidence,
    Framework,
    ProficiencyScale,
    ScaleLevel,
    School,
    Section,
    SectionStandard,
    SectionTeacher,
    Term,
    User,
)
from gradebook.proficiency import DEFAULT_LEVELS

SEED = 20260901
SCORES = (1, 2, 2, 3, 3, 3, 4)  # the spread proficiency_compute.py uses: 1–4, centred near mastery
START = date(2025, 9, 1)  # a past term, so every date is a valid observation date
KINDS = ("test", "practice", "performance_task", "project")
FIRST = ("Ava", "Ben", "Chloe", "Dev", "Elif", "Finn", "Grace", "Hugo", "Ines", "Jamal", "Kira", "Liam",
         "Maya", "Noah", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wren", "Yusuf")
LAST = ("Adams", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones", "Kowalski",
        "Lopez", "Martin", "Nguyen", "Okafor", "Patel", "Quist", "Rossi", "Smith", "Tanaka", "Usman", "Varga")


@dataclass
class District:
    students: int = 0
    teachers: int = 0
    sections: int = 0
    section_sizes: tuple[int, int] = (0, 0)
    framework_standards: int = 0
    parent_competencies: int = 0
    standards_per_section: int = 0
    assessments: int = 0
    alignments: int = 0
    enrollments: int = 0
    evidence: int = 0
    seconds: float = 0.0
    evidence_seconds: float = 0.0
    section_ids: list[int] = field(default_factory=list)
    students_by_section: dict[int, list[int]] = field(default_factory=dict)
    standards_by_section: dict[int, list[int]] = field(default_factory=dict)
    # section id -> [(assessment id, [aligned competency ids])]
    assessments_by_section: dict[int, list[tuple[int, list[int]]]] = field(default_factory=dict)
    teacher_by_section: dict[int, int] = field(default_factory=dict)
    scale_id: int = 0
    school_id: int = 0

    def summary(self) -> str:
        low, high = self.section_sizes
        sections = (f"one section of {low} students (one teacher)" if self.sections == 1 else
                    f"{self.students:,} students in {self.sections:,} sections of {low}–{high} "
                    f"({self.teachers:,} teachers, one per section)")
        return (f"{sections}; {self.standards_per_section} standards per section "
                f"from one framework of {self.framework_standards} standards under {self.parent_competencies} "
                f"parent competencies; {self.assessments:,} assessments ({self.alignments:,} alignments); "
                f"{self.enrollments:,} enrollments; {self.evidence:,} evidence rows (scored 1–4)")


def section_sizes(students: int, low: int, high: int, rng: random.Random) -> list[int]:
    """Sections of low..high students covering everyone; when no such split exists (fewer than ``low``
    students, or e.g. 31–49 for 25–30), as even a split as possible into sections of at most ``high``."""
    count = max(round(students / ((low + high) / 2)), math.ceil(students / high), 1)
    if count * low > students:
        return [students // count + (1 if i < students % count else 0) for i in range(count)]
    sizes = [low] * count
    left = students - low * count
    while left > 0:
        i = rng.randrange(count)
        if sizes[i] < high:
            sizes[i] += 1
            left -= 1
    return sizes


def _chunks(rows: Sequence[dict], size: int) -> list[Sequence[dict]]:
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def _insert(conn: Connection, table, rows: Sequence[dict], chunk: int) -> None:  # type: ignore[no-untyped-def]
    for part in _chunks(rows, chunk):
        conn.execute(insert(table), list(part))


def build(
    conn: Connection,
    *,
    students: int,
    standards: int = 10,
    evidence: int = 10,
    standards_per_assessment: int | None = None,
    size_range: tuple[int, int] = (25, 30),
    windows: int = 4,
    per_parent: int = 5,
    teacher_ids: Sequence[int] | None = None,
    seed: int = SEED,
    chunk: int = 10_000,
    log: Callable[[str], None] = lambda _message: None,
) -> District:
    """Write the district on ``conn`` (the caller commits). ``teacher_ids``: existing teachers to use, in turn,
    instead of generating one per section."""
    started = time.perf_counter()
    rng = random.Random(seed)
    per_assessment = standards_per_assessment or standards
    blocks = math.ceil(standards / per_assessment)
    now = datetime(2025, 8, 25, 8, 0, 0)
    district = District()

    # -- scale and school (the school's default scale and policy are what recompute reads)
    scale_id = conn.execute(insert(ProficiencyScale.__table__).returning(ProficiencyScale.id),
                            {"name": "Four-level scale", "allow_decimals": True, "version": 1}).scalar_one()
    conn.execute(insert(ScaleLevel.__table__), [
        {"scale_id": scale_id, "points": p, "label": label, "colour": colour, "is_mastery": mastery,
         "description": description} for p, label, colour, mastery, description, _symbol in DEFAULT_LEVELS])
    school_id = conn.execute(insert(School.__table__).returning(School.id), {
        "name": "Benchmark District", "sourced_id": None, "default_scale_id": scale_id,
        "default_policy": {"method": "decaying_average", "weight": 0.65, "min_evidence": 1}, "version": 1,
    }).scalar_one()
    term_id = conn.execute(insert(Term.__table__).returning(Term.id), {
        "name": "Fall 2025", "starts_on": START - timedelta(days=1), "ends_on": START + timedelta(weeks=16),
        "sourced_id": None, "active": True}).scalar_one()
    district.scale_id, district.school_id = scale_id, school_id

    # -- framework: windows × standards leaves, per_parent leaves under each parent competency
    framework_id = conn.execute(insert(Framework.__table__).returning(Framework.id), {
        "identifier": f"bench-framework-{seed}", "title": "Benchmark Science", "subject": "Science",
        "publisher": "Benchmark", "version": "1", "source": "authored", "updated_at": now, "created_at": now,
    }).scalar_one()
    leaves_total = standards * max(1, windows)
    parents_total = math.ceil(leaves_total / per_parent)
    conn.execute(insert(Competency.__table__), [
        {"framework_id": framework_id, "parent_id": None, "identifier": f"P{p + 1}", "code": f"SCI.{p + 1}",
         "short_name": f"Big idea {p + 1}", "statement": f"Understand big idea {p + 1}.", "item_type": "Competency",
         "position": p, "updated_at": now} for p in range(parents_total)])
    parent_ids = dict(conn.execute(select(Competency.identifier, Competency.id)
                                   .where(Competency.framework_id == framework_id)).all())
    conn.execute(insert(Competency.__table__), [
        {"framework_id": framework_id, "parent_id": parent_ids[f"P{i // per_parent + 1}"], "identifier": f"L{i + 1}",
         "code": f"SCI.{i // per_parent + 1}.{i % per_parent + 1}", "short_name": f"Skill {i + 1}",
         "statement": f"Do skill {i + 1} accurately and independently.", "item_type": "Standard", "position": i,
         "updated_at": now} for i in range(leaves_total)])
    leaf_ids = dict(conn.execute(select(Competency.identifier, Competency.id).where(
        Competency.framework_id == framework_id, Competency.parent_id.is_not(None))).all())
    leaves = [leaf_ids[f"L{i + 1}"] for i in range(leaves_total)]
    district.framework_standards, district.parent_competencies = leaves_total, parents_total
    district.standards_per_section = standards

    # -- users: students, and a teacher per section unless given
    sizes = section_sizes(students, *size_range, rng)
    district.section_sizes = (min(sizes), max(sizes))

    def person(role: str, n: int) -> dict:
        return {"email": f"{role}{n}@bench.example.org", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "role": role, "password_hash": None, "active": True, "sourced_id": None,
                "grade_level": "8" if role == "student" else None,
                "session_token": f"{rng.getrandbits(128):032x}", "created_at": now}

    _insert(conn, User.__table__, [person("student", n) for n in range(students)], chunk)
    if teacher_ids is None:
        _insert(conn, User.__table__, [person("teacher", n) for n in range(len(sizes))], chunk)
    by_email = dict(conn.execute(select(User.email, User.id).where(User.email.like("%@bench.example.org"))).all())
    student_ids = [by_email[f"student{n}@bench.example.org"] for n in range(students)]
    teachers = list(teacher_ids) if teacher_ids is not None else \
        [by_email[f"teacher{n}@bench.example.org"] for n in range(len(sizes))]
    district.students, district.teachers = students, len(set(teachers))
    log(f"users: {students:,} students, {district.teachers:,} teachers")

    # -- sections, teachers, standards, enrollments
    _insert(conn, Section.__table__, [
        {"term_id": term_id, "school_id": school_id, "name": f"Science 8 · {s + 1:04d}", "code": f"BENCH-{s:05d}",
         "subject": "Science", "scale_id": None, "policy": None, "sourced_id": None, "active": True, "version": 1,
         "created_at": now} for s in range(len(sizes))], chunk)
    by_code = dict(conn.execute(select(Section.code, Section.id).where(Section.code.like("BENCH-%"))).all())
    section_ids = [by_code[f"BENCH-{s:05d}"] for s in range(len(sizes))]
    district.sections, district.section_ids = len(section_ids), section_ids

    teacher_rows, standard_rows, enrollment_rows = [], [], []
    offset = 0
    for s, (section_id, size) in enumerate(zip(section_ids, sizes, strict=True)):
        teacher = teachers[s % len(teachers)]
        district.teacher_by_section[section_id] = teacher
        teacher_rows.append({"section_id": section_id, "teacher_id": teacher})
        window = (s % max(1, windows)) * standards
        chosen = leaves[window:window + standards]
        district.standards_by_section[section_id] = chosen
        standard_rows += [{"section_id": section_id, "competency_id": cid, "position": i} for i, cid in enumerate(chosen)]
        roster = student_ids[offset:offset + size]
        offset += size
        district.students_by_section[section_id] = roster
        enrollment_rows += [{"section_id": section_id, "student_id": sid, "active": True, "sourced_id": None,
                             "created_at": now} for sid in roster]
    _insert(conn, SectionTeacher.__table__, teacher_rows, chunk)
    _insert(conn, SectionStandard.__table__, standard_rows, chunk)
    _insert(conn, Enrollment.__table__, enrollment_rows, chunk)
    district.enrollments = len(enrollment_rows)
    log(f"sections: {len(section_ids):,}, enrollments {len(enrollment_rows):,}")

    # -- assessments: for each block of standards, `evidence` assessments a week apart
    plan: dict[int, list[tuple[str, date, list[int]]]] = {}
    assessment_rows = []
    for section_id in section_ids:
        chosen = district.standards_by_section[section_id]
        shift = rng.randint(0, 4)
        items = []
        for b in range(blocks):
            aligned = chosen[b * per_assessment:(b + 1) * per_assessment]
            for k in range(evidence):
                on = START + timedelta(days=7 * k + b + shift)
                title = f"Task {b + 1}.{k + 1}"
                items.append((title, on, aligned))
                assessment_rows.append({
                    "section_id": section_id, "title": title, "kind": KINDS[k % len(KINDS)], "assessed_on": on,
                    "description": "", "counts": True, "created_by_id": district.teacher_by_section[section_id],
                    "created_at": now, "deleted_at": None, "version": 1})
        plan[section_id] = items
    _insert(conn, Assessment.__table__, assessment_rows, chunk)
    ids = {(sid, title): aid for aid, sid, title in conn.execute(
        select(Assessment.id, Assessment.section_id, Assessment.title).where(Assessment.title.like("Task %")))}
    alignment_rows = []
    for section_id, items in plan.items():
        district.assessments_by_section[section_id] = [(ids[(section_id, t)], aligned) for t, _, aligned in items]
        for title, _, aligned in items:
            alignment_rows += [{"assessment_id": ids[(section_id, title)], "competency_id": cid} for cid in aligned]
    _insert(conn, AssessmentStandard.__table__, alignment_rows, chunk)
    district.assessments, district.alignments = len(assessment_rows), len(alignment_rows)
    log(f"assessments: {len(assessment_rows):,}, alignments {len(alignment_rows):,}")

    # -- evidence, generated and written a chunk at a time
    evidence_started = time.perf_counter()
    table = Evidence.__table__
    pending: list[dict] = []
    written = 0
    next_report = 250_000
    for section_id in section_ids:
        teacher = district.teacher_by_section[section_id]
        items = plan[section_id]
        for student_id in district.students_by_section[section_id]:
            for title, on, aligned in items:
                assessment_id = ids[(section_id, title)]
                at = datetime.combine(on, datetime.min.time()) + timedelta(hours=15)
                for cid in aligned:
                    pending.append({
                        "student_id": student_id, "section_id": section_id, "competency_id": cid,
                        "assessment_id": assessment_id, "status": "scored", "score": float(rng.choice(SCORES)),
                        "observed_on": on, "feedback": "", "is_reassessment": False, "recorded_by_id": teacher,
                        "recorded_at": at, "updated_at": at, "deleted_at": None, "deleted_by_id": None,
                        "version": 1})
            if len(pending) >= chunk:
                conn.execute(insert(table), pending)
                written += len(pending)
                pending = []
                if written >= next_report:
                    rate = written / (time.perf_counter() - evidence_started)
                    log(f"evidence: {written:,} rows ({rate:,.0f} rows/s)")
                    next_report += 250_000
    if pending:
        conn.execute(insert(table), pending)
        written += len(pending)
    district.evidence = written
    district.evidence_seconds = time.perf_counter() - evidence_started
    district.seconds = time.perf_counter() - started
    log(f"evidence: {written:,} rows in {district.evidence_seconds:,.1f} s")
    return district
