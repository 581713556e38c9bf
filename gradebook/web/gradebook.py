"""The teacher's side: my sections, the class mastery grid, assessments, fast entry, cell detail, reteach."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from gradebook import authz
from gradebook.authz import roles_required
from gradebook.extensions import db
from gradebook.models import (
    Assessment,
    AssessmentStandard,
    Competency,
    Enrollment,
    Evidence,
    EvidenceRevision,
    FeedbackReply,
    Override,
    ReassessmentRequest,
    Section,
    SectionStandard,
    SectionTeacher,
    User,
)
from gradebook.services import ServiceError, StaleWrite, proficiency
from gradebook.services import evidence as evidence_service
from gradebook.services import gradebook as read
from gradebook.services.proficiency import scale_for
from gradebook.web import is_fragment_request, render_page_or_fragment
from gradebook.web.forms import KIND_LABELS, AssessmentForm, ObservationForm, OverrideForm

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
    section = db.session.get(Section, g.section_id)
    authz.require(section is not None and authz.teaches_section(current_user, section.id))
    g.section = section


def _section() -> Section:
    return g.section


def _assessment_or_404(assessment_id: int) -> Assessment:
    assessment = db.session.get(Assessment, assessment_id)
    authz.require(assessment is not None and assessment.section_id == _section().id and assessment.deleted_at is None)
    return assessment  # type: ignore[return-value]


def _enrolled_student_or_404(student_id: int) -> User:
    student = db.session.scalar(
        select(User).join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.section_id == _section().id, User.id == student_id))
    authz.require(student is not None)
    return student  # type: ignore[return-value]


def _standard_or_404(competency_id: int) -> Competency:
    standard = db.session.scalar(
        select(Competency).join(SectionStandard, SectionStandard.competency_id == Competency.id)
        .where(SectionStandard.section_id == _section().id, Competency.id == competency_id))
    authz.require(standard is not None)
    return standard  # type: ignore[return-value]


# ------------------------------------------------------------------ my sections

@bp.get("/sections")
@roles_required(*TEACHING)
def my_sections() -> str:
    query = select(Section).where(Section.active.is_(True)).order_by(Section.name)
    if current_user.role == "teacher":
        query = query.join(SectionTeacher).where(SectionTeacher.teacher_id == current_user.id)
    sections = list(db.session.scalars(query))
    ids = [s.id for s in sections]
    counts = dict(db.session.execute(
        select(Enrollment.section_id, func.count()).where(Enrollment.active.is_(True), Enrollment.section_id.in_(ids))
        .group_by(Enrollment.section_id)).all())
    scale = scale_for(db.session, None)
    from gradebook.models import ProficiencyRecord

    leaf_ids = select(SectionStandard.competency_id).where(SectionStandard.section_id == ProficiencyRecord.section_id)
    mastery_rows = db.session.execute(
        select(ProficiencyRecord.section_id,
               func.count().filter(ProficiencyRecord.level_points >= scale.mastery.points), func.count())
        .where(ProficiencyRecord.section_id.in_(ids), ProficiencyRecord.competency_id.in_(leaf_ids))
        .group_by(ProficiencyRecord.section_id)).all()
    mastery = {sid: (at, total) for sid, at, total in mastery_rows}
    requests = dict(db.session.execute(
        select(ReassessmentRequest.section_id, func.count())
        .where(ReassessmentRequest.section_id.in_(ids), ReassessmentRequest.status == "open")
        .group_by(ReassessmentRequest.section_id)).all())
    missing = read.outstanding_counts(db.session, ids)
    replies = db.session.execute(
        select(FeedbackReply, User, Evidence, Competency)
        .join(User, User.id == FeedbackReply.author_id)
        .join(Evidence, Evidence.id == FeedbackReply.evidence_id)
        .join(Competency, Competency.id == Evidence.competency_id)
        .where(Evidence.section_id.in_(ids)).order_by(FeedbackReply.created_at.desc()).limit(8)).all()
    return render_template("gradebook/my_sections.html", sections=sections, counts=counts, mastery=mastery,
                           requests=requests, missing=missing, replies=replies)


# ------------------------------------------------------------------ the class mastery grid

SORTS = ("name", "level")


@bp.get("/sections/<int:section_id>")
@roles_required(*TEACHING)
def grid() -> Any:
    book = read.load_gradebook(db.session, _section())
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
        competency=competency, below=below, sort=sort, all_groups=book.groups, assessments=assessments)


@bp.get("/sections/<int:section_id>/export.csv")
@roles_required(*TEACHING)
def export_csv() -> Response:
    book = read.load_gradebook(db.session, _section())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "email"] + [f"{s.code} level" for s in book.standards]
                    + [f"{s.code} score" for s in book.standards])
    for student in book.students:
        cells = [book.cell(student.id, s.id) for s in book.standards]
        writer.writerow([student.name, student.email]
                        + [(c.level.label + (" (teacher judgement)" if c.override else "")) if c.level else ""
                           for c in cells]
                        + ["" if c.score is None else f"{c.score:.2f}" for c in cells])
    name = (_section().code or f"section-{_section().id}").replace(" ", "-")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}-gradebook.csv"'})


# ------------------------------------------------------------------ assessments

def _assessment_form(assessment: Assessment | None = None) -> AssessmentForm:
    form = AssessmentForm()
    if assessment is not None and request.method == "GET":
        for name in ("title", "kind", "assessed_on", "counts", "description"):
            getattr(form, name).data = getattr(assessment, name)
    groups = read.section_groups(db.session, _section().id)
    form.standards.choices = [(s.id, f"{s.code} {s.short_name or s.statement}") for grp in groups for s in grp.standards]
    if assessment is not None and request.method == "GET":
        form.standards.data = [s.id for s in read.assessment_standards(db.session, assessment.id)]
    if assessment is None and request.method == "GET":
        form.assessed_on.data = date.today()
    return form


@bp.get("/sections/<int:section_id>/assessments")
@roles_required(*TEACHING)
def assessments() -> str:
    rows = db.session.execute(
        select(Assessment, func.count(Evidence.id))
        .outerjoin(Evidence, (Evidence.assessment_id == Assessment.id) & Evidence.deleted_at.is_(None))
        .where(Assessment.section_id == _section().id, Assessment.deleted_at.is_(None))
        .group_by(Assessment.id).order_by(Assessment.assessed_on.desc(), Assessment.id.desc())).all()
    return render_template("gradebook/assessments.html", rows=rows, kinds=KIND_LABELS)


@bp.route("/sections/<int:section_id>/assessments/new", methods=["GET", "POST"])
@roles_required(*TEACHING)
def new_assessment() -> Any:
    form = _assessment_form()
    if form.validate_on_submit():
        assessment = Assessment(section_id=_section().id, title=form.title.data.strip(), kind=form.kind.data,
                                assessed_on=form.assessed_on.data, counts=bool(form.counts.data),
                                description=form.description.data or "", created_by_id=current_user.id)
        db.session.add(assessment)
        db.session.flush()
        for competency_id in form.standards.data:
            db.session.add(AssessmentStandard(assessment_id=assessment.id, competency_id=competency_id))
        db.session.commit()
        flash(f"“{assessment.title}” is ready: enter scores below.", "success")
        return redirect(url_for("gradebook.entry", assessment_id=assessment.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("gradebook/assessment_form.html", form=form, assessment=None), status


def _apply_assessment_edit(assessment: Assessment, form: AssessmentForm, current: set[int], chosen: set[int],
                           recompute: bool) -> int:
    """Write an assessment's edit; its evidence follows a new date (with revisions). Returns pieces moved."""
    assessment.title = form.title.data.strip()
    kind_changed = assessment.kind != form.kind.data
    assessment.kind = form.kind.data
    moved = evidence_service.move_assessment_date(db.session, current_user, assessment, form.assessed_on.data)
    counts_changed = assessment.counts != bool(form.counts.data)
    assessment.counts = bool(form.counts.data)
    assessment.description = form.description.data or ""
    for cid in current - chosen:
        db.session.delete(db.session.get(AssessmentStandard, (assessment.id, cid)))
    for cid in chosen - current:
        db.session.add(AssessmentStandard(assessment_id=assessment.id, competency_id=cid))
    db.session.flush()
    if recompute and (moved or counts_changed or kind_changed):  # dates, counting and kind weights move levels
        proficiency.recompute(db.session, [_section().id])
    return moved


