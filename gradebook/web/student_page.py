"""A teacher's view of one student in a section: their portfolio, goals and profile, with the teacher's
narrative, notes, comments and links from portfolio entries to evidence. Joins the gradebook blueprint."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gradebook import authz
from gradebook.authz import discloses, roles_required
from gradebook.extensions import db
from gradebook.models import (
    Assessment,
    Comment,
    Competency,
    Evidence,
    Goal,
    LearnerProfile,
    Narrative,
    PortfolioEntry,
    PortfolioEntryEvidence,
    User,
    utcnow,
)
from gradebook.services import ServiceError
from gradebook.services.portfolio import load_story
from gradebook.web.gradebook import TEACHING, _enrolled_student_or_404, bp

MAX_TEXT = 5000


def comments_for(subject_type: str, ids: list[int]) -> dict[int, list[tuple[Comment, User]]]:
    out: dict[int, list[tuple[Comment, User]]] = {}
    for comment, author in db.session.execute(
            select(Comment, User).join(User, User.id == Comment.author_id)
            .where(Comment.subject_type == subject_type, Comment.subject_id.in_(ids)).order_by(Comment.created_at)):
        out.setdefault(comment.subject_id, []).append((comment, author))
    return out


@bp.route("/sections/<int:section_id>/students/<int:student_id>", methods=["GET", "POST"])
@roles_required(*TEACHING)
@discloses("teacher_student_page")
def student(student_id: int) -> Any:
    pupil = _enrolled_student_or_404(student_id)
    section = g.section
    error = None
    if request.method == "POST":
        try:
            message = _act(pupil, section.id)
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("gradebook.student", student_id=pupil.id), 303)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    story = load_story(db.session, pupil, viewer=current_user)
    narrative = db.session.scalar(select(Narrative).where(Narrative.section_id == section.id,
                                                          Narrative.student_id == pupil.id))
    entry_ids = [e.id for e, _ in story.entries]
    linked = {}
    for link, evidence in db.session.execute(
            select(PortfolioEntryEvidence, Evidence).join(Evidence, Evidence.id == PortfolioEntryEvidence.evidence_id)
            .where(PortfolioEntryEvidence.entry_id.in_(entry_ids))):
        linked.setdefault(link.entry_id, []).append(evidence)
    evidence_choices = db.session.execute(  # (evidence, assessment title, standard code), newest first
        select(Evidence, Assessment.title, Competency.code)
        .outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .join(Competency, Competency.id == Evidence.competency_id)
        .where(Evidence.section_id == section.id, Evidence.student_id == pupil.id, Evidence.deleted_at.is_(None))
        .order_by(Evidence.observed_on.desc(), Evidence.id.desc()).limit(60)).all()
    html = render_template(
        "gradebook/student.html", story=story, pupil=pupil, narrative=narrative, error=error,
        entry_comments=comments_for("entry", entry_ids), linked=linked, evidence_choices=evidence_choices,
        goal_comments=comments_for("goal", [goal.id for goal, _s, _v in story.goals]))
    return html, 422 if error else 200


def _text(name: str, label: str, *, required: bool = True) -> str:
    text = (request.form.get(name) or "").strip()
    if required and not text:
        raise ServiceError(f"Write the {label} first.")
    if len(text) > MAX_TEXT:
        raise ServiceError(f"Keep the {label} under {MAX_TEXT} characters.")
    return text


def _act(pupil: User, section_id: int) -> str:
    action = request.form.get("action")
    if action == "narrative":
        body = _text("body", "narrative", required=False)
        narrative = db.session.scalar(select(Narrative).where(Narrative.section_id == section_id,
                                                              Narrative.student_id == pupil.id))
        if narrative is None:
            db.session.add(Narrative(section_id=section_id, student_id=pupil.id, body=body,
                                     updated_by_id=current_user.id))
        else:
            if request.form.get("version", type=int) not in (None, narrative.version):
                raise ServiceError("Someone else changed this narrative since you opened it. Reload to see theirs.")
            narrative.body, narrative.updated_by_id, narrative.updated_at = body, current_user.id, utcnow()
        return "Narrative saved; it appears on the conference page."
    if action == "notes":
        notes = _text("teacher_notes", "notes", required=False)
        profile = db.session.scalar(select(LearnerProfile).where(LearnerProfile.student_id == pupil.id))
        if profile is None:
            profile = LearnerProfile(student_id=pupil.id)
            db.session.add(profile)
        profile.teacher_notes, profile.updated_at = notes, utcnow()
        return "Your notes are saved beside the student's own words."
    if action in ("comment_entry", "comment_goal"):
        subject_type = "entry" if action == "comment_entry" else "goal"
        subject_id = request.form.get("subject_id", type=int) or 0
        model = PortfolioEntry if subject_type == "entry" else Goal
        subject = db.session.get(model, subject_id)
        visible = subject is not None and subject.student_id == pupil.id and (
            subject_type == "goal" or (subject.visibility != "private" and subject.deleted_at is None))
        authz.require(visible)
        db.session.add(Comment(subject_type=subject_type, subject_id=subject_id, author_id=current_user.id,
                               body=_text("body", "comment")))
        return "Comment added."
    if action == "link":
        entry = db.session.get(PortfolioEntry, request.form.get("entry_id", type=int) or 0)
        evidence = db.session.get(Evidence, request.form.get("evidence_id", type=int) or 0)
        authz.require(entry is not None and entry.student_id == pupil.id and entry.visibility != "private")
        if evidence is None or evidence.student_id != pupil.id or evidence.section_id != section_id:
            raise ServiceError("Choose a piece of this student's evidence in this section.")
        if db.session.get(PortfolioEntryEvidence, (entry.id, evidence.id)) is None:  # type: ignore[union-attr]
            db.session.add(PortfolioEntryEvidence(entry_id=entry.id, evidence_id=evidence.id,  # type: ignore[union-attr]
                                                  linked_by_id=current_user.id))
        return "The entry is linked to that evidence."
    raise ServiceError("Unknown action.")
