"""The admin's side: school setup (calculation policy, scale, frameworks, people, sections)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from gradebook import proficiency as prof
from gradebook.authz import ADMIN_SCHOOL_KEY, admin_scope, discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import (
    Competency,
    Evidence,
    Framework,
    LevelDescriptor,
    ProficiencyScale,
    ScaleLevel,
    School,
    Section,
    User,
)
from gradebook.services import ServiceError
from gradebook.services.policy import change_school_policy, validate_policy
from gradebook.services.proficiency import DEFAULT_POLICY, scale_row_for, school_policy
from gradebook.services.schools import all_schools, district

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


# ---------------------------------------------------------------- schools: the picker

@bp.before_request
def _pick_school() -> None:
    """`?school=<id>` on any admin page narrows the admin's lists to that school (`?school=` : all of the
    admin's schools); the choice is kept in the session. A school the admin does not have is ignored."""
    if "school" not in request.args or not getattr(current_user, "is_authenticated", False) \
            or current_user.role != "admin":
        return
    chosen = request.args.get("school", type=int)
    if chosen is not None and admin_scope().sees_school(chosen) and db.session.get(School, chosen) is not None:
        session[ADMIN_SCHOOL_KEY] = chosen
    else:
        session.pop(ADMIN_SCHOOL_KEY, None)
    g.pop("_admin_scope", None)


@bp.context_processor
def _school_picker() -> dict[str, Any]:
    def school_picker() -> dict[str, Any] | None:
        """The picker's schools and choice: a district admin's every school; a school admin's own schools
        (no picker when they have one)."""
        if "_school_picker" in g:
            return g._school_picker  # type: ignore[no-any-return]
        g._school_picker = _picker()
        return g._school_picker  # type: ignore[no-any-return]

    def _picker() -> dict[str, Any] | None:
        scope = admin_scope()
        if scope.district:
            schools = all_schools(db.session)
        else:
            schools = list(db.session.scalars(select(School).where(School.id.in_(scope.school_ids or []))
                                              .order_by(School.name)))
            if len(schools) < 2:
                return {"schools": schools, "chosen": scope.chosen, "district": False, "fixed": True}
        return {"schools": schools, "chosen": scope.chosen, "district": scope.district, "fixed": False}

    def several_schools() -> bool:
        return bool(db.session.scalar(select(func.count()).select_from(School)) > 1)

    return {"school_picker": school_picker, "several_schools": several_schools}


@bp.get("/")
@roles_required("admin")
@discloses_none("school totals: counts only")
def home() -> str:
    scope = admin_scope()
    users_by_role = dict(db.session.execute(scope.users(select(User.role, func.count()).group_by(User.role))).all())
    frameworks = scope.frameworks(select(Framework.id))
    totals = {
        "frameworks": db.session.scalar(select(func.count()).select_from(frameworks.subquery())),
        "competencies": db.session.scalar(select(func.count()).select_from(Competency)
                                          .where(Competency.framework_id.in_(frameworks))),
        "sections": db.session.scalar(scope.sections(select(func.count()).select_from(Section))),
        "evidence": db.session.scalar(select(func.count()).select_from(Evidence).where(
            Evidence.deleted_at.is_(None), Evidence.section_id.in_(scope.sections(select(Section.id))))
            if scope.shown is not None else
            select(func.count()).select_from(Evidence).where(Evidence.deleted_at.is_(None))),
    }
    return render_template("admin/home.html", users_by_role=users_by_role, totals=totals)


def settings_target() -> tuple[School | None, bool]:
    """What the policy and scale pages change: (the school, False), or (None, True) for the district default.
    The school picked; else a school admin's first school; else, with one school, that school (as before
    there were several); else the district default (every school without its own follows it)."""
    scope = admin_scope()
    school_id = scope.school_for_new
    if school_id is None and not scope.district:
        school_id = min(scope.school_ids or {0})
    if school_id is not None:
        return db.session.get(School, school_id), False
    schools = db.session.scalars(select(School).order_by(School.id).limit(2)).all()
    if len(schools) == 1:
        return schools[0], False
    return None, bool(schools)


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
    school, is_district = settings_target()
    the_district = district(db.session) if is_district else None
    if is_district:
        current = {**DEFAULT_POLICY, **(the_district.default_policy if the_district else {})}
    else:
        current = school_policy(db.session, school.id) if school else dict(DEFAULT_POLICY)
    preview, error, proposed = None, None, None
    if request.method == "POST":
        try:
            if school is None and not is_district:
                raise ServiceError("Set up the school first.")
            if request.form.get("apply") == "district" and school is not None:  # follow the district's again
                change_school_policy(db.session, current_user, None, school=school,
                                     expected_version=request.form.get("version", type=int), recompute_cache=False)
                return _recompute_in_background(f"{school.name} follows the district's policy", school)
            proposed = policy_from_form(request.form)
            if request.form.get("apply") == "1":
                change_school_policy(db.session, current_user, proposed, school=school, district=is_district,
                                     expected_version=request.form.get("version", type=int), recompute_cache=False)
                return _recompute_in_background("The district's default policy is changed" if is_district
                                                else "The school's policy is changed", school)
            preview = school_preview(proposed, school)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    from gradebook.models import PolicyChange as Change

    history = db.session.execute(
        select(Change, User).join(User, User.id == Change.changed_by_id)
        .where(Change.section_id.is_(None),
               Change.school_id.is_(None) if is_district else Change.school_id == (school.id if school else None))
        .order_by(Change.changed_at.desc()).limit(10)).all()
    status = 422 if error else 200
    return render_template("admin/policy.html", policy=proposed or current, preview=preview, error=error,
                           methods=METHOD_LABELS, rollups=ROLLUP_LABELS, history=history,
                           school=the_district if is_district else school, is_district=is_district,
                           own_policy=bool(school.default_policy) if school is not None else False), status


