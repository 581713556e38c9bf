""""Save to bank" from wherever feedback is typed (the entry sheet, the cell detail). The picker itself is
static/js/comment-bank.js; what it offers is `services.comments.bank_for`. Routes join the gradebook blueprint."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gradebook.authz import discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import SectionStandard
from gradebook.services import ServiceError
from gradebook.services.comments import save_to_bank
from gradebook.services.gradebook import assessment_standards
from gradebook.web import is_fragment_request
from gradebook.web.forms import id_number
from gradebook.web.gradebook import TEACHING, _assessment_or_404, _section, bp

# A feedback box of the page the button sits in, whose text is the comment (the whole form is posted).
FEEDBACK_FIELD = re.compile(r"^(feedback|feedback-\d{1,10})$")


def _arg_id(name: str) -> int | None:
    try:
        return id_number(request.args[name]) if request.args.get(name) else None
    except ValueError:
        raise ServiceError("That is not one of this section's standards or assessments.") from None


def bank_standards() -> tuple[list[int], Any]:
    """The standards a comment is saved for (the assessment's, or one standard's), and where to go back to."""
    assessment_id, standard_id = _arg_id("assessment"), _arg_id("standard")
    if assessment_id is not None:
        assessment = _assessment_or_404(assessment_id)
        return ([s.id for s in assessment_standards(db.session, assessment.id)],
                url_for("gradebook.entry", assessment_id=assessment.id))
    if standard_id is not None and db.session.scalar(select(SectionStandard.competency_id).where(
            SectionStandard.section_id == _section().id, SectionStandard.competency_id == standard_id)):
        return [standard_id], url_for("gradebook.grid")
    raise ServiceError("That is not one of this section's standards or assessments.")


@bp.post("/sections/<int:section_id>/comment-bank")
@roles_required(*TEACHING)
@discloses_none("saves a comment to the teacher's own bank")
def save_comment_to_bank() -> Any:
    """Keep a comment in the teacher's bank for these standards (?assessment=… or ?standard=…). The text is
    `body`, or the feedback box named by `bank_field` (the button posts the form it sits in)."""
    field = request.form.get("bank_field", "")
    body = request.form.get(field, "") if FEEDBACK_FIELD.match(field) else request.form.get("body", "")
    back = url_for("gradebook.grid")
    try:
        standards, back = bank_standards()
        new = save_to_bank(db.session, current_user, standards, body)
        db.session.commit()
        message, error = ("Saved to your comment bank." if new else "Already in your comment bank."), None
    except ServiceError as failure:
        db.session.rollback()
        message, error = failure.message, failure.message
    if is_fragment_request():
        return render_template("gradebook/_bank_status.html", message=message, error=error), 422 if error else 200
    flash(message, "error" if error else "success")
    return redirect(back, 303)
