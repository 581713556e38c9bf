"""Learning paths, the teacher's pages (#12): the path editor (units, dates, prerequisites), a standard's
playlist and ways to show, the class pacing view, one student's path (own dates, left-out standards, assigned
activities), assigning from a reteach group, and the "ready to show" queue.

Its own blueprint, scoped like the gradebook's: the section in the URL is loaded and authorised once (a
teacher of another section gets 404). Views are thin: the rules and the writes are gradebook/services/paths.py.
Every form posts and redirects 303 without JavaScript; a refused form re-renders with 422 and what was typed."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from gradebook import authz
from gradebook.authz import discloses, discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import Artifact, Competency, Enrollment, PathAdjustment, SectionStandard, User
from gradebook.services import ServiceError
from gradebook.services import paths as svc
from gradebook.services.artifacts import Upload
from gradebook.services.evidence import parse_cell
from gradebook.services.gradebook import load_cells, section_students
from gradebook.services.proficiency import scale_for
from gradebook.web.paths_forms import (
    ActivityForm,
    AssignForm,
    CopyPlaylistForm,
    LeaveOutForm,
    PrerequisiteForm,
    ScoreForm,
    TargetDateForm,
    UnitForm,
    WayForm,
    apply_error,
)
from gradebook.web.section_scope import scope_to_section, scoped_section, scoped_standard_or_404

bp = Blueprint("paths_teacher", __name__)
TEACHING = ("teacher", "admin")


scope_to_section(bp)


_section = scoped_section
_standard_or_404 = scoped_standard_or_404


def _student_or_404(student_id: int) -> User:
    student = db.session.scalar(
        select(User).join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.section_id == _section().id, User.id == student_id))
    authz.require(student is not None)
    return student  # type: ignore[return-value]


def _refuse(error: ServiceError, to: str) -> Any:
    """A button-only action the service refused: say why (422), change nothing, offer the way back."""
    db.session.rollback()
    return render_template("paths/teacher_refused.html", message=error.message, back=to), 422


def _label(standard: Competency) -> str:
    return f"{standard.code} · {standard.short_name or standard.statement}"[:120]


# ------------------------------------------------------------------ the path editor


def _unit_form(unit: svc.Unit | None, path: svc.SectionPath, form: UnitForm | None = None) -> UnitForm:
    form = form or UnitForm(prefix="unit")
    own = unit.standard_ids if unit else []
    free = {s.id for s in path.standards} if path.implicit else {u.id for u in path.unplaced}  # no units yet: all
    choosable = [s for s in path.standards if s.id in own or s.id in free]
    form.standards.choices = [SelectChoice(s.id, _label(s)) for s in choosable]
    form.standards.validate_choice = False  # the service refuses a foreign standard with a clear message
    return form


def _prerequisite_form(path: svc.SectionPath, form: PrerequisiteForm | None = None) -> PrerequisiteForm:
    form = form or PrerequisiteForm(prefix="pre")
    choices = [SelectChoice(s.id, _label(s)) for s in path.standards]
    form.competency_id.choices = [SelectChoice("", "Choose a standard…"), *choices]
    form.requires_id.choices = [SelectChoice("", "Choose what it needs first…"), *choices]
    form.competency_id.validate_choice = form.requires_id.validate_choice = False
    return form


def _render_editor(status: int = 200, *, unit_form: UnitForm | None = None,
                   prerequisite_form: PrerequisiteForm | None = None) -> tuple[str, int]:
    section = _section()
    path = svc.section_path(db.session, section)
    unit_form = _unit_form(None, path, unit_form)
    if request.method == "GET" or unit_form.starts_on.data is None:
        starts, target = svc.suggested_dates(db.session, section)
        if request.method == "GET":
            unit_form.starts_on.data, unit_form.target_on.data = starts, target
            unit_form.standards.data = [s.id for s in path.unplaced] if not path.implicit else []
    playlist_counts = {cid: len(items) for cid, items in svc.playlists(db.session, section.id).items()}
    way_counts = {cid: len(items) for cid, items in svc.ways_to_show(db.session, section.id).items()}
    return render_template(
        "paths/teacher_editor.html", path=path, unit_form=unit_form,
        prerequisite_form=_prerequisite_form(path, prerequisite_form),
        prerequisites=svc.prerequisite_rows(db.session, section.id), term=svc.term_bounds(db.session, section),
        playlist_counts=playlist_counts, way_counts=way_counts, open_unit_form=status == 422 and unit_form.errors,
    ), status


@bp.get("/sections/<int:section_id>/path")
@roles_required(*TEACHING)
@discloses_none("the section's path: units, standards and prerequisites")
def editor() -> Any:
    return _render_editor()


@bp.post("/sections/<int:section_id>/path/units")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def create_unit() -> Any:
    form = UnitForm(prefix="unit")
    _unit_form(None, svc.section_path(db.session, _section()), form)
    if form.validate():
        try:
            unit = svc.create_unit(db.session, current_user, _section(), title=form.title.data,
                                   starts_on=form.starts_on.data, target_on=form.target_on.data,
                                   competency_ids=form.standards.data)
            db.session.commit()
            flash(f"Unit “{unit.title}” added to the path.", "success")
            return redirect(url_for("paths_teacher.editor"), 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "title")
    return _render_editor(422, unit_form=form)


def _unit_or_404(unit_id: int) -> Any:
    unit = svc.unit_or_none(db.session, _section(), unit_id)
    authz.require(unit is not None)
    return unit


@bp.route("/sections/<int:section_id>/path/units/<int:unit_id>/edit", methods=["GET", "POST"])
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def edit_unit(unit_id: int) -> Any:
    unit = _unit_or_404(unit_id)
    path = svc.section_path(db.session, _section())
    view = next(u for u in path.units if u.id == unit.id)
    form = _unit_form(view, path, UnitForm(prefix="unit", obj=None))
    if request.method == "GET":
        form.title.data, form.starts_on.data, form.target_on.data = unit.title, unit.starts_on, unit.target_on
        form.standards.data, form.version.data = view.standard_ids, str(unit.version)
    elif form.validate():
        try:
            svc.update_unit(db.session, current_user, _section(), unit, title=form.title.data,
                            starts_on=form.starts_on.data, target_on=form.target_on.data,
                            competency_ids=form.standards.data,
                            expected_version=int(form.version.data) if (form.version.data or "").isdigit() else None)
            db.session.commit()
            flash(f"Unit “{unit.title}” saved.", "success")
            return redirect(url_for("paths_teacher.editor"), 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "title")
    status = 422 if request.method == "POST" else 200
    return render_template("paths/teacher_unit_form.html", form=form, unit=unit, path=path), status


@bp.post("/sections/<int:section_id>/path/units/<int:unit_id>/move")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def move_unit(unit_id: int) -> Any:
    unit = _unit_or_404(unit_id)
    svc.move_unit(db.session, current_user, _section(), unit, -1 if request.form.get("direction") == "up" else 1)
    db.session.commit()
    return redirect(url_for("paths_teacher.editor") + f"#unit-{unit.id}", 303)


@bp.post("/sections/<int:section_id>/path/prerequisites")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def add_prerequisite() -> Any:
    path = svc.section_path(db.session, _section())
    form = _prerequisite_form(path, PrerequisiteForm(prefix="pre"))
    if form.validate():
        try:
            svc.add_prerequisite(db.session, current_user, _section(), competency_id=form.competency_id.data,
                                 requires_id=form.requires_id.data)
            db.session.commit()
            flash("Prerequisite added.", "success")
            return redirect(url_for("paths_teacher.editor") + "#prerequisites", 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "requires_id")
    return _render_editor(422, prerequisite_form=form)


# ------------------------------------------------------------------ a standard's playlist and ways to show


def _band_groups(activities: list[Any]) -> list[tuple[str, str, list[Any]]]:
    return [(band, label, [a for a in activities if a.band == band]) for band, label in svc.BAND_LABELS.items()]


def _render_standard(standard: Competency, status: int = 200, *, activity_form: ActivityForm | None = None,
                     way_form: WayForm | None = None, copy_form: CopyPlaylistForm | None = None) -> tuple[str, int]:
    section = _section()
    activities = svc.playlists(db.session, section.id).get(standard.id, [])
    ways = svc.ways_to_show(db.session, section.id).get(standard.id, [])
    others = svc.other_sections_with_playlists(db.session, current_user, section)
    copy_form = copy_form or CopyPlaylistForm(prefix="copy")
    copy_form.from_section.choices = [SelectChoice(s.id, f"{s.name} ({n} activit{'y' if n == 1 else 'ies'})")
                                      for s, n in others]
    activity_form = activity_form or ActivityForm(prefix="act", competency_id=str(standard.id))
    way_form = way_form or WayForm(prefix="way", competency_id=str(standard.id))
    file_ids = {a.artifact_id for a in activities if a.artifact_id}
    by_id = {f.id: f for f in db.session.scalars(select(Artifact).where(Artifact.id.in_(file_ids)))} if file_ids else {}
    files = {a.id: by_id[a.artifact_id] for a in activities if a.artifact_id in by_id}
    path = svc.section_path(db.session, section)
    return render_template(
        "paths/teacher_standard.html", standard=standard, groups=_band_groups(activities), activities=activities,
        ways=ways, activity_form=activity_form, way_form=way_form, copy_form=copy_form, has_others=bool(others),
        files=files, path=path, unit=path.unit_of(standard.id), kind_labels=svc.KIND_LABELS,
        band_labels=svc.BAND_LABELS, open_activity_form=bool(activity_form.errors),
    ), status


@bp.get("/sections/<int:section_id>/path/standards/<int:competency_id>")
@roles_required(*TEACHING)
@discloses_none("a standard's playlist and ways to show")
def standard(competency_id: int) -> Any:
    return _render_standard(_standard_or_404(competency_id))


def _activity_input(form: ActivityForm, competency_id: int | None) -> svc.ActivityInput:
    return svc.ActivityInput(
        competency_id=competency_id, title=form.title.data or "", instructions=form.instructions.data or "",
        url=form.url.data, kind=form.kind.data, minutes=form.minutes.data, band=form.band.data,
        for_home=bool(form.for_home.data), interest_tags=form.interest_tags.data or "")


def _upload() -> Upload | None:
    file = request.files.get("act-file")
    return Upload(file.filename or "", file.stream) if file and file.filename else None


def _form_int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _standard_for_form(competency_id: int | None) -> Competency | None:
    """The standard a form names, when the section assesses it (else the service refuses, and we re-render
    the section's first standard's page with the message)."""
    if competency_id is None:
        return None
    return db.session.scalar(
        select(Competency).join(SectionStandard, SectionStandard.competency_id == Competency.id)
        .where(SectionStandard.section_id == _section().id, Competency.id == competency_id))


def _fallback_standard() -> Competency:
    standards = svc.section_standards(db.session, _section().id)
    if not standards:
        abort(422, "This section assesses no standards yet, so it has no playlists. An admin adds its standards.")
    return standards[0]


@bp.post("/sections/<int:section_id>/path/activities")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def create_activity() -> Any:
    form = ActivityForm(prefix="act")
    competency_id = _form_int(form.competency_id.data)
    if form.validate():
        try:
            activity = svc.create_activity(db.session, current_user, _section(), _activity_input(form, competency_id),
                                           upload=_upload(), upload_folder=current_app.config["UPLOAD_FOLDER"])
            db.session.commit()
            flash(f"“{activity.title}” added to the playlist.", "success")
            return redirect(url_for("paths_teacher.standard", competency_id=activity.competency_id) + "#playlist",
                            303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "title")
    return _render_standard(_standard_for_form(competency_id) or _fallback_standard(), 422, activity_form=form)


def _activity_or_404(activity_id: int) -> Any:
    activity = svc.activity_or_none(db.session, _section(), activity_id)
    authz.require(activity is not None)
    return activity


@bp.route("/sections/<int:section_id>/path/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def edit_activity(activity_id: int) -> Any:
    activity = _activity_or_404(activity_id)
    standard = _standard_or_404(activity.competency_id)
    form = ActivityForm(prefix="act")
    if request.method == "GET":
        form.process(obj=None, data={
            "title": activity.title, "instructions": activity.instructions, "url": activity.url or "",
            "kind": activity.kind, "minutes": activity.minutes, "band": activity.band, "for_home": activity.for_home,
            "interest_tags": activity.interest_tags, "version": str(activity.version),
            "competency_id": str(activity.competency_id)})
    elif form.validate():
        try:
            svc.update_activity(db.session, current_user, _section(), activity,
                                _activity_input(form, activity.competency_id), upload=_upload(),
                                upload_folder=current_app.config["UPLOAD_FOLDER"],
                                remove_file=bool(form.remove_file.data), expected_version=_form_int(form.version.data))
            db.session.commit()
            flash(f"“{activity.title}” saved.", "success")
            return redirect(url_for("paths_teacher.standard", competency_id=standard.id) + "#playlist", 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "title")
    status = 422 if request.method == "POST" else 200
    file = db.session.get(Artifact, activity.artifact_id) if activity.artifact_id else None
    return render_template("paths/teacher_activity_form.html", form=form, activity=activity, standard=standard,
                           file=file), status


@bp.post("/sections/<int:section_id>/path/standards/<int:competency_id>/copy")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def copy_playlist(competency_id: int) -> Any:
    standard = _standard_or_404(competency_id)
    form = CopyPlaylistForm(prefix="copy")
    form.from_section.choices = [SelectChoice(s.id, s.name) for s, _n in
                                 svc.other_sections_with_playlists(db.session, current_user, _section())]
    form.from_section.validate_choice = False
    if form.validate():
        try:
            copied = svc.copy_playlist(db.session, current_user, _section(), from_section_id=form.from_section.data,
                                       competency_id=standard.id if request.form.get("scope") != "all" else None)
            db.session.commit()
            flash(f"{copied} activit{'y' if copied == 1 else 'ies'} copied." if copied else
                  "Nothing new to copy: those activities are already here.", "success" if copied else "info")
            return redirect(url_for("paths_teacher.standard", competency_id=standard.id) + "#playlist", 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "from_section")
    return _render_standard(standard, 422, copy_form=form)


@bp.post("/sections/<int:section_id>/path/ways")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def add_way() -> Any:
    form = WayForm(prefix="way")
    competency_id = _form_int(form.competency_id.data)
    if form.validate():
        try:
            way = svc.add_way_to_show(db.session, current_user, _section(), competency_id=competency_id,
                                      title=form.title.data, description=form.description.data or "")
            db.session.commit()
            flash(f"“{way.title}” is now a way to show it.", "success")
            return redirect(url_for("paths_teacher.standard", competency_id=way.competency_id) + "#ways", 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "title")
    return _render_standard(_standard_for_form(competency_id) or _fallback_standard(), 422, way_form=form)


# ------------------------------------------------------------------ the class pacing view


@bp.get("/sections/<int:section_id>/path/pacing")
@roles_required(*TEACHING)
@discloses("class_pacing", students=authz.section_roster)
def pacing() -> Any:
    sort = request.args.get("sort", "name")
    sort = sort if sort in svc.PACING_SORTS else "name"
    behind = request.args.get("behind") == "1"
    unit_id = request.args.get("unit", type=int)
    board = svc.class_pacing(db.session, _section(), sort=sort, behind_only=behind, unit_id=unit_id)
    codes = {s.id: s for s in board.path.standards}
    everyone = len(section_students(db.session, _section().id)) if behind else len(board.rows)
    return render_template("paths/teacher_pacing.html", board=board, sort=sort, behind=behind, unit_id=unit_id,
                           codes=codes, everyone=everyone)


# ------------------------------------------------------------------ one student's path


def _adjustment_forms(path: svc.SectionPath, target_form: TargetDateForm | None = None,
                      leave_form: LeaveOutForm | None = None) -> tuple[TargetDateForm, LeaveOutForm]:
    target_form = target_form or TargetDateForm(prefix="own")
    target_form.unit_id.choices = [SelectChoice(u.id, f"{u.title} (target {u.target_on:%-d %b})")
                                   for u in path.units if u.id is not None]
    target_form.unit_id.validate_choice = False
    leave_form = leave_form or LeaveOutForm(prefix="out")
    leave_form.competency_id.choices = [SelectChoice(s.id, _label(s)) for s in path.standards]
    leave_form.competency_id.validate_choice = False
    return target_form, leave_form


def _render_student(student: User, status: int = 200, *, target_form: TargetDateForm | None = None,
                    leave_form: LeaveOutForm | None = None, assign_form: AssignForm | None = None) -> tuple[str, int]:
    section = _section()
    path = svc.section_path(db.session, section)
    scale = scale_for(db.session, section)
    cells = load_cells(db.session, section, scale, student_ids=[student.id])
    mastered = svc.mastered_ids(cells, student.id, scale.mastery.points)
    adjustments = svc.adjustments_by_student(svc.live_adjustments(db.session, section.id, [student.id])).get(
        student.id, svc.StudentAdjustments())
    paces = [svc.pace_of(u, today=date.today(), mastered=mastered, adjustments=adjustments,
                         mastery_label=scale.mastery.label) for u in path.units]
    nexts = svc.next_standards(path.order, mastered, path.prerequisites, set(adjustments.left_out))
    target_form, leave_form = _adjustment_forms(path, target_form, leave_form)
    playlists = svc.playlists(db.session, section.id)
    assign_form = assign_form or AssignForm(prefix="assign")
    assign_form.students.choices = [SelectChoice(student.id, student.name)]
    assign_form.activities.choices = [SelectChoice(a.id, a.title) for items in playlists.values() for a in items]
    assigned = svc.assignments_for(db.session, section.id, student.id)
    from gradebook.services.gradebook import Cell

    return render_template(
        "paths/teacher_student.html", student=student, path=path, paces=list(zip(path.units, paces, strict=True)),
        cells=cells, empty_cell=Cell(_mastery=scale.mastery.points), adjustments=adjustments, nexts=nexts,
        target_form=target_form, leave_form=leave_form, assign_form=assign_form, playlists=playlists,
        assigned=assigned, assigned_ids={a.id for _x, a in assigned}, band_labels=svc.BAND_LABELS,
        kind_labels=svc.KIND_LABELS, scale=scale,
    ), status


@bp.get("/sections/<int:section_id>/path/students/<int:student_id>")
@roles_required(*TEACHING)
@discloses("teacher_path_page")
def student(student_id: int) -> Any:
    return _render_student(_student_or_404(student_id))


@bp.post("/sections/<int:section_id>/path/students/<int:student_id>/target-date")
@roles_required(*TEACHING)
@discloses("teacher_path_page")
def own_target_date(student_id: int) -> Any:
    student = _student_or_404(student_id)
    form, _ = _adjustment_forms(svc.section_path(db.session, _section()))
    if form.validate():
        try:
            svc.give_own_target_date(db.session, current_user, _section(), student_id=student.id,
                                     unit_id=form.unit_id.data, target_on=form.target_on.data, reason=form.reason.data)
            db.session.commit()
            flash(f"{student.name} has their own target date; their pace counts from it.", "success")
            return redirect(url_for("paths_teacher.student", student_id=student.id) + "#adjustments", 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "reason")
    return _render_student(student, 422, target_form=form)


@bp.post("/sections/<int:section_id>/path/students/<int:student_id>/left-out")
@roles_required(*TEACHING)
@discloses("teacher_path_page")
def leave_out(student_id: int) -> Any:
    student = _student_or_404(student_id)
    _, form = _adjustment_forms(svc.section_path(db.session, _section()))
    if form.validate():
        try:
            svc.leave_out_standard(db.session, current_user, _section(), student_id=student.id,
                                   competency_id=form.competency_id.data, reason=form.reason.data)
            db.session.commit()
            flash(f"That standard is left out of {student.name}'s path; their evidence on it is kept.", "success")
            return redirect(url_for("paths_teacher.student", student_id=student.id) + "#adjustments", 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "reason")
    return _render_student(student, 422, leave_form=form)


# ------------------------------------------------------------------ assigning ("from your teacher")


def _group_students(raw: str | None) -> list[int]:
    return [int(part) for part in (raw or "").split(",") if part.strip().isdigit()]


@bp.get("/sections/<int:section_id>/path/assign")
@roles_required(*TEACHING)
@discloses("path_assign", students=authz.section_roster)
def assign_group() -> Any:
    """Assign activities of one standard to a reteach group (or any students of the section)."""
    section = _section()
    standard_id = request.args.get("standard", type=int)
    standards = svc.section_standards(db.session, section.id)
    standard = next((s for s in standards if s.id == standard_id), standards[0] if standards else None)
    chosen = set(_group_students(request.args.get("students")))
    form = AssignForm(prefix="assign", formdata=None)
    return _render_assign(standard, standards, form, chosen)


def _render_assign(standard: Competency | None, standards: list[Competency], form: AssignForm, chosen: set[int],
                   status: int = 200) -> tuple[str, int]:
    section = _section()
    students = section_students(db.session, section.id)
    form.students.choices = [SelectChoice(s.id, s.name) for s in students]
    activities = svc.playlists(db.session, section.id).get(standard.id, []) if standard else []
    form.activities.choices = [SelectChoice(a.id, a.title) for a in activities]
    if form.students.data is None or status == 200:
        form.students.data = [s.id for s in students if s.id in chosen]
    form.competency_id.data = str(standard.id) if standard else ""
    reteach = svc.below_mastery_groups(db.session, section, standard.id) if standard else []
    return render_template("paths/teacher_assign.html", form=form, standard=standard, standards=standards,
                           activities=activities, groups=_band_groups(activities), chosen=chosen,
                           kind_labels=svc.KIND_LABELS, reteach=reteach), status


@bp.post("/sections/<int:section_id>/path/assign")
@roles_required(*TEACHING)
@discloses("path_assign", students=authz.section_roster)
def assign() -> Any:
    """Assign chosen activities, or a standard's whole playlist (``whole``), to chosen students."""
    form = AssignForm(prefix="assign")
    form.students.validate_choice = form.activities.validate_choice = False
    back = request.form.get("back") or ""
    competency_id = _form_int(form.competency_id.data)
    if form.validate():
        try:
            if form.whole.data:
                added = svc.assign_playlist(db.session, current_user, _section(), competency_id=competency_id,
                                            student_ids=form.students.data, note=form.note.data or "")
            else:
                added = svc.assign_activities(db.session, current_user, _section(),
                                              activity_ids=form.activities.data or [], student_ids=form.students.data,
                                              note=form.note.data or "")
            db.session.commit()
            flash(f"{added} activit{'y' if added == 1 else 'ies'} assigned; students see them first, marked "
                  "“from your teacher”." if added else "Those students already had those activities.",
                  "success" if added else "info")
            if back.startswith("/") and not back.startswith("//"):
                return redirect(back, 303)
            return redirect(url_for("paths_teacher.assign_group", standard=competency_id,
                                    students=",".join(map(str, form.students.data))), 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "activities" if error.field not in ("students",) else "students")
    if len(form.students.data or []) == 1 and back.startswith("/"):
        student = db.session.get(User, form.students.data[0])
        if student is not None and db.session.scalar(select(Enrollment.id).where(
                Enrollment.section_id == _section().id, Enrollment.student_id == student.id)):
            return _render_student(student, 422, assign_form=form)
    standards = svc.section_standards(db.session, _section().id)
    standard = next((s for s in standards if s.id == competency_id), standards[0] if standards else None)
    return _render_assign(standard, standards, form, set(form.students.data or []), 422)


