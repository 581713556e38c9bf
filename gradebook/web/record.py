"""A student's record across sections, terms and years: one row per skill (exact matches are one), the level
in each section and the overall level by the school's rule. For the student, their family, their teachers
and admins; anyone else gets a 404. Every view by someone other than the student is audited."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from gradebook import authz
from gradebook.authz import discloses, roles_required
from gradebook.extensions import db
from gradebook.services.record import load_record

bp = Blueprint("record", __name__)


@bp.get("/students/<int:student_id>/record")
@roles_required("student", "guardian", "teacher", "admin")
@discloses("record")
def page(student_id: int) -> str:
    student = authz.student_or_404(student_id)
    record = load_record(db.session, student)
    return render_template("record/page.html", record=record, own=current_user.id == student.id)