@bp.route("/sections/<int:section_id>/assessments/<int:assessment_id>/edit", methods=["GET", "POST"])
@roles_required(*TEACHING)
def edit_assessment(assessment_id: int) -> Any:
    assessment = _assessment_or_404(assessment_id)
    form = _assessment_form(assessment)
    if form.validate_on_submit():
        if request.form.get("version", type=int) not in (None, assessment.version):
            form.title.errors.append("Someone else changed this assessment since you opened it. Reload to see it.")
        else:
            current = {s.id for s in read.assessment_standards(db.session, assessment.id)}
            chosen = set(form.standards.data)
            in_use = {cid for (cid,) in db.session.execute(
                select(Evidence.competency_id).where(Evidence.assessment_id == assessment.id,
                                                     Evidence.deleted_at.is_(None)).distinct())}
            if (current - chosen) & in_use:
                form.standards.errors.append("A standard that already has evidence on this assessment cannot be "
                                             "removed; remove its evidence first.")
            else:
                try:
                    moved = _apply_assessment_edit(assessment, form, current, chosen, recompute=bool(in_use))
                except ServiceError as exc:
                    db.session.rollback()
                    form.assessed_on.errors.append(str(exc))
                else:
                    db.session.commit()
                    flash("Assessment saved." + (f" {moved} piece{'s' if moved != 1 else ''} of its evidence moved "
                                                 "to the new date." if moved else ""), "success")
                    return redirect(url_for("gradebook.entry", assessment_id=assessment.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("gradebook/assessment_form.html", form=form, assessment=assessment), status


# ------------------------------------------------------------------ entry as fast as a spreadsheet

def _cell_context(sheet: read.EntrySheet, student: User, standard: Competency) -> dict[str, Any]:
    return {"sheet": sheet, "student": student, "standard": standard}


@bp.route("/sections/<int:section_id>/assessments/<int:assessment_id>", methods=["GET", "POST"])
@roles_required(*TEACHING)
def entry(assessment_id: int) -> Any:
    """The entry sheet. POST (without JavaScript) saves every changed cell at once."""
    assessment = _assessment_or_404(assessment_id)
    errors: dict[tuple[int, int], str] = {}
    typed: dict[tuple[int, int], str] = {}
    if request.method == "POST":
        sheet = read.load_entry_sheet(db.session, _section(), assessment)
        saved = 0
        for student in sheet.students:
            for standard in sheet.standards:
                key = (student.id, standard.id)
                name = f"cell-{student.id}-{standard.id}"
                if name not in request.form:
                    continue
                text = request.form.get(name, "")
                existing = sheet.evidence.get(key)
                if text.strip() == _display_value(existing):
                    continue
                try:
                    with db.session.begin_nested():
                        saved += _save_cell(assessment, student.id, standard.id, text,
                                            request.form.get(f"v-{student.id}-{standard.id}", type=int))
                except ServiceError as error:
                    errors[key] = error.message
                    typed[key] = text
        db.session.commit()
        if not errors:
            flash(f"Saved {saved} {'score' if saved == 1 else 'scores'}.", "success")
            return redirect(url_for("gradebook.entry", assessment_id=assessment.id), 303)
        flash(f"Saved {saved}; {len(errors)} could not be saved: see the cells marked in red.", "error")
    sheet = read.load_entry_sheet(db.session, _section(), assessment)
    comments = {
        student.id: next((sheet.evidence[(student.id, s.id)].feedback for s in sheet.standards
                          if (student.id, s.id) in sheet.evidence and sheet.evidence[(student.id, s.id)].feedback), "")
        for student in sheet.students
    }
    from gradebook.services.comments import bank_for

    standard_ids = [s.id for s in sheet.standards]
    suggestions = bank_for(db.session, current_user, standard_ids)
    next_steps = [
        f"Next step: {text}" for text in read.next_steps_for(db.session, standard_ids, sheet.scale)
    ]
    status = 422 if errors else 200
    return render_template("gradebook/entry.html", sheet=sheet, errors=errors, typed=typed, kinds=KIND_LABELS,
                           comments=comments, suggestions=suggestions, next_steps=next_steps), status


def _display_value(evidence: Evidence | None) -> str:
    if evidence is None:
        return ""
    if evidence.status == "scored":
        return f"{evidence.score:g}"
    return evidence_service.STATUS_LETTER[evidence.status]


def _save_cell(assessment: Assessment, student_id: int, competency_id: int, text: str,
               expected_version: int | None) -> int:
    """Save what was typed in one cell; an emptied cell removes the evidence (undoably). Returns 1 if written."""
    value = evidence_service.parse_cell(text, _section(), db.session)
    existing = evidence_service.live_cell(db.session, student_id, assessment.id, competency_id)
    if value is None:
        if existing is None:
            return 0
        evidence_service.remove_evidence(db.session, current_user, existing, expected_version)
        return 1
    evidence_service.record_evidence(
        db.session, current_user, section=_section(), student_id=student_id, competency_id=competency_id,
        value=value, observed_on=assessment.assessed_on if assessment.assessed_on <= date.today() else date.today(),
        assessment=assessment, expected_version=expected_version)
    return 1


@bp.route("/sections/<int:section_id>/assessments/<int:assessment_id>/cells/<int:student_id>/<int:competency_id>",
          methods=["GET", "POST"])
@roles_required(*TEACHING)
def save_cell(assessment_id: int, student_id: int, competency_id: int) -> Any:
    """Save one cell (htmx): returns the cell, plus the student's proficiency badge out of band.

    GET returns the cell as saved now (after a conflict, "keep theirs").
    """
    assessment = _assessment_or_404(assessment_id)
    student = _enrolled_student_or_404(student_id)
    standard = _standard_or_404(competency_id)
    if request.method == "GET":
        sheet = read.load_entry_sheet(db.session, _section(), assessment, student)
        return render_template("gradebook/_entry_cell.html", sheet=sheet, student=student, standard=standard,
                               error=None, typed=None, conflict=None, state="", oob=False)
    text = request.form.get(f"cell-{student_id}-{competency_id}", request.form.get("value", ""))
    expected = request.form.get(f"v-{student_id}-{competency_id}", type=int)
    error, conflict, body = None, None, ""
    try:
        _save_cell(assessment, student_id, competency_id, text, expected)
        if is_fragment_request():
            # Rendered inside the transaction (everything is flushed), so the commit does not make every
            # loaded object stale and the response needs no second round of queries.
            sheet = read.load_entry_sheet(db.session, _section(), assessment, student)
            body = render_template("gradebook/_entry_cell.html", sheet=sheet, student=student, standard=standard,
                                   error=None, typed=None, conflict=None, state="saved", oob=False) + \
                render_template("gradebook/_level_badge.html", cell=sheet.cell(student.id, standard.id),
                                badge_id=f"prof-{student.id}-{standard.id}", oob=True)
        db.session.commit()
    except StaleWrite as stale:
        db.session.rollback()
        error, conflict = stale.message, stale.current
    except ServiceError as failure:
        db.session.rollback()
        error = failure.message
    if not is_fragment_request():
        if error:
            flash(error, "error")
        return redirect(url_for("gradebook.entry", assessment_id=assessment.id), 303)
    if error:
        sheet = read.load_entry_sheet(db.session, _section(), assessment, student)
        body = render_template("gradebook/_entry_cell.html", sheet=sheet, student=student, standard=standard,
                               error=error, typed=text, conflict=conflict, state="error", oob=False)
    return Response(body, status=409 if conflict else 422 if error else 200)


@bp.post("/sections/<int:section_id>/assessments/<int:assessment_id>/fill")
@roles_required(*TEACHING)
def fill_column(assessment_id: int) -> Any:
    """Fill the empty cells of one standard's column with a value, as a bulk start."""
    assessment = _assessment_or_404(assessment_id)
    text = request.form.get("value", "")
    try:
        standard = db.session.get(Competency, request.form.get("competency_id", type=int) or 0)
        if standard is None or standard.id not in {s.id for s in read.assessment_standards(db.session, assessment.id)}:
            raise ServiceError("Choose one of this assessment's standards.")
        if text.strip() == "":
            raise ServiceError("Type the value to fill the column with.")
        sheet = read.load_entry_sheet(db.session, _section(), assessment)
        filled = 0
        for student in sheet.students:
            if (student.id, standard.id) not in sheet.evidence:
                filled += _save_cell(assessment, student.id, standard.id, text, 0)
        db.session.commit()
        flash(f"Filled {filled} empty cells of {standard.code} with {text.strip().upper()}.", "success")
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("gradebook.entry", assessment_id=assessment.id), 303)


@bp.post("/sections/<int:section_id>/assessments/<int:assessment_id>/feedback/<int:student_id>")
@roles_required(*TEACHING)
def assessment_feedback(assessment_id: int, student_id: int) -> Any:
    """One comment for a student on an assessment: it goes on each piece of their evidence there."""
    assessment = _assessment_or_404(assessment_id)
    student = _enrolled_student_or_404(student_id)
    text = request.form.get(f"feedback-{student.id}", request.form.get("feedback", ""))
    pieces = list(db.session.scalars(select(Evidence).where(
        Evidence.assessment_id == assessment.id, Evidence.student_id == student.id, Evidence.deleted_at.is_(None))))
    error = None
    try:
        if not pieces:
            raise ServiceError("Enter a score or state first; the comment goes with that evidence.")
        for piece in pieces:
            evidence_service.set_feedback(db.session, current_user, piece, text)
        from gradebook.services.comments import remember_comment

        remember_comment(db.session, current_user, [p.competency_id for p in pieces], text)
        db.session.commit()
    except ServiceError as failure:
        db.session.rollback()
        error = failure.message
    if is_fragment_request():
        return render_template("gradebook/_feedback_status.html", error=error, student=student,
                               saved=error is None), 422 if error else 200
    flash(error or f"Feedback saved for {student.name}.", "error" if error else "success")
    return redirect(url_for("gradebook.entry", assessment_id=assessment.id), 303)


# ------------------------------------------------------------------ cell detail

def _detail(student: User, standard: Competency, form: ObservationForm | None = None,
            override_form: OverrideForm | None = None, message: str | None = None) -> dict[str, Any]:
    section = _section()
    scale = scale_for(db.session, section)
    rows = db.session.execute(
        select(Evidence, Assessment, User)
        .outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .join(User, User.id == Evidence.recorded_by_id)
        .where(Evidence.section_id == section.id, Evidence.student_id == student.id,
               Evidence.competency_id == standard.id)
        .order_by(Evidence.observed_on.desc(), Evidence.recorded_at.desc())).all()
    from gradebook.services import explain

    explanation = explain.for_standard(db.session, section, student.id, standard.id)
    override = db.session.scalar(select(Override).where(
        Override.section_id == section.id, Override.student_id == student.id, Override.competency_id == standard.id,
        Override.cleared_at.is_(None)))
    revisions = db.session.scalars(select(EvidenceRevision).where(
        EvidenceRevision.evidence_id.in_([e.id for e, _a, _u in rows])).order_by(EvidenceRevision.changed_at)).all()
    requests = read.open_requests_for(db.session, section.id, student.id, standard.id)
    if form is None:
        form = ObservationForm(formdata=None)
        form.observed_on.data = date.today()
        form.is_reassessment.data = bool(requests)  # the student asked: what the teacher adds is the reassessment
    if override_form is None:
        override_form = OverrideForm(formdata=None)
    override_form.level.choices = [("", "— use the computed level —")] + [
        (f"{lv.points:g}", f"{lv.points:g} {lv.label}") for lv in sorted(scale.levels, key=lambda lv: -lv.points)]
    if override is not None and not override_form.level.data:
        override_form.level.data = f"{override.level_points:g}"
        override_form.reason.data = override.reason
    from gradebook.models import Artifact

    artifacts: dict[int, list[Artifact]] = {}
    for artifact in db.session.scalars(select(Artifact).where(
            Artifact.evidence_id.in_([e.id for e, _a, _u in rows]), Artifact.deleted_at.is_(None))):
        artifacts.setdefault(artifact.evidence_id, []).append(artifact)  # type: ignore[arg-type]
    return {"student": student, "standard": standard, "rows": rows, "explanation": explanation,
            "artifacts": artifacts,
            "override": override, "form": form, "override_form": override_form, "scale": scale,
            "revision_count": len(revisions), "message": message, "requests": requests,
            "next_step": read.next_step(db.session, standard.id, explanation.level if explanation else None, scale)}


@bp.get("/sections/<int:section_id>/students/<int:student_id>/standards/<int:competency_id>")
@roles_required(*TEACHING)
def cell_detail(student_id: int, competency_id: int) -> Any:
    student = _enrolled_student_or_404(student_id)
    standard = _standard_or_404(competency_id)
    return render_page_or_fragment("gradebook/cell_detail.html", "gradebook/_cell_detail.html",
                                   **_detail(student, standard))


def _after_detail_change(student: User, standard: Competency, message: str) -> Any:
    if is_fragment_request():
        response = Response(render_template("gradebook/_cell_detail.html", **_detail(student, standard,
                                                                                     message=message)))
        response.headers["HX-Trigger"] = "proficiencyChanged"
        return response
    flash(message, "success")
    return redirect(url_for("gradebook.cell_detail", student_id=student.id, competency_id=standard.id), 303)


@bp.post("/sections/<int:section_id>/students/<int:student_id>/standards/<int:competency_id>/observations")
@roles_required(*TEACHING)
def add_observation(student_id: int, competency_id: int) -> Any:
    student = _enrolled_student_or_404(student_id)
    standard = _standard_or_404(competency_id)
    form = ObservationForm()
    if form.validate_on_submit():
        try:
            value = evidence_service.parse_cell(form.value.data, _section(), db.session)
            if value is None:
                raise ServiceError("Type a score, or M, E or N.", "value")
            evidence_service.record_evidence(
                db.session, current_user, section=_section(), student_id=student.id, competency_id=standard.id,
                value=value, observed_on=form.observed_on.data, feedback=form.feedback.data or "",
                is_reassessment=bool(form.is_reassessment.data))
            if form.is_reassessment.data:
                _close_requests(student.id, standard.id)
            db.session.commit()
            return _after_detail_change(student, standard, "Evidence added.")
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if error.field in ("value", "observed_on", "feedback") else "value"
                    ).errors.append(error.message)
    return render_page_or_fragment("gradebook/cell_detail.html", "gradebook/_cell_detail.html", status=422,
                                   **_detail(student, standard, form=form))


