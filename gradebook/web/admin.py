"""The admin's side: school setup (calculation policy, scale, frameworks, people, sections)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from gradebook import proficiency as prof
from gradebook.authz import discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import (
    Competency,
    Evidence,
    Framework,
    LevelDescriptor,
    PolicyChange,
    ScaleLevel,
    School,
    Section,
    User,
)
from gradebook.services import ServiceError
from gradebook.services.policy import change_school_policy, validate_policy
from gradebook.services.proficiency import DEFAULT_POLICY, scale_row_for

bp = Blueprint("admin", __name__, url_prefix="/admin")

METHOD_LABELS = {
    "decaying_average": "Decaying average (recent evidence counts most)",
    "weighted_average": "Weighted average (latest vs. the mean of the rest)",
    "average": "Average of all evidence",
    "latest": "Most recent evidence",
    "highest": "Highest score",
    "mode": "Most frequent score",
    "n_mastery": "Mastery n times (mean once n scores reach mastery)",
    "power_law": "Power law (trend of growth)",
}
ROLLUP_LABELS = {"average": "Average of its standards", "lowest": "Lowest standard",
                 "all_at_mastery": "Mastered only when every standard is"}


@bp.get("/")
@roles_required("admin")
@discloses_none("school totals: counts only")
def home() -> str:
    users_by_role = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    totals = {
        "frameworks": db.session.scalar(select(func.count()).select_from(Framework)),
        "competencies": db.session.scalar(select(func.count()).select_from(Competency)),
        "sections": db.session.scalar(select(func.count()).select_from(Section)),
        "evidence": db.session.scalar(select(func.count()).select_from(Evidence).where(Evidence.deleted_at.is_(None))),
    }
    return render_template("admin/home.html", users_by_role=users_by_role, totals=totals)


def policy_from_form(form: Any) -> dict[str, Any]:
    """Read a policy form; numbers that do not parse are reported by validate_policy."""
    def number(name: str, cast: Any) -> Any:
        raw = (form.get(name) or "").strip()
        try:
            return cast(raw)
        except ValueError:
            raise ServiceError(f"“{raw}” is not a number for {name.replace('_', ' ')}.", name) from None

    kind_weights = {}
    for kind in ("test", "project", "performance_task", "observation", "conversation", "practice"):
        raw = (form.get(f"kind_{kind}") or "").strip()
        if raw:
            try:
                kind_weights[kind] = float(raw)
            except ValueError:
                raise ServiceError(f"“{raw}” is not a weight for {kind.replace('_', ' ')}.", "kind_weights") from None
    data = {"method": form.get("method", ""), "weight": number("weight", float), "n": number("n", int),
            "min_evidence": number("min_evidence", int), "rollup": form.get("rollup", ""),
            "kind_weights": kind_weights}
    return validate_policy(data)


@bp.route("/policy", methods=["GET", "POST"])
@roles_required("admin")
@discloses_none("the school's calculation policy; its preview is counts")
def policy() -> Any:
    school = db.session.scalar(select(School).limit(1))
    current = {**DEFAULT_POLICY, **(school.default_policy if school else {})}
    preview, error, proposed = None, None, None
    if request.method == "POST":
        try:
            if school is None:
                raise ServiceError("Set up the school first.")
            proposed = policy_from_form(request.form)
            if request.form.get("apply") == "1":
                change_school_policy(db.session, current_user, proposed,
                                     expected_version=request.form.get("version", type=int), recompute_cache=False)
                return _recompute_in_background("The school's policy is changed")
            preview = school_preview(proposed)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    history = db.session.execute(
        select(PolicyChange, User).join(User, User.id == PolicyChange.changed_by_id)
        .where(PolicyChange.section_id.is_(None)).order_by(PolicyChange.changed_at.desc()).limit(10)).all()
    status = 422 if error else 200
    return render_template("admin/policy.html", policy=proposed or current, preview=preview, error=error,
                           methods=METHOD_LABELS, rollups=ROLLUP_LABELS, history=history, school=school), status


@bp.post("/record-rule")
@roles_required("admin")
@discloses_none("sets how the record gives an overall level, then redirects")
def record_rule() -> Any:
    from gradebook.services.record import set_record_rule

    try:
        set_record_rule(db.session, current_user, request.form.get("rule") or "")
        db.session.commit()
        flash("The record's overall level follows the new rule.", "success")
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("admin.policy"), 303)


def _recompute_in_background(what: str) -> Any:
    """Commit the change with a queued school-wide recompute, and show its progress (a job: it can outlast
    a request in a large school)."""
    from flask import current_app

    from gradebook.interop import queue, school_jobs

    job = school_jobs.create(db.session, kind="recompute", actor=current_user, reason=what)
    job_id = job.id
    db.session.commit()
    queue.enqueue(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    flash(f"{what}; every section's levels are being recomputed from the evidence. No evidence was touched.",
          "success")
    return redirect(url_for("admin.job", job_id=job_id), 303)


def school_preview(proposed: dict[str, Any]) -> dict[str, int]:
    """How many levels would move in every section that follows the school default (writing nothing)."""
    from gradebook.services.policy import preview_section_policy

    totals = {"up": 0, "down": 0, "same": 0, "gained": 0, "lost": 0}
    for section in db.session.scalars(select(Section).where(Section.policy.is_(None))):
        p = preview_section_policy(db.session, section, proposed)
        for key in totals:
            totals[key] += getattr(p, key)
    return totals


@bp.get("/frameworks")
@roles_required("admin")
@discloses_none("frameworks and standards")
def frameworks() -> str:
    rows = db.session.execute(
        select(Framework, func.count(Competency.id)).outerjoin(Competency, Competency.framework_id == Framework.id)
        .group_by(Framework.id).order_by(Framework.title)).all()
    return render_template("admin/frameworks.html", rows=rows)


@bp.get("/frameworks/<int:framework_id>")
@roles_required("admin")
@discloses_none("frameworks and standards")
def framework(framework_id: int) -> str:
    framework = db.get_or_404(Framework, framework_id)
    items = list(db.session.scalars(select(Competency).where(Competency.framework_id == framework.id)
                                    .order_by(Competency.position, Competency.code)))
    children: dict[int | None, list[Competency]] = {}
    for item in items:
        children.setdefault(item.parent_id, []).append(item)
    descriptors: dict[int, list[LevelDescriptor]] = {}
    for d in db.session.scalars(select(LevelDescriptor).where(
            LevelDescriptor.competency_id.in_([i.id for i in items])).order_by(LevelDescriptor.points.desc())):
        descriptors.setdefault(d.competency_id, []).append(d)
    return render_template("admin/framework.html", framework=framework, children=children, descriptors=descriptors)


@bp.route("/competencies/<int:competency_id>", methods=["GET", "POST"])
@roles_required("admin")
@discloses_none("frameworks and standards")
def competency(competency_id: int) -> Any:
    item = db.get_or_404(Competency, competency_id)
    scale = scale_row_for(db.session, None)
    levels = list(db.session.scalars(select(ScaleLevel).where(ScaleLevel.scale_id == scale.id)
                                     .order_by(ScaleLevel.points.desc())))
    existing = {d.points: d for d in db.session.scalars(
        select(LevelDescriptor).where(LevelDescriptor.competency_id == item.id))}
    errors: list[str] = []
    translation_keys = [("competencies", item.id, "statement"), ("competencies", item.id, "short_name")] + [
        ("level_descriptors", d.id, "description") for d in existing.values()]
    if request.method == "POST" and request.form.get("action") == "translations":
        saved = _save_translations(translation_keys)
        if saved is None:
            return redirect(url_for("admin.competency", competency_id=item.id), 303)
        errors.append(saved)
    elif request.method == "POST":
        statement = (request.form.get("statement") or "").strip()
        short = (request.form.get("short_name") or "").strip()
        if not statement:
            errors.append("The statement cannot be empty.")
        if len(statement) > 2000 or len(short) > 255:
            errors.append("The statement is limited to 2000 characters and the short name to 255.")
        texts = {lv.points: (request.form.get(f"level_{lv.points:g}") or "").strip() for lv in levels}
        if any(len(t) > 2000 for t in texts.values()):
            errors.append("Each level descriptor is limited to 2000 characters.")
        if not errors:
            item.statement, item.short_name = statement, short or None
            for points, text in texts.items():
                if text and points in existing:
                    existing[points].description = text
                elif text:
                    db.session.add(LevelDescriptor(competency_id=item.id, points=points, description=text))
                elif points in existing:
                    db.session.delete(existing[points])
            db.session.commit()
            flash(f"{item.code} saved.", "success")
            return redirect(url_for("admin.framework", framework_id=item.framework_id), 303)
    return render_template("admin/competency.html", item=item, levels=levels, existing=existing,
                           links=_links_of(item), translations=_translation_forms(translation_keys),
                           errors=errors, form=request.form if errors else None), 422 if errors else 200


@bp.route("/scale", methods=["GET", "POST"])
@roles_required("admin")
@discloses_none("the proficiency scale")
def scale() -> Any:
    row = scale_row_for(db.session, None)
    levels = list(db.session.scalars(select(ScaleLevel).where(ScaleLevel.scale_id == row.id)
                                     .order_by(ScaleLevel.points.desc())))
    error = None
    translation_keys = [("scale_levels", lv.id, field) for lv in levels for field in ("label", "description")]
    if request.method == "POST" and request.form.get("action") == "translations":
        error = _save_translations(translation_keys)
        if error is None:
            return redirect(url_for("admin.scale"), 303)
    elif request.method == "POST":
        try:
            if request.form.get("version", type=int) not in (None, row.version):
                raise ServiceError(STALE_SCALE)
            new_levels = _levels_from_form(levels)
            for level, (label, colour, description, is_mastery) in zip(levels, new_levels, strict=True):
                level.label, level.colour, level.description, level.is_mastery = label, colour, description, is_mastery
            flag_modified(row, "name")  # the scale's version counts its levels' changes: a second admin is refused
            try:
                db.session.flush()
            except StaleDataError:
                raise ServiceError(STALE_SCALE) from None
            return _recompute_in_background("The scale is saved")
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    return render_template("admin/scale.html", scale=row, levels=levels, error=error,
                           translations=_translation_forms(translation_keys)), 422 if error else 200


def _translation_forms(keys: list[tuple[str, int, str]]) -> list[tuple[str, str, dict[tuple[str, int, str], str]]]:
    """(language, its name, the texts entered, or typed when the form comes back) for each shipped language
    other than the school's own."""
    from flask import current_app

    from gradebook.models import LANGUAGE_NAMES, LANGUAGES
    from gradebook.services.translations import translations_of

    out = []
    for language in LANGUAGES:
        if language == current_app.config.get("SCHOOL_LANGUAGE", "en"):
            continue
        texts = translations_of(db.session, language, keys)
        if request.method == "POST" and request.form.get("language") == language:
            texts = {key: request.form.get(_translation_field(key), "") for key in keys}
        out.append((language, LANGUAGE_NAMES[language], texts))
    return out


