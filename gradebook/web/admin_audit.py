"""A student's audit log for the admin: who saw their record, and who changed who may see it (FERPA's record
of disclosures, 34 CFR §99.32). Routes join the admin blueprint."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select

from gradebook.authz import admin_scope, discloses, roles_required, user_page_students
from gradebook.extensions import db
from gradebook.models import User
from gradebook.services.audit import log_for_student
from gradebook.web.admin import bp

LIMIT = 500
WHAT = {
    "view.grid": "saw the mastery grid", "view.grid_csv": "exported the grid as CSV",
    "view.reteach": "saw the reteach groups", "view.entry_sheet": "saw the entry sheet",
    "view.entry_cell": "saw a cell of the entry sheet", "view.cell_detail": "saw a standard's evidence",
    "view.teacher_student_page": "saw the teacher's student page", "view.my_sections": "saw a reply on the landing page",
    "view.family_home": "saw the family home", "view.family_page": "saw the family page",
    "view.why": "saw why a level is what it is", "view.conference": "saw the conference page",
    "view.record_export": "downloaded the full record", "view.artifact": "opened an uploaded file",
    "view.user_page": "saw the account page", "view.section_roster": "saw a section's class list",
    "view.school_export": "exported the whole school", "view.audit_log": "saw this audit log",
    "guardian.link": "linked a guardian", "guardian.unlink": "removed a guardian's link",
    "enrollment.add": "enrolled the student in a section", "enrollment.remove": "removed the student from a section",
    "user.set_password_link": "made a one-time set-password link", "override.set": "set a teacher judgement",
    "override.clear": "cleared a teacher judgement",
}


@bp.get("/users/<int:user_id>/audit")
@roles_required("admin")
@discloses("audit_log", students=user_page_students)
def audit_log(user_id: int) -> str:
    student = admin_scope().user_or_404(user_id)
    if student.role != "student":
        abort(404)
    events = log_for_student(db.session, student.id, limit=LIMIT)
    actors = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({e.actor_id for e in events if e.actor_id is not None})))}
    return render_template("admin/audit.html", student=student, events=events, actors=actors, what=WHAT, limit=LIMIT)
