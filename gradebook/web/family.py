"""The family's side: their children, in plain words; and the conference page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from gradebook import authz
from gradebook.authz import discloses, discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import Comment, Goal, GuardianLink, User
from gradebook.services.path_views import family_summary
from gradebook.services.portfolio import load_story
from gradebook.services.term_grades import term_report
from gradebook.web.downloads import send_download
from gradebook.web.portfolio import why_context

bp = Blueprint("family", __name__)


@bp.url_value_preprocessor
def _pull_student_id(_endpoint: str | None, values: dict | None) -> None:
    g.student_id = values.get("student_id") if values else None


@bp.before_request
def _load_student() -> None:
    """The child in the URL is loaded and authorised once: another family's child is a 404."""
    if g.student_id is not None:
        g.student = authz.student_or_404(g.student_id)


def _render_then_commit(template: str, **context: object) -> str:
    """Render before any commit (the audit rows are committed after the view answers): a commit expires every
    loaded object, and the template would then reload the story row by row (one query per piece of feedback)."""
    html = render_template(template, **context)
    db.session.commit()
    return html


@bp.get("/family")
@roles_required("guardian")
@discloses("family_home", students=authz.guardians_children)
def home() -> str:
    children = list(db.session.scalars(
        select(User).join(GuardianLink, GuardianLink.student_id == User.id)
        .where(GuardianLink.guardian_id == current_user.id).order_by(User.name)))
    stories = [load_story(db.session, child, viewer=current_user, family_only=True, feedback_limit=3)
               for child in children]
    paces = {story.student.id: family_summary(db.session, story.student, story.sections).sentence
             for story in stories}
    return render_template("family/home.html", stories=stories, paces=paces)


@bp.get("/family/children/<int:student_id>")
@roles_required("guardian")
@discloses("family_page")
def child(student_id: int) -> str:
    story = load_story(db.session, g.student, viewer=current_user, family_only=True)
    paths = family_summary(db.session, g.student, story.sections)
    term_grades = term_report(db.session, g.student, name=g.student.first_name)
    return _render_then_commit("family/child.html", story=story, paths=paths, term_grades=term_grades)


@bp.get("/family/children/<int:student_id>/sections/<int:section_id>/standards/<int:competency_id>")
@roles_required("guardian")
@discloses("why")
def why(student_id: int, section_id: int, competency_id: int) -> str:
    context = why_context(student_id, section_id, competency_id)
    return _render_then_commit("portfolio/why.html", viewer_role="guardian", student=g.student, **context)


@bp.post("/family/children/<int:student_id>/goals/<int:goal_id>/comments")
@roles_required("guardian")
@discloses_none("saves a comment and redirects")
def comment_goal(student_id: int, goal_id: int) -> Response:
    """Family can see and comment on their child's goals."""
    goal = db.session.get(Goal, goal_id)
    authz.require(goal is not None and goal.student_id == g.student.id)
    body = (request.form.get("body") or "").strip()
    if not body:
        flash(_("Write your comment first."), "error")
    elif len(body) > 2000:
        flash(_("Keep your comment under 2000 characters."), "error")
    else:
        db.session.add(Comment(subject_type="goal", subject_id=goal_id, author_id=current_user.id, body=body))
        db.session.commit()
        flash(_("Your comment is on %(name)s's goal.", name=g.student.first_name), "success")
    return redirect(url_for("family.child", student_id=student_id), 303)


@bp.get("/students/<int:student_id>/record.html")
@roles_required("student", "guardian", "teacher", "admin")
@discloses("record_export")
def record(student_id: int) -> Response:
    """The student's full record as one file a family can keep."""
    from gradebook.interop.export import student_record
    from gradebook.web.i18n import record_words

    html = student_record(db.session, g.student, own=current_user.id == g.student.id,
                          upload_folder=current_app.config["UPLOAD_FOLDER"], words=record_words())
    db.session.commit()
    name = g.student.name.replace(" ", "-").lower()
    return send_download(html, name=f"{name}-record.html", mimetype="text/html", fallback="record.html")


@bp.get("/students/<int:student_id>/conference")
@roles_required("guardian", "teacher", "admin")
@discloses("conference")
def conference(student_id: int) -> str:
    story = load_story(db.session, g.student, viewer=current_user, family_only=current_user.role == "guardian")
    paths = family_summary(db.session, g.student, story.sections)
    return _render_then_commit("family/conference.html", story=story, paths=paths)