def _translation_field(key: tuple[str, int, str]) -> str:
    return "tr-{}-{}-{}".format(*key)


def _save_translations(keys: list[tuple[str, int, str]]) -> str | None:
    """Save the translations form of the page (only its own keys); None when saved, else the reason."""
    from gradebook.services.translations import save_translations

    texts = {key: request.form.get(_translation_field(key), "") for key in keys
             if _translation_field(key) in request.form}
    try:
        changed = save_translations(db.session, current_user, request.form.get("language", ""), texts)
    except ServiceError as failure:
        db.session.rollback()
        return failure.message
    db.session.commit()
    flash(f"Translations saved ({changed} changed).", "success")
    return None


STALE_SCALE = ("Someone else changed the scale since you opened it. Reload the page to see their change "
               "(what you typed is still below).")


def _levels_from_form(levels: list[ScaleLevel]) -> list[tuple[str, str, str, bool]]:
    mastery = request.form.get("mastery", type=float)
    out = []
    for level in levels:
        key = f"{level.points:g}"
        label = (request.form.get(f"label_{key}") or "").strip()
        colour = (request.form.get(f"colour_{key}") or "").strip()
        description = (request.form.get(f"description_{key}") or "").strip()
        out.append((label, colour, description, mastery == level.points))
    try:
        prof.Scale([prof.Level(points=lv.points, label=label, colour=colour, is_mastery=m, description=d)
                    for lv, (label, colour, d, m) in zip(levels, out, strict=True)])
    except (TypeError, ValueError) as error:
        raise ServiceError(str(error)) from error
    if len({label.lower() for label, *_ in out}) != len(out):
        raise ServiceError("Each level needs its own label.")
    return out


def _links_of(item: Competency) -> list[tuple[str, str, Competency | None]]:
    """The standard's CASE links (exactMatchOf crosswalks, isRelatedTo, either way round): (kind, label, target)."""
    from gradebook.models import Crosswalk

    out: list[tuple[str, str, Competency | None]] = []
    names = {"exactMatchOf": "Same as", "isRelatedTo": "Related to"}
    for row in db.session.scalars(select(Crosswalk).where(Crosswalk.competency_id == item.id).order_by(Crosswalk.id)):
        target = db.session.get(Competency, row.target_competency_id) if row.target_competency_id else None
        label = f"{target.code}: {target.statement}" if target else (row.target_label or row.target_identifier)
        out.append((names.get(row.kind, row.kind), label, target))
    for row in db.session.scalars(select(Crosswalk).where(Crosswalk.target_competency_id == item.id,
                                                          Crosswalk.kind == "isRelatedTo").order_by(Crosswalk.id)):
        origin = db.session.get(Competency, row.competency_id)
        if origin is not None:
            out.append(("Related to", f"{origin.code}: {origin.statement}", origin))
    return out