# ------------------------------------------------------------------ the "ready to show" queue


def _render_queue(status: int = 200, *, failed: int | None = None, failed_form: ScoreForm | None = None
                  ) -> tuple[str, int]:
    items = svc.ready_queue(db.session, _section().id)
    forms = {}
    for item in items:
        if item.request.id == failed and failed_form is not None:
            forms[item.request.id] = failed_form
        else:
            forms[item.request.id] = ScoreForm(prefix=f"r{item.request.id}", formdata=None, observed_on=date.today())
    scale = scale_for(db.session, _section())
    return render_template("paths/teacher_queue.html", items=items, forms=forms, scale=scale), status


@bp.get("/sections/<int:section_id>/path/queue")
@roles_required(*TEACHING)
@discloses("ready_to_show_queue", students=authz.section_roster)
def queue() -> Any:
    return _render_queue()


@bp.post("/sections/<int:section_id>/path/queue/<int:request_id>/score")
@roles_required(*TEACHING)
@discloses("ready_to_show_queue", students=authz.section_roster)
def score_request(request_id: int) -> Any:
    item = next((i for i in svc.ready_queue(db.session, _section().id) if i.request.id == request_id), None)
    if item is None:
        flash("That request is not waiting any more: it was scored or withdrawn.", "info")
        return redirect(url_for("paths_teacher.queue"), 303)
    form = ScoreForm(prefix=f"r{request_id}")
    if form.validate():
        try:
            value = parse_cell(form.value.data, _section(), db.session)
            if value is None:
                raise ServiceError("Type a score, or M, E or N.", "value")
            svc.score_ready_request(db.session, current_user, _section(), request_id, value=value,
                                    observed_on=form.observed_on.data, feedback=form.feedback.data or None)
            db.session.commit()
            flash(f"Scored: {item.student.name} on {item.standard.code}. Their level and pace are updated.", "success")
            return redirect(url_for("paths_teacher.queue"), 303)
        except ServiceError as error:
            db.session.rollback()
            apply_error(form, error, "value")
    return _render_queue(422, failed=request_id, failed_form=form)


