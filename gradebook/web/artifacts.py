"""Serving uploaded files, only to people allowed to see what they are attached to."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user
from werkzeug.wrappers import Response

from gradebook import authz
from gradebook.authz import discloses, roles_required
from gradebook.extensions import db
from gradebook.models import ROLES, Artifact, PortfolioEntry
from gradebook.services.artifacts import INLINE_SAFE, artifact_path
from gradebook.web.downloads import send_download

bp = Blueprint("artifacts", __name__)


def can_see_artifact(artifact: Artifact) -> bool:
    if artifact.deleted_at is not None or not authz.can_view_student(current_user, artifact.owner_student_id):
        return False
    if artifact.portfolio_entry_id is not None:
        entry = db.session.get(PortfolioEntry, artifact.portfolio_entry_id)
        if entry is None or entry.deleted_at is not None:
            return False
        if current_user.id == entry.student_id:
            return True
        if current_user.role == "guardian":
            return entry.visibility == "family"
        return entry.visibility != "private"
    return True


@bp.get("/artifacts/<int:artifact_id>")
@roles_required(*ROLES)
@discloses("artifact", students=authz.artifact_owner)
def download(artifact_id: int) -> Response:
    artifact = db.session.get(Artifact, artifact_id)
    authz.require(artifact is not None and can_see_artifact(artifact))
    path = artifact_path(current_app.config["UPLOAD_FOLDER"], artifact)  # type: ignore[arg-type]
    authz.require(path.exists())
    inline = artifact.content_type in INLINE_SAFE  # type: ignore[union-attr]
    return send_download(path, name=artifact.original_name, mimetype=artifact.content_type,  # type: ignore[union-attr]
                         inline=inline, fallback=f"artifact-{artifact_id}")
