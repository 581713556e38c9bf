"""A section's own calculation policy (or the school default), with a preview before applying.

Routes join the gradebook blueprint, so the section is loaded and authorised once there.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from gradebook.authz import discloses_none, roles_required
from gradebook.extensions import db
from gradebook.services import ServiceError
from gradebook.services.policy import change_section_policy, preview_section_policy
from gradebook.services.proficiency import school_policy
from gradebook.web.admin import METHOD_LABELS, ROLLUP_LABELS, policy_from_form
from gradebook.web.gradebook import TEACHING, bp


@bp.route("/sections/<int:section_id>/policy", methods=["GET", "POST"])
@roles_required(*TEACHING)
@discloses_none("the section's calculation policy; its preview is counts")
def section_policy() -> Any:
    section = g.section
    school = school_policy(db.session, section.school_id)
    current = {**school, **(section.policy or {})}
    preview, error, proposed = None, None, None
    if request.method == "POST":
        try:
            use_school = request.form.get("use_school") == "1"
            proposed = None if use_school else policy_from_form(request.form)
            if request.form.get("apply") == "1":
                result = change_section_policy(db.session, current_user, section, proposed,
                                               expected_version=request.form.get("version", type=int))
                db.session.commit()
                flash(f"Policy applied: {result.summary} No evidence was changed.", "success")
                return redirect(url_for("gradebook.section_policy"), 303)
            preview = preview_section_policy(db.session, section, proposed or school)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    return render_template("gradebook/policy.html", policy=proposed or current, preview=preview, error=error,
                           methods=METHOD_LABELS, rollups=ROLLUP_LABELS, own=section.policy is not None,
                           # On load the box says what the section does now; after a POST, what was asked.
                           use_school=(request.form.get("use_school") == "1" if request.method == "POST"
                                       else section.policy is None)), 422 if error else 200