def _recompute_in_background(what: str, school: School | None = None) -> Any:
    """Commit the change with a queued recompute of the sections it reaches (the school's; every section for
    the district's default), and show its progress (a job: it can outlast a request in a large school)."""
    from flask import current_app

    from gradebook.interop import queue, school_jobs

    job = school_jobs.create(db.session, kind="recompute", actor=current_user, reason=what,
                             school_id=school.id if school is not None else None)
    job_id = job.id
    db.session.commit()
    queue.enqueue(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    where = f"every section of {school.name}" if school is not None else "every section"
    flash(f"{what}; the levels of {where} are being recomputed from the evidence. No evidence was touched.",
          "success")
    return redirect(url_for("admin.job", job_id=job_id), 303)


def school_preview(proposed: dict[str, Any], school: School | None = None) -> dict[str, int]:
    """How many levels would move in every section that follows the school default (writing nothing): the
    school's sections, or every section for the district's default."""
    from gradebook.services.policy import preview_section_policy

    totals = {"up": 0, "down": 0, "same": 0, "gained": 0, "lost": 0}
    query = select(Section).where(Section.policy.is_(None))
    if school is not None:
        query = query.where(Section.school_id == school.id)
    for section in db.session.scalars(query):
        p = preview_section_policy(db.session, section, proposed)
        for key in totals:
            totals[key] += getattr(p, key)
    return totals


@bp.get("/frameworks")
@roles_required("admin")
@discloses_none("frameworks and standards")
def frameworks() -> str:
    rows = db.session.execute(admin_scope().frameworks(
        select(Framework, func.count(Competency.id)).outerjoin(Competency, Competency.framework_id == Framework.id)
        .group_by(Framework.id).order_by(Framework.title))).all()
    return render_template("admin/frameworks.html", rows=rows)


@bp.get("/frameworks/<int:framework_id>")
@roles_required("admin")
@discloses_none("frameworks and standards")
def framework(framework_id: int) -> str:
    framework = admin_scope().framework_or_404(framework_id)
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
    framework = admin_scope().framework_or_404(item.framework_id)
    if request.method == "POST" and not admin_scope().may_change_framework(framework):
        flash("This framework is the district's: a district admin changes it.", "error")
        return redirect(url_for("admin.competency", competency_id=item.id), 303)
    scale = scale_row_for(db.session, None, school_id=admin_scope().school_for_new)
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
    school, is_district = settings_target()
    if is_district:
        the_district = district(db.session)
        row = (db.session.get(ProficiencyScale, the_district.default_scale_id)
               if the_district is not None and the_district.default_scale_id else None) or scale_row_for(db.session, None)
    else:
        row = scale_row_for(db.session, None, school_id=school.id if school else None)
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
            if school is not None and _scale_shared(row, school):  # the school's scale becomes its own
                row, levels = _own_copy(row, levels, school)
            for level, (label, colour, description, is_mastery) in zip(levels, new_levels, strict=True):
                level.label, level.colour, level.description, level.is_mastery = label, colour, description, is_mastery
            flag_modified(row, "name")  # the scale's version counts its levels' changes: a second admin is refused
            try:
                db.session.flush()
            except StaleDataError:
                raise ServiceError(STALE_SCALE) from None
            return _recompute_in_background("The scale is saved", school)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    return render_template("admin/scale.html", scale=row, levels=levels, error=error, school=school,
                           is_district=is_district,
                           translations=_translation_forms(translation_keys)), 422 if error else 200


def _scale_shared(row: ProficiencyScale, school: School) -> bool:
    """Whether another school (its own default, or following the district's) or another school's section
    uses this scale: then a change for this school goes to a copy of its own."""
    from sqlalchemy import exists, or_

    the_district = district(db.session)
    district_scale = the_district.default_scale_id if the_district is not None else None
    inherits = School.default_scale_id.is_(None) if district_scale == row.id else False
    return bool(db.session.scalar(select(
        exists().where(School.id != school.id, or_(School.default_scale_id == row.id, inherits))
        | exists().where(Section.scale_id == row.id, Section.school_id != school.id))))


def _own_copy(row: ProficiencyScale, levels: list[ScaleLevel], school: School) -> tuple[ProficiencyScale,
                                                                                       list[ScaleLevel]]:
    """A copy of the scale for the school alone (the form's values are then written to it)."""
    copy = ProficiencyScale(name=f"{row.name} ({school.name})"[:120], allow_decimals=row.allow_decimals)
    copies = [ScaleLevel(points=lv.points, label=lv.label, colour=lv.colour, is_mastery=lv.is_mastery,
                         description=lv.description) for lv in levels]
    copy.levels.extend(copies)
    db.session.add(copy)
    db.session.flush()
    school.default_scale_id = copy.id
    return copy, copies


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
    for lv, (label, colour, _d, m) in zip(levels, out, strict=True):
        _refuse_unreadable(prof.Level(points=lv.points, label=label, colour=colour, is_mastery=m))
    return out


def _refuse_unreadable(level: prof.Level) -> None:
    """A level's badge text (white or near-black, whichever reads better) must meet WCAG AA on its colour."""
    ratio = level.text_contrast
    if ratio < prof.AA_CONTRAST:
        ink = "white" if level.text_colour == prof.WHITE else "near-black"
        raise ServiceError(
            f"Level {level.points:g} “{level.label}”: its colour {level.colour} gives its text ({ink}) a contrast of "
            f"only {ratio:.2f}:1; WCAG AA needs at least {prof.AA_CONTRAST:g}:1. Choose a darker or a lighter "
            "colour.")


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
