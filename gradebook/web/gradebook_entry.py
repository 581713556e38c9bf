"""The gradebook's entry screen: assessments, and keyboard entry of evidence for one assessment
(cells saved over htmx, a column filled at once, feedback per student). Routes join the gradebook blueprint."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from gradebook import authz
from gradebook.authz import discloses, discloses_none, roles_required, section_roster
from gradebook.extensions import db
from gradebook.models import (
    Assessment,
    AssessmentStandard,
    Competency,
    Evidence,
    User,
)
from gradebook.proficiency import format_score
from gradebook.services import ServiceError, StaleWrite, proficiency
from gradebook.services import evidence as evidence_service
from gradebook.services import gradebook as read
from gradebook.web import is_fragment_request
from gradebook.web.forms import KIND_LABELS, AssessmentForm
from gradebook.web.gradebook import (
    TEACHING,
    _assessment_or_404,
    _enrolled_student_or_404,
    _section,
    _standard_or_404,
    bp,
)
from gradebook.web.gradebook_habits import habit_display, save_habit_text

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
@discloses_none("the section's assessments with counts")
def assessments() -> str:
    rows = db.session.execute(
        select(Assessment, func.count(Evidence.id))
        .outerjoin(Evidence, (Evidence.assessment_id == Assessment.id) & Evidence.deleted_at.is_(None))
        .where(Assessment.section_id == _section().id, Assessment.deleted_at.is_(None))
        .group_by(Assessment.id).order_by(Assessment.assessed_on.desc(), Assessment.id.desc())).all()
    return render_template("gradebook/assessments.html", rows=rows, kinds=KIND_LABELS)


@bp.route("/sections/<int:section_id>/assessments/new", methods=["GET", "POST"])
@roles_required(*TEACHING)
@discloses_none("the assessment form")
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
@discloses_none("the assessment form")
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
@discloses("entry_sheet", students=section_roster)
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
                typed[key] = text
                try:
                    with db.session.begin_nested():
                        saved += _save_cell(assessment, student.id, standard.id, text,
                                            request.form.get(f"v-{student.id}-{standard.id}", type=int))
                except ServiceError as error:
                    errors[key] = error.message
            for habit in sheet.habits:
                hkey = ("h", student.id, habit.id)
                name = f"habit-{student.id}-{habit.id}"
                if name not in request.form:
                    continue
                text = request.form.get(name, "")
                if text.strip() == habit_display(sheet.habit_evidence.get((student.id, habit.id))):
                    continue
                typed[hkey] = text  # type: ignore[index]
                try:
                    with db.session.begin_nested():
                        saved += save_habit_text(assessment, student.id, habit.id, text,
                                                 request.form.get(f"hv-{student.id}-{habit.id}", type=int))
                except ServiceError as error:
                    errors[hkey] = error.message  # type: ignore[index]
        if not errors:
            db.session.commit()
            flash(f"Saved {saved} {'score' if saved == 1 else 'scores'}.", "success")
            return redirect(url_for("gradebook.entry", assessment_id=assessment.id), 303)
        # All or nothing: a sheet with a bad cell saves none (never a partial write); every cell keeps what was typed.
        db.session.rollback()
        flash(f"Nothing was saved: {len(errors)} {'cell needs' if len(errors) == 1 else 'cells need'} a fix (marked "
              "in red). Everything you typed is still here; save again when it is fixed.", "error")
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
        return format_score(evidence.score)  # what _entry_cell.html shows in the input
    return evidence_service.STATUS_LETTER[evidence.status]


def _already_saved(current: Evidence | None, text: str) -> bool:
    """The cell as stored now already holds what was typed (a retry after a lost answer, or two people
    typing the same value): not a conflict."""
    if current is None or current.deleted_at is not None:
        return text.strip() == ""
    try:
        typed = evidence_service.parse_cell(text, _section(), db.session)
    except ServiceError:
        return False
    return typed is not None and (typed.status, typed.score) == (current.status, current.score)


def _save_cell(assessment: Assessment, student_id: int, competency_id: int, text: str,
               expected_version: int | None, cell: evidence_service.CellContext | None = None) -> int:
    """Save what was typed in one cell; an emptied cell removes the evidence (undoably). Returns 1 if written."""
    value = evidence_service.parse_cell(text, _section(), db.session)
    existing = cell.live_cell if cell is not None else \
        evidence_service.live_cell(db.session, student_id, assessment.id, competency_id)
    if value is None:
        if existing is None:
            return 0
        evidence_service.remove_evidence(db.session, current_user, existing, expected_version)
        return 1
    evidence_service.record_evidence(
        db.session, current_user, section=_section(), student_id=student_id, competency_id=competency_id,
        value=value, observed_on=assessment.assessed_on if assessment.assessed_on <= date.today() else date.today(),
        assessment=assessment, expected_version=expected_version, cell=cell)
    return 1


def _saved_cell_sheet(cell: evidence_service.CellContext) -> read.EntrySheet:
    """The one-cell sheet the saved cell's fragment shows, from what the save read and computed (no query)."""
    scale = proficiency.scale_for(db.session, _section())
    key = (cell.student.id, cell.standard.id)
    live = cell.live_cell
    computed = cell.computed.get(cell.standard.id)
    if computed is None and cell.standard.id in cell.records:  # nothing changed: the cache as it was read
        _id, score, points, count, needed, method, trend, last = cell.records[cell.standard.id]
        computed = proficiency.Computed(score, points, count, needed, method, trend, last)
    level = scale.level_for(computed.score) if computed is not None and computed.score is not None else None
    shown = read.Cell(score=computed.score if computed else None, level=level, computed_level=level,
                      count=computed.evidence_count if computed else 0, needed=computed.needed if computed else 0,
                      trend=computed.trend if computed else None, _mastery=scale.mastery.points,
                      missing=sum(1 for e in cell.evidence if e.status == "missing" and e.deleted_at is None))
    if cell.standard.id in cell.overrides:
        shown.override = True  # type: ignore[assignment]  # the template asks only whether there is one
        shown.level = scale.level_with_points(cell.overrides[cell.standard.id])
    return read.EntrySheet(_section(), cell.assessment, scale, [cell.student], [cell.standard],
                           {key: live} if live is not None else {}, {key: shown})


