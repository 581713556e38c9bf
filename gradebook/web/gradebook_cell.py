"""The gradebook's cell detail: one student on one standard (history, explanation, add, edit,
remove and restore evidence, artifacts, the teacher's override). Routes join the gradebook blueprint."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gradebook import authz
from gradebook.authz import discloses, evidence_student, roles_required
from gradebook.extensions import db
from gradebook.models import (
    Assessment,
    Competency,
    Evidence,
    EvidenceRevision,
    Override,
    User,
)
from gradebook.services import ServiceError, StaleWrite
from gradebook.services import evidence as evidence_service
from gradebook.services import gradebook as read
from gradebook.services.comments import bank_for
from gradebook.services.proficiency import scale_for
from gradebook.web import is_fragment_request, render_page_or_fragment
from gradebook.web.forms import ObservationForm, OverrideForm
from gradebook.web.gradebook import (
    TEACHING,
    _enrolled_student_or_404,
    _section,
    _standard_or_404,
    bp,
)

# ------------------------------------------------------------------ cell detail

@dataclass(frozen=True)
class RefusedEdit:
    """An edit of one piece of evidence that was refused: what the teacher typed (kept in the form), why, and
    after a conflict what the other person saved (`theirs`). `version` is what the form sends next: the one
    this teacher has now seen (theirs after a conflict, else the one the form was opened with)."""

    evidence_id: int
    value: str
    observed_on: str
    feedback: str | None
    version: int | None
    error: str
    theirs: Evidence | None = None


def _detail(student: User, standard: Competency, form: ObservationForm | None = None,
            override_form: OverrideForm | None = None, message: str | None = None,
            editing: RefusedEdit | None = None) -> dict[str, Any]:
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
            "revision_count": len(revisions), "message": message, "requests": requests, "editing": editing,
            "next_step": read.next_step(db.session, standard.id, explanation.level if explanation else None, scale),
            "bank": bank_for(db.session, current_user, [standard.id])}


@bp.get("/sections/<int:section_id>/students/<int:student_id>/standards/<int:competency_id>")
@roles_required(*TEACHING)
@discloses("cell_detail")
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
@discloses("cell_detail")
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
@discloses("cell_detail", students=evidence_student)
def edit_evidence(evidence_id: int) -> Any:
    """Edit one piece of evidence. A refused edit keeps everything typed: after a conflict (someone saved this
    piece since the form was opened) both values are shown with the choice "Use mine" / "Keep theirs", as on
    the entry sheet (409); bad input gets its message (422)."""
    evidence = _evidence_or_404(evidence_id)
    student = db.session.get(User, evidence.student_id)
    standard = db.session.get(Competency, evidence.competency_id)
    if student is None or standard is None:
        abort(404)
    assessment = db.session.get(Assessment, evidence.assessment_id) if evidence.assessment_id else None
    typed = RefusedEdit(evidence_id=evidence.id, value=request.form.get("value", ""),
                        observed_on=request.form.get("observed_on", ""), feedback=request.form.get("feedback"),
                        version=request.form.get("version", type=int), error="")
    try:
        value = evidence_service.parse_cell(typed.value, _section(), db.session)
        if value is None:
            raise ServiceError("Type a score, or M, E or N. To remove the evidence, use Remove.")
        try:
            observed_on = date.fromisoformat(typed.observed_on)
        except ValueError:
            raise ServiceError("Give a valid date.", "observed_on") from None
        evidence_service.record_evidence(
            db.session, current_user, section=_section(), student_id=evidence.student_id,
            competency_id=evidence.competency_id, value=value, observed_on=observed_on, assessment=assessment,
            feedback=typed.feedback, evidence_id=evidence.id, expected_version=typed.version)
        db.session.commit()
    except StaleWrite as stale:
        db.session.rollback()  # `evidence` now reads what the other person saved
        theirs = stale.current if isinstance(stale.current, Evidence) else evidence
        return _edit_refused(student, standard, replace(typed, error=stale.message, theirs=theirs,
                                                        version=theirs.version), 409)
    except ServiceError as error:
        db.session.rollback()
        return _edit_refused(student, standard, replace(typed, error=error.message), 422)
    return _after_detail_change(student, standard, "Evidence updated; the earlier value is kept in its history.")


def _edit_refused(student: User, standard: Competency, refused: RefusedEdit, status: int) -> Any:
    """The cell detail (panel or page) with the refused edit's form open, holding what was typed."""
    return render_page_or_fragment("gradebook/cell_detail.html", "gradebook/_cell_detail.html", status=status,
                                   **_detail(student, standard, editing=refused))


def _detail_error(student: User | None, standard: Competency | None, message: str) -> Any:
    if student is None or standard is None:
        abort(404)
    if is_fragment_request():
        return render_template("gradebook/_cell_detail.html", **_detail(student, standard, message=message)), 422
    flash(message, "error")
    return redirect(url_for("gradebook.cell_detail", student_id=student.id, competency_id=standard.id), 303)


@bp.post("/sections/<int:section_id>/evidence/<int:evidence_id>/artifacts")
@roles_required(*TEACHING)
@discloses("cell_detail", students=evidence_student)
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
@discloses("cell_detail", students=evidence_student)
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
@discloses("cell_detail", students=evidence_student)
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
@discloses("cell_detail")
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