def _close_requests(student_id: int, competency_id: int) -> None:
    from gradebook.models import utcnow

    for req in read.open_requests_for(db.session, _section().id, student_id, competency_id):
        req.status, req.resolved_at, req.resolved_by_id = "done", utcnow(), current_user.id


def _evidence_or_404(evidence_id: int) -> Evidence:
    evidence = db.session.get(Evidence, evidence_id)
    authz.require(evidence is not None and evidence.section_id == _section().id)
    return evidence  # type: ignore[return-value]


@bp.post("/sections/<int:section_id>/evidence/<int:evidence_id>/edit")
@roles_required(*TEACHING)
def edit_evidence(evidence_id: int) -> Any:
    evidence = _evidence_or_404(evidence_id)
    student = db.session.get(User, evidence.student_id)
    standard = db.session.get(Competency, evidence.competency_id)
    assessment = db.session.get(Assessment, evidence.assessment_id) if evidence.assessment_id else None
    try:
        value = evidence_service.parse_cell(request.form.get("value", ""), _section(), db.session)
        if value is None:
            raise ServiceError("Type a score, or M, E or N. To remove the evidence, use Remove.")
        try:
            observed_on = date.fromisoformat(request.form.get("observed_on", ""))
        except ValueError:
            raise ServiceError("Give a valid date.", "observed_on") from None
        evidence_service.record_evidence(
            db.session, current_user, section=_section(), student_id=evidence.student_id,
            competency_id=evidence.competency_id, value=value, observed_on=observed_on, assessment=assessment,
            feedback=request.form.get("feedback"), evidence_id=evidence.id,
            expected_version=request.form.get("version", type=int))
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        return _detail_error(student, standard, error.message)
    return _after_detail_change(student, standard, "Evidence updated; the earlier value is kept in its history.")


