"""Long jobs from the admin pages: start a whole-school export or a backup, follow any job's progress (htmx
polls the job's fragment; the page can be left and come back to), download what it made. Routes join the
admin blueprint."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gradebook.authz import admin_scope, discloses, discloses_none, job_students, roles_required
from gradebook.extensions import db
from gradebook.interop import queue, school_jobs
from gradebook.models import Job, School
from gradebook.services import ServiceError
from gradebook.web import render_page_or_fragment
from gradebook.web.admin import bp
from gradebook.web.admin_imports import KINDS as IMPORT_KINDS
from gradebook.web.downloads import send_download

KINDS = {**IMPORT_KINDS, **school_jobs.TITLES}
STARTABLE = ("export", "backup")


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


@bp.route("/jobs", methods=["GET", "POST"])
@roles_required("admin")
@discloses_none("jobs: their kinds, file names and progress")
def jobs() -> Any:
    """Recent jobs of every kind; a POST starts an export (of one school, or a district admin's of the whole
    district) or a backup (the whole installation: a district admin's)."""
    error = None
    scope = admin_scope()
    if request.method == "POST":
        kind = request.form.get("kind", "")
        try:
            if kind not in STARTABLE:
                raise ServiceError("Choose an export or a backup to make.")
            school_id = None
            if kind == "backup" and not scope.district:
                raise ServiceError(BACKUP_REFUSED)
            if kind == "export":
                school_id = _export_school(scope)
            job = school_jobs.create(db.session, kind=kind, actor=current_user, school_id=school_id)
            job_id = job.id
            db.session.commit()
            queue.enqueue(_app(), job_id)
            return redirect(url_for("admin.job", job_id=job_id), 303)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    listed = admin_scope().jobs(select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(30))
    recent = db.session.scalars(listed).all()
    if error is None and any([queue.check(db.session, _app(), job) for job in recent]):
        recent = db.session.scalars(listed).all()
    schools = list(db.session.scalars(select(School).order_by(School.name))) if scope.district else list(
        db.session.scalars(select(School).where(School.id.in_(scope.school_ids or [])).order_by(School.name)))
    return render_template("admin/jobs.html", recent=recent, kinds=KINDS, error=error, schools=schools,
                           district=scope.district, chosen=scope.school_for_new), 422 if error else 200


BACKUP_REFUSED = ("A backup holds the whole installation, every school: a district admin makes it. Make your "
                  "school's export instead: every person, section, record and file of your school.")


def _export_school(scope: Any) -> int | None:
    """The school an export holds: the form's choice among the admin's schools; a district admin's empty
    choice is the whole district. A school admin's export is always of one of their schools."""
    raw = (request.form.get("school") or "").strip()
    if not raw:
        if scope.district:
            return None
        return scope.school_for_new  # type: ignore[no-any-return]
    if not raw.isdigit() or int(raw) >= 2**31 or not scope.sees_school(int(raw)) or db.session.get(School, int(raw)) is None:
        raise ServiceError("Choose one of your schools to export.")
    return int(raw)


@bp.get("/jobs/<int:job_id>")
@roles_required("admin")
@discloses_none("a job's progress and report: counts, file names, accounts made (directory information)")
def job(job_id: int) -> Any:
    job = admin_scope().job_or_404(job_id)
    queue.check(db.session, _app(), job)
    percent, stage = queue.progress_of(_app(), job)
    return render_page_or_fragment("admin/job.html", "admin/_job.html", job=job, percent=percent, stage=stage,
                                   kinds=KINDS, ready=school_jobs.output_path(_app(), job) is not None)


@bp.get("/jobs/<int:job_id>/download")
@roles_required("admin")
@discloses("school_export", students=job_students)
def job_download(job_id: int) -> Any:
    job = admin_scope().job_or_404(job_id)
    path = school_jobs.output_path(_app(), job)
    if path is None:
        flash("That job has no file to download (it has not finished, or it made none).", "info")
        return redirect(url_for("admin.job", job_id=job.id), 303)
    return send_download(path, name=job.filename, mimetype="application/zip")
