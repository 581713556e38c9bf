"""Habits of work in the gradebook: the habits a section tracks, a habit's panel beside the grid (its level,
its observations, add one), and a habit cell on an assessment's entry sheet. Routes join the gradebook
blueprint (the section is loaded and authorised once there)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gradebook import authz
from gradebook.authz import discloses, discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import Assessment, HabitEvidence, User
from gradebook.services import ServiceError, StaleWrite
from gradebook.services import gradebook as read
from gradebook.services import habits as habit_service
from gradebook.web import is_fragment_request, render_page_or_fragment
from gradebook.web.forms import HabitObservationForm, id_number
from gradebook.web.gradebook import TEACHING, _section, bp

DEFAULT_HABITS = (("HW.1", "Responsibility"), ("HW.2", "Persistence"), ("HW.3", "Collaboration"),
                  ("HW.4", "Self-direction"))


# ------------------------------------------------------------------ which habits a section tracks

@bp.route("/sections/<int:section_id>/habits", methods=["GET", "POST"])
@roles_required(*TEACHING)
@discloses_none("the habits of work a section tracks")
def section_habits() -> Any:
    section = _section()
    error = None
    if request.method == "POST":
        try:
            if request.form.get("start") == "1":
                if habit_service.habit_choices(db.session):
                    raise ServiceError("The school already has a habits framework: choose its habits below.")
                habit_service.create_habit_framework(db.session, "Habits of work", DEFAULT_HABITS)
                db.session.commit()
                flash("A habits framework was made: choose the habits this section tracks.", "success")
                return redirect(url_for("gradebook.section_habits"), 303)
            if request.form.get("choose") != "1":  # the form says it is a choice: no box ticked is then "none"
                raise ServiceError("Tick the habits this section tracks, then save.", "habits")
            try:
                chosen = [id_number(v) for v in request.form.getlist("habits")]
            except ValueError:
                raise ServiceError("Choose habits from the list.", "habits") from None
            habit_service.set_section_habits(db.session, current_user, section, chosen)
            db.session.commit()
            flash(f"This section now tracks {len(set(chosen))} habit{'s' if len(set(chosen)) != 1 else ''} of work. "
                  "They never count toward a level or a grade.", "success")
            return redirect(url_for("gradebook.section_habits"), 303)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    tracked = {c.id for c in habit_service.section_habits(db.session, section.id)}
    return render_template("gradebook/habits.html", choices=habit_service.habit_choices(db.session),
                           tracked=tracked, error=error), 422 if error else 200


# ------------------------------------------------------------------ a habit's panel beside the grid

def _habit_or_404(student_id: int, habit_id: int, assessment_id: int | None = None) -> habit_service.HabitScope:
    scope = habit_service.load_habit_scope(db.session, current_user, _section(), student_id, habit_id, assessment_id)
    authz.require(scope is not None)
    return scope  # type: ignore[return-value]


def _habit_detail(scope: habit_service.HabitScope, form: HabitObservationForm | None = None,
                  message: str | None = None) -> dict[str, Any]:
    rows = db.session.execute(
        select(HabitEvidence, Assessment, User)
        .outerjoin(Assessment, Assessment.id == HabitEvidence.assessment_id)
        .join(User, User.id == HabitEvidence.recorded_by_id)
        .where(HabitEvidence.section_id == _section().id, HabitEvidence.student_id == scope.student.id,
               HabitEvidence.competency_id == scope.column.id)
        .order_by(HabitEvidence.observed_on.desc(), HabitEvidence.id.desc())).all()
    if form is None:
        form = HabitObservationForm(formdata=None)
        form.observed_on.data = date.today()
    form.value.choices = _value_choices(scope.column)
    return {"scope": scope, "student": scope.student, "habit": scope.column.competency, "column": scope.column,
            "cell": scope.cell(), "rows": rows, "form": form, "message": message}


def _value_choices(column: habit_service.HabitColumn) -> list[tuple[str, str]]:
    levels = [(f"{lv.points:g}", f"{lv.points:g} {lv.label}") for lv in reversed(column.scale.levels)]
    return [("", "— choose —"), *levels, ("M", "M missing work"), ("L", "L late work"), ("E", "E excused")]


@bp.get("/sections/<int:section_id>/students/<int:student_id>/habits/<int:habit_id>")
@roles_required(*TEACHING)
@discloses("habit_detail")
def habit_detail(student_id: int, habit_id: int) -> Any:
    scope = _habit_or_404(student_id, habit_id)
    return render_page_or_fragment("gradebook/habit_detail.html", "gradebook/_habit_detail.html",
                                   **_habit_detail(scope))


@bp.post("/sections/<int:section_id>/students/<int:student_id>/habits/<int:habit_id>")
@roles_required(*TEACHING)
@discloses("habit_detail")
def add_habit_observation(student_id: int, habit_id: int) -> Any:
    scope = _habit_or_404(student_id, habit_id)
    form = HabitObservationForm()
    form.value.choices = _value_choices(scope.column)
    if form.validate_on_submit():
        try:
            value = habit_service.parse_habit(form.value.data, scope.column.scale)
            habit_service.record_habit(db.session, current_user, section=_section(), student_id=student_id,
                                       competency_id=habit_id, value=value, observed_on=form.observed_on.data,
                                       note=form.note.data or "", scope=scope)
            db.session.commit()
            if is_fragment_request():
                response = Response(render_template("gradebook/_habit_detail.html", **_habit_detail(
                    _habit_or_404(student_id, habit_id), message="Habit recorded.")))
                response.headers["HX-Trigger"] = "proficiencyChanged"  # the grid behind refreshes
                return response
            flash("Habit recorded.", "success")
            return redirect(url_for("gradebook.habit_detail", student_id=student_id, habit_id=habit_id), 303)
        except ServiceError as error:
            db.session.rollback()
            scope = _habit_or_404(student_id, habit_id)
            getattr(form, error.field if error.field in ("value", "observed_on", "note") else "value"
                    ).errors.append(error.message)
    return render_page_or_fragment("gradebook/habit_detail.html", "gradebook/_habit_detail.html", status=422,
                                   **_habit_detail(scope, form=form))


# ------------------------------------------------------------------ a habit cell on the entry sheet

def habit_display(evidence: HabitEvidence | None) -> str:
    """What a habit cell's input shows for its observation."""
    if evidence is None:
        return ""
    if evidence.status == "scored":
        return f"{evidence.score:g}"
    return habit_service.HABIT_STATUS_LETTER[evidence.status]


