"""The student's side: their portfolio, "why this level?", the feedback loop, entries, goals, profile."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from gradebook import authz
from gradebook import proficiency as prof
from gradebook.authz import discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import (
    Artifact,
    Competency,
    Enrollment,
    Evidence,
    FeedbackRead,
    FeedbackReply,
    Goal,
    GoalCompetency,
    GoalStep,
    LearnerProfile,
    PortfolioEntry,
    PortfolioEntryStandard,
    ReassessmentRequest,
    Section,
    SectionStandard,
    utcnow,
)
from gradebook.models.base import INT32_MAX
from gradebook.services import ServiceError, StaleWrite, explain
from gradebook.services import portfolio_entries as entries
from gradebook.services.artifacts import Upload
from gradebook.services.portfolio import load_story
from gradebook.services.term_grades import term_report
from gradebook.web import refuse_writes_to_closed
from gradebook.web.forms import IdsField
from gradebook.web.i18n import local

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")


@bp.get("")
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def home() -> str:
    story = load_story(db.session, current_user, viewer=current_user)
    term_grades = term_report(db.session, current_user)
    return render_template("portfolio/home.html", story=story, viewer_role="student", term_grades=term_grades)


def why_context(student_id: int, section_id: int, competency_id: int) -> dict[str, Any]:
    """"Why this level?" for one standard: the explanation, the evidence with feedback, the what-if."""
    section = db.session.get(Section, section_id)
    enrolled = db.session.scalar(select(Enrollment.id).where(Enrollment.section_id == section_id,
                                                             Enrollment.student_id == student_id))
    assessed = db.session.scalar(select(SectionStandard.competency_id).where(
        SectionStandard.section_id == section_id, SectionStandard.competency_id == competency_id))
    authz.require(section is not None and enrolled is not None and assessed is not None)
    standard = db.session.get(Competency, competency_id)
    result = explain.for_standard(db.session, section, student_id, competency_id)  # type: ignore[arg-type]
    from gradebook.models import Assessment

    rows = db.session.execute(
        select(Evidence, Assessment).outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .where(Evidence.section_id == section_id, Evidence.student_id == student_id,
               Evidence.competency_id == competency_id, Evidence.deleted_at.is_(None))
        .order_by(Evidence.observed_on.desc(), Evidence.recorded_at.desc())).all()
    replies: dict[int, list[FeedbackReply]] = {}
    for reply in db.session.scalars(select(FeedbackReply).where(
            FeedbackReply.evidence_id.in_([e.id for e, _a in rows])).order_by(FeedbackReply.created_at)):
        replies.setdefault(reply.evidence_id, []).append(reply)
    from gradebook.models import Override
    from gradebook.services.gradebook import next_descriptor
    from gradebook.services.proficiency import scale_for

    override = db.session.scalar(select(Override).where(
        Override.section_id == section_id, Override.student_id == student_id,
        Override.competency_id == competency_id, Override.cleared_at.is_(None)))
    scale = scale_for(db.session, section)
    level = scale.level_with_points(override.level_points) if override else (
        result.level if result.score is not None else None)
    open_request = db.session.scalar(select(ReassessmentRequest.id).where(
        ReassessmentRequest.section_id == section_id, ReassessmentRequest.student_id == student_id,
        ReassessmentRequest.competency_id == competency_id, ReassessmentRequest.status == "open"))
    path = None if override or not result.count else explain.path_for(db.session, section, student_id, competency_id)
    score_files: dict[int, list[Artifact]] = {}
    for artifact in db.session.scalars(select(Artifact).where(
            Artifact.evidence_id.in_([e.id for e, _a in rows]), Artifact.deleted_at.is_(None)).order_by(Artifact.id)):
        score_files.setdefault(artifact.evidence_id, []).append(artifact)  # type: ignore[arg-type]
    return {"section": section, "standard": standard, "result": result, "rows": rows, "replies": replies,
            "score_files": score_files,
            "path_text": prof.path_sentence(path),
            "override": override, "level": level, "scale": scale, "open_request": open_request,
            "next_step": next_descriptor(db.session, competency_id, level, scale)}


@bp.get("/sections/<int:section_id>/standards/<int:competency_id>")
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def why(section_id: int, competency_id: int) -> str:
    context = why_context(current_user.id, section_id, competency_id)
    unread = [e.id for e, _a in context["rows"] if e.feedback]
    already = set(db.session.scalars(select(FeedbackRead.evidence_id).where(
        FeedbackRead.user_id == current_user.id, FeedbackRead.evidence_id.in_(unread))))
    for evidence_id in set(unread) - already:
        db.session.add(FeedbackRead(evidence_id=evidence_id, user_id=current_user.id))
    # Render first: committing expires the loaded evidence, which the template would reload row by row.
    html = render_template("portfolio/why.html", viewer_role="student", **context)
    db.session.commit()
    return html


def _own_evidence_or_404(evidence_id: int) -> Evidence:
    evidence = db.session.get(Evidence, evidence_id)
    authz.require(evidence is not None and evidence.student_id == current_user.id and evidence.deleted_at is None)
    return evidence  # type: ignore[return-value]


@bp.post("/feedback/<int:evidence_id>/reply")
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def reply(evidence_id: int) -> Response:
    evidence = _own_evidence_or_404(evidence_id)
    refuse_writes_to_closed(db.session.get(Section, evidence.section_id))
    body = (request.form.get("body") or "").strip()
    target = url_for("portfolio.why", section_id=evidence.section_id, competency_id=evidence.competency_id)
    if not body:
        flash(_("Write your reply or reflection first."), "error")
    elif len(body) > 2000:
        flash(_("Keep your reply under 2000 characters."), "error")
    else:
        db.session.add(FeedbackReply(evidence_id=evidence.id, author_id=current_user.id, body=body))
        db.session.commit()
        flash(_("Your reply is sent. Your teacher and your family can read it."), "success")
    return redirect(target + f"#evidence-{evidence.id}", 303)


@bp.post("/sections/<int:section_id>/standards/<int:competency_id>/reassessment")
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def request_reassessment(section_id: int, competency_id: int) -> Response:
    why_context(current_user.id, section_id, competency_id)  # 404 unless the student is in it
    refuse_writes_to_closed(db.session.get(Section, section_id))
    note = (request.form.get("note") or "").strip()
    target = url_for("portfolio.why", section_id=section_id, competency_id=competency_id)
    existing = db.session.scalar(select(ReassessmentRequest.id).where(
        ReassessmentRequest.section_id == section_id, ReassessmentRequest.student_id == current_user.id,
        ReassessmentRequest.competency_id == competency_id, ReassessmentRequest.status == "open"))
    if existing:
        flash(_("You already asked to show this skill again; your teacher will be in touch."), "info")
    elif not note:
        flash(_("Say what you have done since, so your teacher can plan how you show it again."), "error")
    elif len(note) > 2000:
        flash(_("Keep your note under 2000 characters."), "error")
    else:
        db.session.add(ReassessmentRequest(student_id=current_user.id, section_id=section_id,
                                           competency_id=competency_id, note=note, requested_by_id=current_user.id))
        db.session.commit()
        flash(_("Your request to show it again is with your teacher."), "success")
    return redirect(target, 303)


# ------------------------------------------------------------------ entries, goals, profile

def _my_standard_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Competency).join(SectionStandard, SectionStandard.competency_id == Competency.id)
        .join(Enrollment, Enrollment.section_id == SectionStandard.section_id)
        .where(Enrollment.student_id == current_user.id).order_by(Competency.code).distinct()).scalars().all()
    # In the reader's language where the school entered it (an option holds plain text: no language mark).
    return [(c.id, f"{c.code} {local(c, 'short_name' if c.short_name else 'statement').striptags()}") for c in rows]


FEATURE_HINT = _l("Your family sees work at the teacher meeting only when it is shared with them "
                  "(\u201cMy teachers and my family\u201d).")


class EntryForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give your work a title.")), Length(max=200)])
    reflection = TextAreaField(_l("Reflection: what does this show, and what did you learn?"),
                               validators=[Optional(), Length(max=5000)])
    # Not validate_choice: the view keeps only the student's own standards and ignores the rest, rather than
    # refusing the whole entry.
    standards = IdsField(_l("Skills it shows"), validators=[Optional()], validate_choice=False)
    visibility = SelectField(_l("Who may see it"), choices=[SelectChoice("private", _l("Only me")),
                                                        SelectChoice("teachers", _l("Me and my teachers")),
                                                        SelectChoice("family", _l("My teachers and my family"))])
    featured = BooleanField(_l("Show it at the teacher meeting"))
    file = MultipleFileField(_l("Photos, PDFs or recordings of the work (optional; you can choose several)"))


def _uploads() -> list[Upload]:
    return [Upload(f.filename, f.stream) for f in request.files.getlist("file") if f and f.filename]


def _own_entry_or_404(entry_id: int, *, removed_too: bool = False) -> PortfolioEntry:
    entry = db.session.get(PortfolioEntry, entry_id)
    authz.require(entry is not None and entry.student_id == current_user.id
                  and (removed_too or entry.deleted_at is None))
    return entry  # type: ignore[return-value]


@bp.route("/entries/new", methods=["GET", "POST"])
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def new_entry() -> Any:
    form = EntryForm()
    form.standards.choices = _my_standard_choices()
    if form.validate_on_submit():
        allowed = {cid for cid, _ in form.standards.choices}
        try:
            entries.create_entry(db.session, current_user, title=form.title.data, reflection=form.reflection.data,
                                 visibility=form.visibility.data, featured=bool(form.featured.data),
                                 standard_ids=set(form.standards.data or []) & allowed, uploads=_uploads(),
                                 folder=current_app.config["UPLOAD_FOLDER"])
        except ServiceError as error:
            db.session.rollback()
            getattr(form, "file" if error.field in (None, "files") else error.field, form.file).errors = [error.message]
        else:
            db.session.commit()
            flash(_("Added to your portfolio."), "success")
            return redirect(url_for("portfolio.home") + "#entries", 303)
    return render_template("portfolio/entry_form.html", form=form, feature_hint=FEATURE_HINT), \
        422 if request.method == "POST" else 200


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def edit_entry(entry_id: int) -> Any:
    entry = _own_entry_or_404(entry_id)
    form = EntryForm(obj=entry)
    form.standards.choices = _my_standard_choices()
    if request.method == "GET":
        form.standards.data = list(db.session.scalars(select(PortfolioEntryStandard.competency_id).where(
            PortfolioEntryStandard.entry_id == entry.id)))
    files = list(db.session.scalars(select(Artifact).where(Artifact.portfolio_entry_id == entry.id,
                                                           Artifact.deleted_at.is_(None)).order_by(Artifact.id)))
    version = request.form.get("version", type=int)
    if form.validate_on_submit():
        allowed = {cid for cid, _ in form.standards.choices}
        try:
            entries.update_entry(db.session, current_user, entry, version=version, title=form.title.data,
                                 reflection=form.reflection.data, visibility=form.visibility.data,
                                 featured=bool(form.featured.data),
                                 standard_ids=set(form.standards.data or []) & allowed, uploads=_uploads(),
                                 remove_file_ids=[i for i in request.form.getlist("remove_file", type=int)
                                                  if 1 <= i <= INT32_MAX],
                                 folder=current_app.config["UPLOAD_FOLDER"])
        except StaleWrite as error:
            db.session.rollback()
            current = db.session.get(PortfolioEntry, entry_id)
            return render_template("portfolio/entry_form.html", form=form, entry=current, files=files,
                                   stale=error.message, feature_hint=FEATURE_HINT), 409
        except ServiceError as error:
            db.session.rollback()
            getattr(form, "file" if error.field in (None, "files") else error.field, form.file).errors = [error.message]
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("portfolio.home") + f"#entry-{entry.id}", 303)
    return render_template("portfolio/entry_form.html", form=form, entry=entry, files=files,
                           feature_hint=FEATURE_HINT), 422 if request.method == "POST" else 200


@bp.post("/entries/<int:entry_id>/remove")
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def remove_entry(entry_id: int) -> Response:
    entry = _own_entry_or_404(entry_id)
    entries.remove_entry(db.session, current_user, entry)
    db.session.commit()
    flash(_("\u201c%(title)s\u201d is removed from your portfolio; nobody else sees it now. You can bring it "
            "back under \u201cRemoved work\u201d.", title=entry.title), "success")
    return redirect(url_for("portfolio.home") + "#entries", 303)


@bp.post("/entries/<int:entry_id>/restore")
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def restore_entry(entry_id: int) -> Response:
    entry = _own_entry_or_404(entry_id, removed_too=True)  # bringing back one already back is a no-op
    entries.restore_entry(db.session, current_user, entry)
    db.session.commit()
    flash(_("\u201c%(title)s\u201d is back in your portfolio, shared as before.", title=entry.title), "success")
    return redirect(url_for("portfolio.home") + f"#entry-{entry.id}", 303)


@bp.post("/entries/<int:entry_id>/feature")
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def feature_entry(entry_id: int) -> Response:
    entry = _own_entry_or_404(entry_id)
    entry.featured = not entry.featured
    entry.updated_at = utcnow()
    db.session.commit()
    return redirect(url_for("portfolio.home") + "#entries", 303)


class GoalForm(FlaskForm):
    title = StringField(_l("My goal"), validators=[DataRequired(_l("Write your goal.")), Length(max=200)])
    competencies = IdsField(_l("Skills it is about"), validators=[DataRequired(_l("Choose at least one skill."))])
    target_on = DateField(_l("By when"), validators=[Optional()])
    steps = TextAreaField(_l("Steps (one per line)"), validators=[Optional(), Length(max=3000)])


@bp.route("/goals/new", methods=["GET", "POST"])
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def new_goal() -> Any:
    form = GoalForm()
    form.competencies.choices = _my_standard_choices()
    if form.validate_on_submit():
        if form.target_on.data and form.target_on.data < date.today():
            form.target_on.errors.append(_("Choose a date from today on."))
        else:
            goal = Goal(student_id=current_user.id, title=form.title.data.strip(), target_on=form.target_on.data)
            db.session.add(goal)
            db.session.flush()
            for cid in set(form.competencies.data):
                db.session.add(GoalCompetency(goal_id=goal.id, competency_id=cid))
            lines = [line.strip() for line in (form.steps.data or "").splitlines() if line.strip()]
            for position, text in enumerate(lines[:20]):
                db.session.add(GoalStep(goal_id=goal.id, text=text[:300], position=position))
            db.session.commit()
            flash(_("Your goal is set. Your teachers and family can see it."), "success")
            return redirect(url_for("portfolio.home") + "#goals", 303)
    return render_template("portfolio/goal_form.html", form=form), 422 if request.method == "POST" else 200


@bp.post("/goals/steps/<int:step_id>/toggle")
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def toggle_step(step_id: int) -> Response:
    step = db.session.get(GoalStep, step_id)
    goal = db.session.get(Goal, step.goal_id) if step else None
    authz.require(goal is not None and goal.student_id == current_user.id)
    step.done = not step.done  # type: ignore[union-attr]
    db.session.commit()
    return redirect(url_for("portfolio.home") + "#goals", 303)


class ProfileForm(FlaskForm):
    strengths = TextAreaField(_l("My strengths"), validators=[Optional(), Length(max=2000)])
    needs = TextAreaField(_l("What I need help with"), validators=[Optional(), Length(max=2000)])
    interests = TextAreaField(_l("My interests"), validators=[Optional(), Length(max=2000)])
    learns_best = TextAreaField(_l("How I learn best"), validators=[Optional(), Length(max=2000)])


@bp.route("/profile", methods=["GET", "POST"])
@roles_required("student")
@discloses_none("the student's own record: only they reach it")
def profile() -> Any:
    record = db.session.scalar(select(LearnerProfile).where(LearnerProfile.student_id == current_user.id))
    form = ProfileForm(obj=record)
    if form.validate_on_submit():
        if record is None:
            record = LearnerProfile(student_id=current_user.id)
            db.session.add(record)
        if record.version and request.form.get("version", type=int) not in (None, record.version):
            form.strengths.errors.append(_("Your profile was changed elsewhere since you opened it. Reload to see it."))
        else:
            for name in ("strengths", "needs", "interests", "learns_best"):
                setattr(record, name, (getattr(form, name).data or "").strip())
            record.updated_at = utcnow()
            db.session.commit()
            flash(_("Your learner profile is saved."), "success")
            return redirect(url_for("portfolio.home"), 303)
    return render_template("portfolio/profile_form.html", form=form, record=record), \
        422 if request.method == "POST" else 200
