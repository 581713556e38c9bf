"""Setup of people and classes: users, guardian links, terms, sections, their standards and enrollments.

Routes join the admin blueprint.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, or_, select

from gradebook.authz import (
    admin_scope,
    discloses,
    discloses_none,
    roles_required,
    section_roster,
    user_page_students,
)
from gradebook.extensions import db
from gradebook.interop.mail_out import email_set_password_link
from gradebook.models import (
    LANGUAGE_NAMES,
    LANGUAGES,
    ROLES,
    AuditEvent,
    Enrollment,
    GuardianLink,
    Section,
    SectionTeacher,
    Term,
    User,
)
from gradebook.services import ServiceError
from gradebook.services.accounts import create_user, find_user_by_email, issue_set_password_link
from gradebook.services.audit import record_change
from gradebook.services.proficiency import recompute
from gradebook.services.schools import add_members
from gradebook.web import refuse_writes_to_closed
from gradebook.web.admin import bp
from gradebook.web.admin_section_standards import save_section_standards, standards_picker

PAGE = 50


def _hand_over_link(user: User, token: str) -> str:
    """E-mail the set-password link to an account that has an address (the admin never sees it); show it only
    for an account without one (young students), to give in person."""
    url = url_for("auth.set_password", token=token, _external=True)
    if user.email:
        where = email_set_password_link(db.session, user, url)
        note = "" if where.startswith("sent") else f" (no mail server is set up: the e-mail was {where})"
        return f"A one-time set-password link (valid 14 days) was e-mailed to {user.email}{note}."
    return f"{user.name} has no e-mail address: give them this one-time set-password link (valid 14 days): {url}"


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
@discloses_none("the account directory: names, emails, roles (directory information)")
def users() -> Any:
    error = None
    if request.method == "POST":
        try:
            scope, role = admin_scope(), request.form.get("role", "")
            school_id = scope.school_for_new
            if school_id is None and role != "admin":
                school_id = _the_only_school()
            user = create_user(db.session, email=request.form.get("email", ""), name=request.form.get("name", ""),
                               role=role, actor=current_user)
            # An admin made with a school chosen is that school's admin; with none (a district admin's
            # "all schools"), a district admin.
            user.district_admin = role == "admin" and scope.school_for_new is None
            add_members(db.session, user.id, [school_id])
            token = issue_set_password_link(db.session, user, actor=current_user)
            flash(f"Account created for {user.name}. " + _hand_over_link(user, token), "success")
            db.session.commit()
            return redirect(url_for("admin.user", user_id=user.id), 303)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    q = (request.args.get("q") or "").strip()[:100]
    page = max(request.args.get("page", 1, type=int), 1)
    query = admin_scope().users(select(User).order_by(User.name))
    if role:
        query = query.where(User.role == role)
    if q:
        query = query.where(or_(User.name.ilike(f"%{q}%"), User.email.ilike(f"%{q}%"), User.username.ilike(f"%{q}%")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(db.session.scalars(query.limit(PAGE).offset((page - 1) * PAGE)))
    return render_template("admin/users.html", rows=rows, role=role, q=q, page=page, total=total, pages=(total + PAGE - 1) // PAGE,
                           roles=ROLES, error=error, form=request.form if error else {}), 422 if error else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
@discloses("user_page", students=user_page_students)
def user(user_id: int) -> Any:
    scope = admin_scope()
    person = scope.user_or_404(user_id)
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "active":
                if person.id == current_user.id:
                    raise ServiceError("You cannot switch off your own account.")
                person.active = not person.active
                db.session.add(AuditEvent(actor_id=current_user.id, action="user.active", target_type="user",
                                          target_id=person.id, detail={"active": person.active}))
                message = f"{person.name} is {'active' if person.active else 'switched off'}."
            elif action == "link":
                other = find_user_by_email(db.session, request.form.get("email", ""))
                if other is not None and not scope.has_user(other.id):
                    other = None  # another school's person is not found from here
                guardian, student = (person, other) if person.role == "guardian" else (other, person)
                if other is None:
                    raise ServiceError("No account has that email.")
                if guardian is None or student is None or guardian.role != "guardian" or student.role != "student":
                    raise ServiceError("A link joins a guardian to a student.")
                if db.session.scalar(select(GuardianLink.id).where(GuardianLink.guardian_id == guardian.id,
                                                                   GuardianLink.student_id == student.id)):
                    raise ServiceError(f"{guardian.name} is already linked to {student.name}.")
                db.session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id))
                _join_schools_of(guardian.id, student.id)  # a guardian belongs to their children's schools
                record_change(db.session, current_user, "guardian.link", student_id=student.id, target_type="user",
                              target_id=guardian.id, ip=request.remote_addr)
                message = f"{guardian.name} is now linked to {student.name}."
            elif action == "unlink":
                link = db.session.get(GuardianLink, request.form.get("link_id", type=int) or 0)
                if link is None or person.id not in (link.guardian_id, link.student_id):
                    raise ServiceError("That link is not here any more.")
                db.session.delete(link)
                record_change(db.session, current_user, "guardian.unlink", student_id=link.student_id,
                              target_type="user", target_id=link.guardian_id, ip=request.remote_addr)
                message = "Link removed."
            elif action == "language":
                language = request.form.get("language") or None
                if language is not None and language not in LANGUAGES:
                    raise ServiceError(f"Choose one of: {', '.join(LANGUAGE_NAMES.values())}, or the browser's.")
                person.language = language
                db.session.add(AuditEvent(actor_id=current_user.id, action="user.language", target_type="user",
                                          target_id=person.id, detail={"language": language}))
                message = f"{person.name} reads their pages in {LANGUAGE_NAMES.get(language or '', 'the browser’s language')}."
            elif action == "password_link":
                token = issue_set_password_link(db.session, person, actor=current_user)
                message = _hand_over_link(person, token)
            else:
                raise ServiceError("Unknown action.")
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("admin.user", user_id=person.id), 303)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    column = GuardianLink.student_id if person.role == "guardian" else GuardianLink.guardian_id
    own = GuardianLink.guardian_id if person.role == "guardian" else GuardianLink.student_id
    links = db.session.execute(select(GuardianLink, User).join(User, User.id == column)
                               .where(own == person.id).order_by(User.name)).all()
    # A subquery rather than DISTINCT: PostgreSQL has no equality operator for json columns.
    section_ids = select(Enrollment.section_id).where(Enrollment.student_id == person.id).union(
        select(SectionTeacher.section_id).where(SectionTeacher.teacher_id == person.id))
    sections = db.session.scalars(
        select(Section).where(Section.id.in_(section_ids)).order_by(Section.name)).all()
    from gradebook.services.schools import schools_of

    return render_template("admin/user.html", person=person, links=links, sections=sections, error=error,
                           schools=schools_of(db.session, person.id)), 422 if error else 200


def _the_only_school() -> int | None:
    """With one school (or none yet), the school new people and sections join; with several, the admin
    chooses one with the school picker first."""
    from gradebook.models import School

    ids = db.session.scalars(select(School.id).order_by(School.id).limit(2)).all()
    if len(ids) > 1:
        raise ServiceError("Choose the school first (the school picker above).")
    return ids[0] if ids else None


def _join_schools_of(guardian_id: int, student_id: int) -> None:
    from gradebook.models import SchoolMember

    add_members(db.session, guardian_id, db.session.scalars(
        select(SchoolMember.school_id).where(SchoolMember.user_id == student_id)))


@bp.route("/sections", methods=["GET", "POST"])
@roles_required("admin")
@discloses_none("sections with enrolment counts")
def sections() -> Any:
    error = None
    if request.method == "POST":
        try:
            name = (request.form.get("name") or "").strip()
            if not name or len(name) > 160:
                raise ServiceError("Give the section a name of 1 to 160 characters.")
            scope = admin_scope()
            term = scope.term_or_none(request.form.get("term_id", type=int) or 0)
            if term is None:
                raise ServiceError("Choose a term (create one first if the list is empty).")
            school_id = term.school_id if term.school_id is not None else scope.school_for_new
            if school_id is None:
                school_id = _the_only_school()
            teacher = find_user_by_email(db.session, request.form.get("teacher_email", ""))
            if teacher is None or teacher.role != "teacher" or not scope.has_user(teacher.id):
                raise ServiceError("Give the email of a teacher's account.")
            section = Section(name=name, term_id=term.id, school_id=school_id,
                              code=(request.form.get("code") or "").strip()[:60] or None,
                              subject=(request.form.get("subject") or "").strip()[:120] or None)
            db.session.add(section)
            db.session.flush()
            db.session.add(SectionTeacher(section_id=section.id, teacher_id=teacher.id))
            add_members(db.session, teacher.id, [school_id])
            record_change(db.session, current_user, "section.teacher", target_type="section", target_id=section.id,
                          detail={"teacher_id": teacher.id}, ip=request.remote_addr)
            db.session.commit()
            flash(f"{section.name} created. Now choose its standards and enrol students.", "success")
            return redirect(url_for("admin.section", section_id=section.id), 303)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    scope = admin_scope()
    rows = db.session.execute(scope.sections(
        select(Section, Term, func.count(Enrollment.id)).join(Term, Term.id == Section.term_id)
        .outerjoin(Enrollment, (Enrollment.section_id == Section.id) & Enrollment.active.is_(True))
        .group_by(Section.id, Term.id).order_by(Term.starts_on.desc(), Section.name))).all()
    terms = db.session.scalars(scope.terms(select(Term).order_by(Term.starts_on.desc()))).all()
    from gradebook.services.schools import all_schools

    school_names = {school.id: school.name for school in all_schools(db.session)} if scope.shown is None else {}
    return render_template("admin/sections.html", rows=rows, terms=terms, error=error, school_names=school_names,
                           form=request.form if error else {}), 422 if error else 200


@bp.route("/terms", methods=["POST"])
@roles_required("admin")
@discloses_none("creates a term and redirects")
def terms() -> Any:
    name = (request.form.get("name") or "").strip()
    try:
        starts, ends = date.fromisoformat(request.form.get("starts_on", "")), date.fromisoformat(request.form.get("ends_on", ""))
    except ValueError:
        flash("Give the term's first and last day as dates.", "error")
        return redirect(url_for("admin.sections"), 303)
    if not name or len(name) > 120:
        flash("Give the term a name of 1 to 120 characters.", "error")
    elif ends < starts:
        flash("A term cannot end before it starts.", "error")
    else:
        # The chosen school's term (a school admin's school); a district admin with "all schools": district-wide.
        db.session.add(Term(name=name, starts_on=starts, ends_on=ends, school_id=admin_scope().school_for_new))
        db.session.commit()
        flash(f"Term {name} created.", "success")
    return redirect(url_for("admin.sections"), 303)


@bp.post("/terms/<int:term_id>/rollover")
@roles_required("admin")
@discloses_none("closes a term and opens the next, then redirects")
def rollover(term_id: int) -> Any:
    """The end-of-term button: the term's sections become read-only (every row kept), the next term opens."""
    from gradebook.services.terms import rollover as roll

    scope = admin_scope()
    term = scope.term_or_none(term_id)
    if term is None:
        abort(404)
    try:
        if term.school_id is None and not scope.district:
            raise ServiceError(f"{term.name} is the whole district's term: a district admin ends it.")
        dates = []
        for name in ("starts_on", "ends_on"):
            text = (request.form.get(name) or "").strip()
            try:
                dates.append(date.fromisoformat(text) if text else None)
            except ValueError:
                raise ServiceError("Give the next term's first and last day as dates, or leave them empty.") from None
        report = roll(db.session, current_user, term=term, next_name=request.form.get("next_name") or "",
                      next_starts=dates[0], next_ends=dates[1], copy_sections=request.form.get("copy_sections") == "1")
        db.session.commit()
        flash(str(report), "success")
    except ServiceError as error:
        db.session.rollback()
        flash(error.message + " Nothing was changed.", "error")
    return redirect(url_for("admin.sections"), 303)