def _detail_error(student: User | None, standard: Competency | None, message: str) -> Any:
    if student is None or standard is None:
        abort(404)
    if is_fragment_request():
        return render_template("gradebook/_cell_detail.html", **_detail(student, standard, message=message)), 422
    flash(message, "error")
    return redirect(url_for("gradebook.cell_detail", student_id=student.id, competency_id=standard.id), 303)


@bp.post("/sections/<int:section_id>/evidence/<int:evidence_id>/artifacts")
@roles_required(*TEACHING)
def attach_artifact(evidence_id: int) -> Any:
    """Attach a file (photo of work, PDF, audio) to a piece of evidence."""
    from flask import current_app

    from gradebook.services.artifacts import Upload, store_upload

    evidence = _evidence_or_404(evidence_id)
    student = db.session.get(User, evidence.student_id)
    standard = db.session.get(Competency, evidence.competency_id)
    file = request.files.get("file")
    try:
        if file is None:
            raise ServiceError("Choose a file to upload.")
        store_upload(db.session, Upload(file.filename or "", file.stream), folder=current_app.config["UPLOAD_FOLDER"],
                     owner_student_id=evidence.student_id, uploaded_by=current_user, evidence_id=evidence.id)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        return _detail_error(student, standard, error.message)
    return _after_detail_change(student, standard, "File attached.")


