"""The teacher's side: the gradebook blueprint, its section scope (loaded and authorised once), my sections,
the class mastery grid and its CSV, reteach groups. The entry screen is in gradebook_entry.py, the cell detail
in gradebook_cell.py; the student page and section settings join the same blueprint."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from gradebook import authz
from gradebook.authz import discloses, roles_required
from gradebook.extensions import db
from gradebook.interop import csv_safe
from gradebook.models import (
    Assessment,
    Competency,
    Enrollment,
    Evidence,
    FeedbackReply,
    ReassessmentRequest,
    Section,
    SectionStandard,
    SectionTeacher,
    User,
)
from gradebook.services import gradebook as read
from gradebook.services.paths import ready_counts
from gradebook.services.proficiency import load_section_with_settings
from gradebook.web import MAX_ID, refuse_writes_to_closed, render_page_or_fragment
from gradebook.web.downloads import send_download

bp = Blueprint("gradebook", __name__)
TEACHING = ("teacher", "admin")


@bp.url_value_preprocessor
def _pull_section_id(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.section_id = values.pop("section_id", None) if values else None


@bp.url_defaults
def _refill_section_id(endpoint: str, values: dict[str, Any]) -> None:
    if "section_id" not in values and getattr(g, "section_id", None) is not None:
        values["section_id"] = g.section_id


@bp.before_request
def _load_section() -> None:
    """The section in the URL is loaded and authorised once, here (after the role check)."""
    if g.section_id is None:
        return
    locks = getattr(current_app.view_functions.get(request.endpoint or ""), "locks_student", None)
    if locks is not None and request.method == "POST" and isinstance((request.view_args or {}).get(locks), int):
        from gradebook.services.evidence import load_section_for_save  # the save's lock in the same statement

        section, teaches = load_section_for_save(db.session, g.section_id, current_user, request.view_args[locks])
    else:
        section, teaches = load_section_with_settings(db.session, g.section_id, current_user)
    authz.require(section is not None and teaches)
    g.section = section
    refuse_writes_to_closed(section)  # type: ignore[arg-type]


def _section() -> Section:
    return g.section


def _assessment_or_404(assessment_id: int) -> Assessment:
    assessment = db.session.get(Assessment, assessment_id)
    authz.require(assessment is not None and assessment.section_id == _section().id and assessment.deleted_at is None)
    return assessment  # type: ignore[return-value]


def _enrolled_student_or_404(student_id: int) -> User:
    """A student of this section now (a removed enrolment no longer opens their pages here)."""
    student = db.session.scalar(
        select(User).join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.section_id == _section().id, User.id == student_id, Enrollment.active.is_(True)))
    authz.require(student is not None)
    return student  # type: ignore[return-value]


def _standard_or_404(competency_id: int) -> Competency:
    standard = db.session.scalar(
        select(Competency).join(SectionStandard, SectionStandard.competency_id == Competency.id)
        .where(SectionStandard.section_id == _section().id, Competency.id == competency_id))
    authz.require(standard is not None)
    return standard  # type: ignore[return-value]


# ------------------------------------------------------------------ my sections

def _recent_reply_authors(**_: Any) -> list[int]:
    """Whose replies the landing page shows (its counts name no one): the newest 8 in the viewer's sections."""
    query = select(Section.id).where(Section.active.is_(True))
    if current_user.role == "teacher":
        query = query.join(SectionTeacher).where(SectionTeacher.teacher_id == current_user.id)
    return list(db.session.scalars(
        select(FeedbackReply.author_id).join(Evidence, Evidence.id == FeedbackReply.evidence_id)
        .where(Evidence.section_id.in_(query)).order_by(FeedbackReply.created_at.desc()).limit(8)))