@bp.route("/sections/<int:section_id>", methods=["GET", "POST"])
@roles_required("admin")
@discloses("section_roster", students=section_roster)
def section(section_id: int) -> Any:
    scope = admin_scope()
    section = scope.section_or_404(section_id)
    refuse_writes_to_closed(section)
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "standards":
                count = save_section_standards(section, request.form, scope)
                db.session.flush()
                recompute(db.session, [section.id])
                message = ngettext("%(num)d standard chosen; levels recomputed.",
                                   "%(num)d standards chosen; levels recomputed.", count) + \
                    " Evidence is kept even for standards removed."
            elif action == "enrol":
                emails = [e.strip() for e in (request.form.get("emails") or "").replace(",", "\n").splitlines() if e.strip()]
                if not emails:
                    raise ServiceError("Give one or more student emails, one per line.")
                added, unknown = 0, []
                for email in emails[:500]:
                    student = find_user_by_email(db.session, email)
                    if student is None or student.role != "student" or not scope.has_user(student.id):
                        unknown.append(email)
                        continue
                    add_members(db.session, student.id, [section.school_id])  # a student joins the class's school
                    enrolment = db.session.scalar(select(Enrollment).where(
                        Enrollment.section_id == section.id, Enrollment.student_id == student.id))
                    if enrolment is None or not enrolment.active:
                        record_change(db.session, current_user, "enrollment.add", student_id=student.id,
                                      target_type="section", target_id=section.id, ip=request.remote_addr)
                    if enrolment is None:
                        db.session.add(Enrollment(section_id=section.id, student_id=student.id))
                        added += 1
                    elif not enrolment.active:
                        enrolment.active = True
                        added += 1
                if unknown:
                    raise ServiceError("No student account for: " + ", ".join(unknown[:10]) + ". Nothing was changed.")
                db.session.flush()
                recompute(db.session, [section.id])
                message = ngettext("%(num)d student enrolled.", "%(num)d students enrolled.", added)
            elif action == "unenrol":
                enrolment = db.session.get(Enrollment, request.form.get("enrollment_id", type=int) or 0)
                if enrolment is None or enrolment.section_id != section.id:
                    raise ServiceError("That enrolment is not here any more.")
                enrolment.active = False  # kept, with the student's evidence
                record_change(db.session, current_user, "enrollment.remove", student_id=enrolment.student_id,
                              target_type="section", target_id=section.id, ip=request.remote_addr)
                message = "Student removed from the class list; their evidence is kept."
            else:
                abort(400)
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("admin.section", section_id=section.id), 303)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
    roster = db.session.execute(select(Enrollment, User).join(User, User.id == Enrollment.student_id)
                                .where(Enrollment.section_id == section.id, Enrollment.active.is_(True))
                                .order_by(User.name)).all()
    teachers = db.session.scalars(select(User).join(SectionTeacher, SectionTeacher.teacher_id == User.id)
                                  .where(SectionTeacher.section_id == section.id)).all()
    return render_template("admin/section.html", section=section, roster=roster, teachers=teachers, error=error,
                           **standards_picker(section, request.args, scope)), 422 if error else 200