@bp.post("/sections/<int:section_id>/evidence/<int:evidence_id>/remove")
@roles_required(*TEACHING)
def remove_evidence(evidence_id: int) -> Any:
    evidence = _evidence_or_404(evidence_id)
    student = db.session.get(User, evidence.student_id)
    standard = db.session.get(Competency, evidence.competency_id)
    try:
        evidence_service.remove_evidence(db.session, current_user, evidence, request.form.get("version", type=int))
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        return _detail_error(student, standard, error.message)
    return _after_detail_change(student, standard, "Evidence removed. You can restore it from the history below.")


@bp.post("/sections/<int:section_id>/evidence/<int:evidence_id>/restore")
@roles_required(*TEACHING)
def restore_evidence(evidence_id: int) -> Any:
    evidence = _evidence_or_404(evidence_id)
    student = db.session.get(User, evidence.student_id)
    standard = db.session.get(Competency, evidence.competency_id)
    try:
        evidence_service.restore_evidence(db.session, current_user, evidence)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        return _detail_error(student, standard, error.message)
    return _after_detail_change(student, standard, "Evidence restored.")


@bp.post("/sections/<int:section_id>/students/<int:student_id>/standards/<int:competency_id>/override")
@roles_required(*TEACHING)
def override(student_id: int, competency_id: int) -> Any:
    student = _enrolled_student_or_404(student_id)
    standard = _standard_or_404(competency_id)
    form = OverrideForm()
    scale = scale_for(db.session, _section())
    form.level.choices = [("", "")] + [(f"{lv.points:g}", lv.label) for lv in scale.levels]
    if form.validate_on_submit():
        try:
            points = float(form.level.data) if form.level.data else None
            evidence_service.set_override(db.session, current_user, section=_section(), student_id=student.id,
                                          competency_id=standard.id, level_points=points,
                                          reason=form.reason.data or "")
            db.session.commit()
            return _after_detail_change(student, standard, "Your judgement is saved and labelled as such."
                                        if points is not None else "Back to the computed level.")
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if error.field in ("level", "reason") else "reason").errors.append(error.message)
    return render_page_or_fragment("gradebook/cell_detail.html", "gradebook/_cell_detail.html", status=422,
                                   **_detail(student, standard, override_form=form))


# ------------------------------------------------------------------ reteach groups and reassessment

@bp.get("/sections/<int:section_id>/reteach")
@roles_required(*TEACHING)
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