def save_habit_text(assessment: Assessment, student_id: int, habit_id: int, text: str,
                    expected_version: int | None, scope: habit_service.HabitScope | None = None) -> int:
    """Save what was typed in a habit cell of an assessment (empty removes it, undoably). Returns 1 if written."""
    if scope is None:
        scope = habit_service.load_habit_scope(db.session, current_user, _section(), student_id, habit_id,
                                               assessment.id)
        if scope is None:
            raise ServiceError("This section does not track that habit for that student.")
    value = habit_service.parse_habit(text, scope.column.scale)
    if value is None and scope.live is None:
        return 0
    observed_on = assessment.assessed_on if assessment.assessed_on <= date.today() else date.today()
    habit_service.record_habit(db.session, current_user, section=_section(), student_id=student_id,
                               competency_id=habit_id, value=value, observed_on=observed_on, assessment=assessment,
                               expected_version=expected_version, scope=scope)
    return 1


def _habit_cell_body(scope: habit_service.HabitScope, state: str, error: str | None = None,
                     typed: str | None = None, conflict: HabitEvidence | None = None) -> str:
    assessment = scope.assessment
    assert assessment is not None
    student, column = scope.student, scope.column
    live = scope.live
    sheet = read.EntrySheet(_section(), assessment, column.scale, [student], [], {}, {}, [column],
                            {(student.id, column.id): live} if live is not None else {},
                            {(student.id, column.id): scope.cell()})
    return render_template("gradebook/_habit_cell.html", sheet=sheet, student=student, habit=column,
                           error=error, typed=typed, conflict=conflict, state=state)


@bp.route("/sections/<int:section_id>/assessments/<int:assessment_id>/habits/<int:student_id>/<int:habit_id>",
          methods=["GET", "POST"])
@roles_required(*TEACHING)
@discloses("entry_cell")
def save_habit_cell(assessment_id: int, student_id: int, habit_id: int) -> Any:
    """Save one habit cell of the entry sheet (htmx): returns the cell with the habit's level now. Nothing of
    achievement is read or written. GET returns the cell as saved now (after a conflict, "keep theirs")."""
    scope = _habit_or_404(student_id, habit_id, assessment_id)
    if request.method == "GET":
        return _habit_cell_body(scope, "")
    text = request.form.get(f"habit-{student_id}-{habit_id}", request.form.get("value", ""))
    expected = request.form.get(f"hv-{student_id}-{habit_id}", type=int)
    error, conflict, body = None, None, ""
    try:
        save_habit_text(scope.assessment, student_id, habit_id, text, expected, scope)  # type: ignore[arg-type]
        body = _habit_cell_body(scope, "saved")  # rendered before the commit: no object is reloaded
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
        return redirect(url_for("gradebook.entry", assessment_id=assessment_id), 303)
    if error:
        scope = _habit_or_404(student_id, habit_id, assessment_id)
        body = _habit_cell_body(scope, "error", error=error, typed=text, conflict=conflict)  # type: ignore[arg-type]
    return Response(body, status=409 if conflict else 422 if error else 200)