# ------------------------------------------------------------------ removals (last: nothing after needs them)


@bp.post("/sections/<int:section_id>/path/assignments/<int:assignment_id>/remove")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def unassign(assignment_id: int) -> Any:
    back = request.form.get("back") or url_for("paths_teacher.editor")
    try:
        svc.unassign_activity(db.session, current_user, _section(), assignment_id)
    except ServiceError:
        abort(404)
    db.session.commit()
    flash("Assignment removed; the activity stays in the playlist.", "success")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("paths_teacher.editor"),
                    303)


@bp.post("/sections/<int:section_id>/path/adjustments/<int:adjustment_id>/remove")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def remove_adjustment(adjustment_id: int) -> Any:
    adjustment = db.session.get(PathAdjustment, adjustment_id)
    authz.require(adjustment is not None and adjustment.section_id == _section().id)
    to = url_for("paths_teacher.student", student_id=adjustment.student_id) + "#adjustments"  # type: ignore[union-attr]
    try:
        svc.remove_adjustment(db.session, current_user, _section(), adjustment_id)
    except ServiceError as error:
        return _refuse(error, to)
    db.session.commit()
    flash("Adjustment removed: the unit's own dates and standards count again.", "success")
    return redirect(to, 303)


@bp.post("/sections/<int:section_id>/path/ways/<int:way_id>/remove")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def remove_way(way_id: int) -> Any:
    from gradebook.models import WayToShow

    way = db.session.get(WayToShow, way_id)
    authz.require(way is not None and way.section_id == _section().id)
    to = url_for("paths_teacher.standard", competency_id=way.competency_id) + "#ways"  # type: ignore[union-attr]
    try:
        svc.remove_way_to_show(db.session, current_user, _section(), way_id)
    except ServiceError as error:
        return _refuse(error, to)
    db.session.commit()
    flash("Way to show removed.", "success")
    return redirect(to, 303)


