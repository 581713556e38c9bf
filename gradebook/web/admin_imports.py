"""Imports from the admin pages: upload, then a progress bar that htmx polls; the page can be left and
come back to. Routes join the admin blueprint."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gradebook.authz import admin_scope, discloses_none, roles_required
from gradebook.extensions import db
from gradebook.interop import jobs
from gradebook.models import ImportJob, School
from gradebook.services import ServiceError
from gradebook.web import render_page_or_fragment
from gradebook.web.admin import bp
from gradebook.web.uploads import max_body

KINDS = {"case": "Standards: a CASE package (JSON)",
         "standards_csv": "Standards: a spreadsheet (CSV: ours, OpenSALT's CASE spreadsheet or Canvas outcomes)",
         "oneroster": "Rosters: a OneRoster 1.1 or 1.2 zip"}


@bp.route("/imports", methods=["GET", "POST"])
@roles_required("admin")
@max_body(jobs.MAX_IMPORT_BYTES + 1024 * 1024)  # imports may be larger than other uploads
@discloses_none("import jobs: file names and counts")
def imports() -> Any:
    error = None
    if request.method == "POST":
        file = request.files.get("file")
        try:
            if file is None or not file.filename:
                raise ServiceError("Choose a file to import.")
            scope = admin_scope()  # a school admin's import reaches only their school (gradebook/interop/jobs.py)
            job = jobs.create_job(db.session, current_app._get_current_object(),  # type: ignore[attr-defined]
                                  kind=request.form.get("kind", ""), filename=file.filename,
                                  data=file.read(jobs.MAX_IMPORT_BYTES + 1), actor=current_user,
                                  options={"framework_title": (request.form.get("framework_title") or "").strip()[:200],
                                           # where the e-mailed set-password links point
                                           "base_url": current_app.config.get("BASE_URL") or request.host_url})
            job.school_id = scope.school_for_new if not scope.district else scope.chosen
            job_id = job.id  # read before the commit: reading it after would open a snapshot older than the job
            db.session.commit()
            jobs.start(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
            return redirect(url_for("admin.import_job", job_id=job_id), 303)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    recent = db.session.scalars(admin_scope().jobs(select(ImportJob).where(ImportJob.kind.in_(KINDS))
                                .order_by(ImportJob.created_at.desc()).limit(20))).all()
    if error is None and any([jobs.give_up_if_stale(db.session, job) for job in recent]):
        db.session.commit()
    jobs.forget_old_checks(current_app._get_current_object(), list(recent))  # type: ignore[attr-defined]
    scope = admin_scope()
    school = None if scope.district else db.session.get(School, scope.school_for_new)
    return render_template("admin/imports.html", kinds=KINDS, recent=recent, error=error, school=school,
                           max_mb=jobs.MAX_IMPORT_BYTES // (1024 * 1024)), 422 if error else 200


@bp.get("/imports/<int:job_id>")
@roles_required("admin")
@discloses_none("an import's report: the file's rows and the accounts made (directory information)")
def import_job(job_id: int) -> Any:
    job = admin_scope().job_or_404(job_id)
    if job.kind not in KINDS:  # a recompute, export or backup has its own page
        return redirect(url_for("admin.job", job_id=job.id), 303)
    if jobs.give_up_if_stale(db.session, job):
        db.session.commit()
    percent, stage = jobs.progress_of(job)
    if job.status == "done" and request.args.get("from") == "poll":
        imported = (job.report or {}).get("outcome", "imported") == "imported"
        flash("Import finished." if imported else "Check finished: read the report, then choose.", "success")
    return render_page_or_fragment("admin/import_job.html", "admin/_import_job.html", job=job, percent=percent,
                                   stage=stage, kinds=KINDS,
                                   can_apply=jobs.can_apply(current_app._get_current_object(), job))  # type: ignore[attr-defined]


@bp.post("/imports/<int:job_id>/apply")
@roles_required("admin")
@discloses_none("starts an import job and redirects")
def apply_import(job_id: int) -> Any:
    """After the dry run's report: import the file (or its valid rows, skipping the rejected ones)."""
    job = admin_scope().job_or_404(job_id)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        follow = jobs.apply_job(db.session, app, job, actor=current_user,
                                skip_rejected=request.form.get("skip_rejected") == "1")
    except ServiceError as failure:
        db.session.rollback()
        flash(failure.message, "error")
        return redirect(url_for("admin.import_job", job_id=job_id), 303)
    follow_id = follow.id
    db.session.commit()
    jobs.start(app, follow_id)
    return redirect(url_for("admin.import_job", job_id=follow_id), 303)
