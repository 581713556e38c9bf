"""Learning paths: the blueprint shared by the student pages (paths_student.py), with what every role uses:
an activity's attached file. The teacher's pages are their own section-scoped blueprint (paths_teacher.py)."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from gradebook import authz
from gradebook.authz import discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import ROLES, Activity, Artifact, Enrollment, GuardianLink
from gradebook.services.artifacts import INLINE_SAFE, artifact_path
from gradebook.web.downloads import send_download

bp = Blueprint("paths", __name__)


def can_see_activity(activity: Activity) -> bool:
    """Teachers of its section (and admins), students in it, and their guardians."""
    if activity.deleted_at is not None:
        return False
    if current_user.role in ("teacher", "admin"):
        return authz.teaches_section(current_user, activity.section_id)
    if current_user.role == "student":
        return db.session.scalar(select(Enrollment.id).where(
            Enrollment.section_id == activity.section_id, Enrollment.student_id == current_user.id,
            Enrollment.active.is_(True)).limit(1)) is not None
    if current_user.role == "guardian":
        return db.session.scalar(select(Enrollment.id).join(
            GuardianLink, GuardianLink.student_id == Enrollment.student_id).where(
            Enrollment.section_id == activity.section_id, GuardianLink.guardian_id == current_user.id,
            Enrollment.active.is_(True)).limit(1)) is not None
    return False


@bp.get("/activities/<int:activity_id>/file")
@roles_required(*ROLES)
@discloses_none("a teacher's activity file; no student record")
def activity_file(activity_id: int) -> Response:
    activity = db.session.get(Activity, activity_id)
    authz.require(activity is not None and activity.artifact_id is not None and can_see_activity(activity))
    artifact = db.session.get(Artifact, activity.artifact_id)  # type: ignore[union-attr]
    authz.require(artifact is not None and artifact.deleted_at is None)
    path = artifact_path(current_app.config["UPLOAD_FOLDER"], artifact)  # type: ignore[arg-type]
    authz.require(path.exists())
    inline = artifact.content_type in INLINE_SAFE  # type: ignore[union-attr]
    return send_download(path, name=artifact.original_name, mimetype=artifact.content_type,  # type: ignore[union-attr]
                         inline=inline, fallback=f"activity-{activity_id}")