@bp.get("/sections")
@roles_required(*TEACHING)
@discloses("my_sections", students=_recent_reply_authors)
def my_sections() -> str:
    query = select(Section).where(Section.active.is_(True)).order_by(Section.name)
    if current_user.role == "teacher":
        query = query.join(SectionTeacher).where(SectionTeacher.teacher_id == current_user.id)
    else:  # an admin: the sections of their schools (the school picker narrows a district admin's)
        query = authz.admin_scope().sections(query)
    sections = list(db.session.scalars(query))
    ids = [s.id for s in sections]
    counts = dict(db.session.execute(
        select(Enrollment.section_id, func.count()).where(Enrollment.active.is_(True), Enrollment.section_id.in_(ids))
        .group_by(Enrollment.section_id)).all())
    mastery_rows = db.session.execute(_mastery_counts(ids)).all()
    mastery = {sid: (at, total) for sid, at, total in mastery_rows}
    requests = dict(db.session.execute(
        select(ReassessmentRequest.section_id, func.count())
        .where(ReassessmentRequest.section_id.in_(ids), ReassessmentRequest.status == "open")
        .group_by(ReassessmentRequest.section_id)).all())
    missing = read.outstanding_counts(db.session, ids)
    ready = ready_counts(db.session, ids)
    replies = db.session.execute(
        select(FeedbackReply, User, Evidence, Competency)
        .join(User, User.id == FeedbackReply.author_id)
        .join(Evidence, Evidence.id == FeedbackReply.evidence_id)
        .join(Competency, Competency.id == Evidence.competency_id)
        .where(Evidence.section_id.in_(ids)).order_by(FeedbackReply.created_at.desc()).limit(8)).all()
    return render_template("gradebook/my_sections.html", sections=sections, counts=counts, mastery=mastery,
                           requests=requests, missing=missing, replies=replies, ready=ready)


def _mastery_counts(section_ids: list[int]) -> Any:
    """Per section: its student–standard pairs at mastery (by the section's scale: its own, else its school's,
    else the district's, as `scale_for` decides) and all its pairs, in one statement however many schools."""
    from gradebook.models import District, ProficiencyRecord, ProficiencyScale, ScaleLevel, School

    first_school = select(School.id).order_by(School.id).limit(1).scalar_subquery()
    district_scale = select(District.default_scale_id).order_by(District.id).limit(1).scalar_subquery()
    first_scale = select(ProficiencyScale.id).order_by(ProficiencyScale.id).limit(1).scalar_subquery()
    mastery = aliased(ScaleLevel)
    leaf_ids = select(SectionStandard.competency_id).where(SectionStandard.section_id == ProficiencyRecord.section_id)
    return (select(ProficiencyRecord.section_id,
                   func.count().filter(ProficiencyRecord.level_points >= mastery.points), func.count())
            .join(Section, Section.id == ProficiencyRecord.section_id)
            .outerjoin(School, School.id == func.coalesce(Section.school_id, first_school))
            .outerjoin(mastery, (mastery.scale_id == func.coalesce(Section.scale_id, School.default_scale_id,
                                                                 district_scale, first_scale))
                       & mastery.is_mastery.is_(True))
            .where(ProficiencyRecord.section_id.in_(section_ids), ProficiencyRecord.competency_id.in_(leaf_ids))
            .group_by(ProficiencyRecord.section_id))


# ------------------------------------------------------------------ the class mastery grid

SORTS = ("name", "level")


@bp.get("/sections/<int:section_id>")
@roles_required(*TEACHING)
@discloses("grid", students=authz.section_roster)
def grid() -> Any:
    book = read.load_gradebook(db.session, _section())
    g.roster_shown = (_section().id, [s.id for s in book.students])  # for the audit rows: no second query
    competency = request.args.get("competency", type=int)
    below = request.args.get("below") == "1"
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    groups = [grp for grp in book.groups if not competency or (grp.competency and grp.competency.id == competency)]
    standards = [s for grp in groups for s in grp.standards]
    students = list(book.students)
    if below:
        students = [s for s in students if any(book.cell(s.id, c.id).below_mastery for c in standards)]
    if sort == "level":
        def average_points(student: User) -> float:
            points = [book.cell(student.id, c.id).level.points for c in standards if book.cell(student.id, c.id).level]
            return sum(points) / len(points) if points else -1
        students.sort(key=lambda s: (average_points(s), s.name))
    assessments = list(db.session.scalars(
        select(Assessment).where(Assessment.section_id == _section().id, Assessment.deleted_at.is_(None))
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc()).limit(8)))
    return render_page_or_fragment(
        "gradebook/grid.html", "gradebook/_grid.html", book=book, groups=groups, students=students,
        rows=read.grid_rows(book, students, standards), **_grid_urls(),
        competency=competency, below=below, sort=sort, all_groups=book.groups, assessments=assessments)