@bp.route("/sections/<int:section_id>/assessments/<int:assessment_id>/cells/<int:student_id>/<int:competency_id>",
          methods=["GET", "POST"])
@roles_required(*TEACHING)
@discloses("entry_cell")
def save_cell(assessment_id: int, student_id: int, competency_id: int) -> Any:
    """Save one cell (htmx): returns the cell, plus the student's proficiency badge out of band.

    GET returns the cell as saved now (after a conflict, "keep theirs").
    """
    cell = None
    if request.method == "POST":  # scope, lock and everything the save reads, in one go
        cell = evidence_service.load_cell(db.session, current_user, _section(), assessment_id, student_id,
                                          competency_id)
    if cell is not None:
        assessment, student, standard = cell.assessment, cell.student, cell.standard
    else:  # a GET, or a cell out of scope: the checks below answer 404, or the save says why not
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
        try:
            _save_cell(assessment, student_id, competency_id, text, expected, cell)
        except StaleWrite as stale:
            db.session.rollback()  # `stale.current` now reads what is stored, not what this request set
            cell = None  # what it read is gone with the rollback
            if not _already_saved(stale.current, text):
                raise
            # e.g. a retry of a save whose answer was lost: it is saved, there is nothing to choose
        if is_fragment_request():
            # Rendered inside the transaction (everything is flushed), so the commit does not make every
            # loaded object stale and the response needs no second round of queries.
            if cell is not None and (cell.computed or cell.standard.id in cell.records):
                sheet = _saved_cell_sheet(cell)
            else:  # nothing was written (the same value again, a removal, a retry): read the cell as stored
                sheet = read.load_entry_sheet(db.session, _section(), assessment, student)
            body = render_template("gradebook/_saved_cell.html", sheet=sheet, student=student, standard=standard,
                                   error=None, typed=None, conflict=None, state="saved", oob=False)
            authz.audit_before_commit(200)  # the cell shown goes out with the save: one transaction, one commit
        db.session.commit()
    except StaleWrite as stale:
        db.session.rollback()
        authz.forget_audit_before_commit()
        error, conflict = stale.message, stale.current
    except ServiceError as failure:
        db.session.rollback()
        authz.forget_audit_before_commit()
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


save_cell.locks_student = "student_id"  # type: ignore[attr-defined]  # its POST: the lock with the section


@bp.post("/sections/<int:section_id>/assessments/<int:assessment_id>/fill")
@roles_required(*TEACHING)
@discloses_none("fills empty cells and redirects to the sheet")
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
        flash(ngettext("Filled %(num)d empty cell of %(code)s with %(value)s.",
                       "Filled %(num)d empty cells of %(code)s with %(value)s.", filled,
                       code=standard.code, value=text.strip().upper()), "success")
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("gradebook.entry", assessment_id=assessment.id), 303)


@bp.post("/sections/<int:section_id>/assessments/<int:assessment_id>/feedback/<int:student_id>")
@roles_required(*TEACHING)
@discloses_none("answers saved, or why not")
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
from gradebook.web import comment_bank  # noqa: E402,F401  (its route joins the gradebook blueprint)
