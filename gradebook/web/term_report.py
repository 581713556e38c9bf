"""A student's printable term report: each class's grade by the school's published grade bridge, why in plain
words, habits of work beside it (never in it), and the table itself. One printed page, in the family's
language. Routes join the family blueprint (the student in the URL is loaded and authorised there)."""

from __future__ import annotations

from contextlib import nullcontext

from flask import abort, g, render_template, request
from flask_babel import force_locale
from flask_login import current_user
from sqlalchemy import select

from gradebook.authz import discloses, roles_required
from gradebook.extensions import db
from gradebook.models import LANGUAGES, GuardianLink, User
from gradebook.proficiency.grade_bridge_text import table_sentences
from gradebook.services import ServiceError
from gradebook.services.habits import habit_levels_for
from gradebook.services.term_grades import term_report as read_term_report
from gradebook.services.term_grades import the_school
from gradebook.web.family import bp


def family_language(student: User) -> str | None:
    """The language the student's family reads in: a linked guardian's (the first who chose one), else the
    student's own; None when nobody chose (the page's usual choice then stands)."""
    chosen = db.session.scalar(
        select(User.language).join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == student.id, User.language.in_(LANGUAGES)).order_by(User.id).limit(1))
    return chosen or (student.language if student.language in LANGUAGES else None)


def report_language(student: User) -> str | None:
    """Families and students read in their own language; a teacher or admin prints in the family's, unless
    they ask for another (``?language=es``)."""
    if current_user.role in ("guardian", "student"):
        return None
    asked = request.args.get("language")
    return asked if asked in LANGUAGES else family_language(student)


@bp.get("/students/<int:student_id>/term-report")
@roles_required("student", "guardian", "teacher", "admin")
@discloses("term_report")
def term_report(student_id: int) -> str:
    """The term report of ``?term=<id>`` (default: the newest term the student has classes in)."""
    student = g.student
    language = report_language(student)
    with force_locale(language) if language else nullcontext():
        try:
            report = read_term_report(db.session, student, request.args.get("term", type=int),
                                      name=None if current_user.id == student.id else student.first_name)
        except ServiceError:
            abort(404)
        table = table_sentences(report.bridge, report.label_for)
        habits = habit_levels_for(db.session, student.id, [sg.section.id for sg in report.grades]) \
            if report.grades else []
        html = render_template("family/term_report.html", report=report, table=table, school=the_school(db.session),
                               own=current_user.id == student.id, staff=current_user.role in ("teacher", "admin"),
                               languages=LANGUAGES, report_language=language, habits=habits)
    db.session.commit()
    return html