def _grid_urls() -> dict[str, str]:
    """The grid's links from one `url_for` each: a student's page is `student_url` + id, a cell's
    `cell_url` + student id + `cell_url_middle` + standard id (the routes' own shape, whatever it becomes)."""
    mark = str(MAX_ID)
    student_url = url_for("gradebook.student", student_id=MAX_ID)
    cell_url, middle, _end = url_for("gradebook.cell_detail", student_id=MAX_ID, competency_id=MAX_ID).split(mark)
    return {"student_url": student_url[:student_url.rindex(mark)], "cell_url": cell_url, "cell_url_middle": middle}


@bp.get("/sections/<int:section_id>/export.csv")
@roles_required(*TEACHING)
@discloses("grid_csv", students=authz.section_roster)
def export_csv() -> Response:
    book = read.load_gradebook(db.session, _section())
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(["student", "email"] + [f"{s.code} level" for s in book.standards]
                    + [f"{s.code} score" for s in book.standards])
    for student in book.students:
        cells = [book.cell(student.id, s.id) for s in book.standards]
        writer.writerow([student.name, student.email]
                        + [(c.level.label + (" (teacher judgement)" if c.override else "")) if c.level else ""
                           for c in cells]
                        + [book.scale.show(c.score) for c in cells])
    name = (_section().code or f"section-{_section().id}").replace(" ", "-")
    return send_download(out.getvalue(), name=f"{name}-gradebook.csv", mimetype="text/csv",
                         fallback="gradebook.csv")


@bp.get("/sections/<int:section_id>/export-oneroster.zip")
@roles_required(*TEACHING)
@discloses("section_results_oneroster", students=authz.section_roster)
def export_oneroster() -> Response:
    """Current levels as OneRoster 1.2 Gradebook CSV (lineItems, results, categories, manifest) for the SIS."""
    return _results_download("oneroster", "application/zip", "oneroster-results.zip")


@bp.get("/sections/<int:section_id>/export-case.json")
@roles_required(*TEACHING)
@discloses("section_results_case", students=authz.section_roster)
def export_case_json() -> Response:
    """Current levels as CASE-aligned JSON (standards by their CASE identifiers)."""
    return _results_download("case", "application/json", "case-results.json")


def _results_download(kind: str, mimetype: str, suffix: str) -> Response:
    from gradebook.interop import results_export

    section = _section()
    body = (results_export.oneroster_results_zip(db.session, section) if kind == "oneroster"
            else results_export.case_results_json(db.session, section))
    name = (section.code or f"section-{section.id}").replace(" ", "-")
    return send_download(body, name=f"{name}-{suffix}", mimetype=mimetype, fallback=suffix)


@bp.get("/sections/<int:section_id>/reteach")
@roles_required(*TEACHING)
@discloses("reteach", students=authz.section_roster)
def reteach() -> str:
    book = read.load_gradebook(db.session, _section())
    standard_id = request.args.get("standard", type=int) or (book.standards[0].id if book.standards else None)
    standard = next((s for s in book.standards if s.id == standard_id), None)
    groups: list[tuple[Any, list[User]]] = []
    waiting: list[User] = []
    latest_feedback: dict[int, str] = {}
    if standard is not None:
        by_points: dict[float, list[User]] = {}
        for student in book.students:
            cell = book.cell(student.id, standard.id)
            if cell.level is None:
                waiting.append(student)
            elif cell.below_mastery:
                by_points.setdefault(cell.level.points, []).append(student)
        for level in sorted(book.scale.levels, key=lambda lv: lv.points):
            if level.points in by_points:
                groups.append((level, by_points[level.points]))
        for evidence in db.session.scalars(
                select(Evidence).where(Evidence.section_id == _section().id, Evidence.competency_id == standard.id,
                                       Evidence.deleted_at.is_(None), Evidence.feedback != "")
                .order_by(Evidence.observed_on, Evidence.recorded_at)):
            latest_feedback[evidence.student_id] = evidence.feedback
    requests = read.open_reassessment_requests(db.session, _section().id)
    outstanding = read.outstanding_work(db.session, _section().id)
    return render_template("gradebook/reteach.html", book=book, standard=standard, groups=groups, waiting=waiting,
                           latest_feedback=latest_feedback, requests=requests, outstanding=outstanding)