@bp.post("/sections/<int:section_id>/path/activities/<int:activity_id>/delete")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def delete_activity(activity_id: int) -> Any:
    activity = _activity_or_404(activity_id)
    svc.delete_activity(db.session, current_user, _section(), activity)
    db.session.commit()
    flash(f"“{activity.title}” removed from the playlist; students' notes on it are kept.", "success")
    return redirect(url_for("paths_teacher.standard", competency_id=activity.competency_id) + "#playlist", 303)


@bp.post("/sections/<int:section_id>/path/prerequisites/<int:prerequisite_id>/delete")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def remove_prerequisite(prerequisite_id: int) -> Any:
    try:
        svc.remove_prerequisite(db.session, current_user, _section(), prerequisite_id)
    except ServiceError as error:
        return _refuse(error, url_for("paths_teacher.editor") + "#prerequisites")
    db.session.commit()
    flash("Prerequisite removed.", "success")
    return redirect(url_for("paths_teacher.editor") + "#prerequisites", 303)


@bp.post("/sections/<int:section_id>/path/units/<int:unit_id>/delete")
@roles_required(*TEACHING)
@discloses_none("edits the section's path and redirects")
def delete_unit(unit_id: int) -> Any:
    unit = _unit_or_404(unit_id)
    title = unit.title
    svc.delete_unit(db.session, current_user, _section(), unit)
    db.session.commit()
    flash(f"Unit “{title}” removed from the path. Its standards are unplaced; no evidence changed.", "success")
    return redirect(url_for("paths_teacher.editor"), 303)
