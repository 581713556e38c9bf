"""Learning paths, the student's pages: their path in a section, their focus, the activities they pick and
finish, and "I'm ready to show". Forms post and redirect (303) without JavaScript; bad input re-renders the
page with 422, keeping what was typed. A student sees only their own path: another section answers 404."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from gradebook import authz
from gradebook.authz import discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import Enrollment, Section
from gradebook.services import ServiceError, path_choices, path_views
from gradebook.services.path_choices import NotFound
from gradebook.web import refuse_writes_to_closed, render_page_or_fragment
from gradebook.web.paths import bp

ID_MAX = 2**31 - 1  # the largest id a database integer holds


@bp.before_request
def _closed_sections_are_read_only() -> None:
    """A student's change to their path in a section closed with its term is refused (423) with why. Only in
    a section they are in: another one answers 404 from the view, as before."""
    section_id = (request.view_args or {}).get("section_id")
    if section_id is None or request.method == "GET" or getattr(current_user, "role", None) != "student":
        return
    refuse_writes_to_closed(db.session.scalar(select(Section).join(Enrollment, Enrollment.section_id == Section.id)
                                              .where(Section.id == section_id, Enrollment.student_id == current_user.id,
                                                     Enrollment.active.is_(True))))


def _int(name: str) -> int | None:
    """A form's id: None when left empty or not a number; 0 (which matches nothing) when beyond any id."""
    value = (request.form.get(name) or "").strip()
    if not value.isdigit():
        return None
    return int(value) if int(value) <= ID_MAX else 0


def _page(section_id: int, *, viewing: int | None = None, status: int = 200, errors: dict[str, str] | None = None,
          typed: dict[str, Any] | None = None) -> tuple[str, int]:
    path = path_views.student_path(db.session, current_user, section_id, viewing=viewing)
    authz.require(path is not None)
    return render_page_or_fragment("paths/student_path.html", "paths/_student_main.html", status,
                                   path=path, errors=errors or {}, typed=typed or {},
                                   labels=path_views)


def _back(section_id: int, anchor: str = "", viewing: int | None = None) -> Response:
    url = url_for("paths.student_path", section_id=section_id, **({"standard": viewing} if viewing else {}))
    return redirect(url + (f"#{anchor}" if anchor else ""), 303)


def _failed(section_id: int, error: ServiceError, form: str, viewing: int | None = None,
            typed: dict[str, Any] | None = None) -> tuple[str, int]:
    db.session.rollback()
    if isinstance(error, NotFound):
        authz.require(False)
    return _page(section_id, viewing=viewing, status=422, errors={form: error.message},
                 typed={"form": form, **(typed or {})})


@bp.get("/portfolio/sections/<int:section_id>/path")
@roles_required("student")
@discloses_none("the student's own path: only they reach it")
def student_path(section_id: int) -> tuple[str, int]:
    return _page(section_id, viewing=request.args.get("standard", type=int))


@bp.post("/portfolio/sections/<int:section_id>/path/focus")
@roles_required("student")
@discloses_none("the student's own path: only they reach it")
def student_focus(section_id: int) -> Any:
    competency_id = _int("competency_id")
    try:
        path_choices.set_focus(db.session, current_user, section_id, competency_id)
    except ServiceError as error:
        return _failed(section_id, error, "focus", typed={"competency_id": competency_id})
    db.session.commit()
    flash(_("Your focus is set. Pick an activity below to start."), "success")
    return _back(section_id, "focus")


@bp.post("/portfolio/sections/<int:section_id>/path/activities/<int:activity_id>")
@roles_required("student")
@discloses_none("the student's own path: only they reach it")
def student_activity(section_id: int, activity_id: int) -> Any:
    status = request.form.get("status")
    reflection = request.form.get("reflection")
    viewing = _int("viewing")
    try:
        choice = path_choices.set_activity_status(db.session, current_user, section_id, activity_id, status,
                                                  reflection, version=_int("version"))
    except ServiceError as error:
        return _failed(section_id, error, f"activity-{activity_id}", viewing,
                       typed={"status": status, "reflection": reflection})
    db.session.commit()
    messages = {"chosen": _("Picked. Say when you start working on it."), "working": _("Good: you are working on it."),
                "done": _("Done! Well done. When you feel ready, say so below.")}
    flash(messages.get(choice.status, "") if choice else _("Removed from your activities."), "success")
    return _back(section_id, f"activity-{activity_id}", viewing)


@bp.post("/portfolio/sections/<int:section_id>/path/ready")
@roles_required("student")
@discloses_none("the student's own path: only they reach it")
def student_ready(section_id: int) -> Any:
    way_id, entry_id, note = _int("way_id"), _int("portfolio_entry_id"), request.form.get("note")
    viewing = _int("viewing")
    try:
        path_choices.ready_to_show(db.session, current_user, section_id, way_id, note, entry_id,
                                   competency_id=_int("competency_id"))
    except ServiceError as error:
        return _failed(section_id, error, "ready", viewing,
                       typed={"way_id": way_id, "note": note, "portfolio_entry_id": entry_id})
    db.session.commit()
    flash(_("Your teacher has it in their queue. They will tell you when and how you show it."), "success")
    return _back(section_id, "ready", viewing)


@bp.post("/portfolio/sections/<int:section_id>/path/ready/<int:request_id>/withdraw")
@roles_required("student")
@discloses_none("the student's own path: only they reach it")
def student_withdraw(section_id: int, request_id: int) -> Any:
    try:
        path_choices.withdraw_ready(db.session, current_user, section_id, request_id)
    except ServiceError as error:
        return _failed(section_id, error, "ready")
    db.session.commit()
    flash(_("Withdrawn: it is no longer in your teacher's queue."), "info")
    return _back(section_id, "ready", _int("viewing"))
