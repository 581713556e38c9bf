"""The admin's grade bridge: the school's published table from levels to a term grade, edited with a preview
of every student's grade under the proposed table before it is saved. Routes join the admin blueprint."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gradebook.authz import admin_scope, discloses, discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import GradeBridgeChange, User
from gradebook.proficiency.grade_bridge import (
    MAX_CONDITIONS,
    MAX_RULES,
    NO_LEVEL_MODES,
    Condition,
    GradeBridge,
    Rule,
)
from gradebook.proficiency.grade_bridge_text import table_sentences
from gradebook.services import ServiceError, StaleWrite
from gradebook.services.proficiency import scale_for
from gradebook.services.term_grades import (
    check_bridge,
    label_for_scale,
    preview_bridge,
    save_bridge,
    stored_bridge,
    the_school,
)
from gradebook.web.admin import bp
from gradebook.web.downloads import send_download

CONDITIONS_SHOWN = 2  # condition columns the form shows at first; "Add a condition" shows one more, up to MAX_CONDITIONS
NO_LEVEL_LABELS = {"below": "count as not reached yet (below every level)",
                   "left_out": "are left out of the count"}


def bridge_from_form(form: Any) -> GradeBridge:
    """Read the table form: rule rows with a grade, each with up to MAX_CONDITIONS conditions (a share and a
    level). A row with no grade and no condition is left out; anything half-filled is a problem named by row."""
    rules: list[Rule] = []
    problems: list[str] = []
    for row in range(1, MAX_RULES + 1):
        grade = (form.get(f"grade_{row}") or "").strip()
        conditions = []
        unshared = []  # a level chosen with no share: a problem, unless the row is otherwise empty (dropped)
        for c in range(1, MAX_CONDITIONS + 1):
            raw_percent = (form.get(f"percent_{row}_{c}") or "").strip()
            raw_points = (form.get(f"points_{row}_{c}") or "").strip()
            if not raw_percent:
                if raw_points:
                    unshared.append(f"Row {row}, condition {c}: say what share of skills must be at that level "
                                    "(a whole number of percent), or choose “level…” to drop the condition.")
                continue
            percent = form.get(f"percent_{row}_{c}", type=int)
            points = form.get(f"points_{row}_{c}", type=float)
            if percent is None:
                problems.append(f"Row {row}: “{raw_percent}” is not a whole number of percent.")
            elif points is None:
                problems.append(f"Row {row}: choose a level for {percent}%" + (f" (“{raw_points}” is not one)."
                                                                              if raw_points else "."))
            else:
                conditions.append(Condition(percent, points))
        if grade or conditions:
            rules.append(Rule(grade, tuple(conditions)))
            problems.extend(unshared)
    if problems:
        raise ServiceError(" ".join(problems), "rules")
    no_level = form.get("no_level") or ""
    return GradeBridge(tuple(rules), (form.get("otherwise") or "").strip(), no_level)


def _preview_students(**_: Any) -> list[int]:
    return list(g.get("bridge_preview_students", []))


@bp.get("/grade-bridge")
@roles_required("admin")
@discloses_none("the school's published grade table; no student is shown until a preview")
def grade_bridge() -> Any:
    """The published table, and the form to change it."""
    return _grade_bridge_page()


@bp.post("/grade-bridge")
@roles_required("admin")
@discloses("grade_bridge_preview", students=_preview_students)
def grade_bridge_preview() -> Any:
    """``action=preview``: every student's grade under the table in the form, nothing written.
    ``action=save``: publish it (refused when stale or unsound), then back to the page."""
    return _grade_bridge_page()


def _csv_students(**_: Any) -> list[int]:
    return list(g.get("term_grades_csv_students", []))


@bp.get("/grade-bridge/term-grades.csv")
@roles_required("admin")
@discloses("term_grades_csv", students=_csv_students)
def term_grades_csv() -> Any:
    """Every student's term grade in every active class, as CSV for the SIS."""
    from gradebook.interop.results_export import term_grades_csv as build

    school = _admins_school()
    if school is None:
        flash("Set up the school first.", "error")
        return redirect(url_for("admin.home"), 303)
    body, g.term_grades_csv_students = build(db.session, school)
    return send_download(body, name="term-grades.csv", mimetype="text/csv", fallback="term-grades.csv")


def _admins_school() -> Any:
    """The school whose table the admin edits: the one the school picker chose, a school admin's own school,
    else (a district admin who chose none) the first school."""
    scope = admin_scope()
    if scope.school_ids is not None and not scope.school_ids:
        return None  # a school admin of no school yet
    return the_school(db.session, scope.school_for_new)


def _grade_bridge_page() -> Any:
    school = _admins_school()
    if school is None:
        flash("Set up the school first.", "error")
        return redirect(url_for("admin.home"), 303)
    stored = stored_bridge(db.session, school)
    scale = scale_for(db.session, None)
    bridge, version, preview, error, status = stored.bridge, stored.version, None, None, 200
    longest = max((len(r.conditions) for r in bridge.rules), default=0)
    columns = max(CONDITIONS_SHOWN, longest)
    if request.method == "POST":
        version = request.form.get("version", type=int)
        columns = min(MAX_CONDITIONS, max(columns, request.form.get("columns", type=int) or 0))
    if request.method == "POST" and request.form.get("action") == "add_condition":
        columns = min(MAX_CONDITIONS, columns + 1)  # one more column, what was typed kept, nothing checked yet
    elif request.method == "POST":
        try:
            bridge = bridge_from_form(request.form)
            check_bridge(db.session, school, bridge)
            preview = preview_bridge(db.session, school, bridge)
            if request.form.get("action") == "save":
                save_bridge(db.session, current_user, school, bridge, expected_version=version,
                            summary=preview.summary)
                db.session.commit()
                flash(f"The grade table is published. {preview.summary}", "success")
                return redirect(url_for("admin.grade_bridge"), 303)
            g.bridge_preview_students = sorted({row.student.id for row in preview.rows})
        except StaleWrite as stale:
            db.session.rollback()
            error, status = stale.message, 409
            fresh = stored_bridge(db.session, school)
            bridge, version, preview = fresh.bridge, fresh.version, None
        except ServiceError as failure:
            db.session.rollback()
            error, status, preview = failure.message, 422, None
    history = db.session.execute(
        select(GradeBridgeChange, User).join(User, User.id == GradeBridgeChange.changed_by_id)
        .where(GradeBridgeChange.school_id == school.id).order_by(GradeBridgeChange.changed_at.desc()).limit(10)).all()
    label_for = label_for_scale(scale)
    rows = list(bridge.rules) + [Rule("", ())] * max(0, min(MAX_RULES, max(len(bridge.rules) + 2, 5))
                                                    - len(bridge.rules))
    html = render_template(
        "admin/grade_bridge.html", school=school, bridge=bridge, rows=rows, version=version, preview=preview,
        error=error, history=history, typed=request.form if request.method == "POST" and status != 409 else None, scale=scale, columns=columns, max_conditions=MAX_CONDITIONS,
        no_level_modes=[(mode, NO_LEVEL_LABELS[mode]) for mode in NO_LEVEL_MODES],
        published=table_sentences(stored.bridge, label_for),
        proposed=table_sentences(bridge, label_for) if preview else None)
    return html, status
