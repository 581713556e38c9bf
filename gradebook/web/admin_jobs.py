"""Long jobs from the admin pages: start a whole-school export or a backup, follow any job's progress (htmx
polls the job's fragment; the page can be left and come back to), download what it made. Routes join the
admin blueprint."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gradebook.authz import admin_scope, discloses, discloses_none, every_student, roles_required
from gradebook.extensions import db
from gradebook.interop import queue, school_jobs
from gradebook.models import Job
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
    """Recent jobs of every kind; a POST starts an export or a backup."""
    error = None
    if request.method == "POST":
        kind = request.form.get("kind", "")
        try:
            if kind not in STARTABLE:
                raise ServiceError("Choose an export or a backup to make.")
            if not admin_scope().district:
                raise ServiceError("The whole export and the backup hold every school: a district admin makes them.")
            job = school_jobs.create(db.session, kind=kind, actor=current_user)
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
    return render_template("admin/jobs.html", recent=recent, kinds=KINDS, error=error), 422 if error else 200


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
@discloses("school_export", students=every_student)
def job_download(job_id: int) -> Any:
    job = admin_scope().job_or_404(job_id)
    path = school_jobs.output_path(_app(), job)
    if path is None:
        flash("That job has no file to download (it has not finished, or it made none).", "info")
        return redirect(url_for("admin.job", job_id=job.id), 303)
    return send_download(path, name=job.filename, mimetype="application/zip")
