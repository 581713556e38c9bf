"""The one place that decides who may see or change what.

Rules:
- a district admin sees and changes everything; a school admin only the people, sections, terms, frameworks,
  imports and jobs of their schools (`admin_scope`: another school's objects answer 404, lists are filtered);
- a teacher sees the sections they teach and the students enrolled in them;
- a student sees only their own records;
- a guardian sees only the records of their linked children.

Objects a user may not see answer 404, so ids cannot be probed; pages meant for another role answer 403.

Every view also declares whether it discloses a student's record (`discloses` / `discloses_none`, next to
`roles_required`); a disclosing view's answer writes one audit row per student shown (see `audit_disclosure`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import exists, select

from gradebook.extensions import db
from gradebook.models import Artifact, Enrollment, Evidence, GuardianLink, SectionTeacher, User

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.set_password", "main.index", "main.healthz", "main.scale_css",
                    "i18n.switch_language"}


def roles_required(*roles: str) -> Callable[[F], F]:
    """Mark a view as for these roles. `check_request` enforces it before any scope is loaded."""

    def decorate(view: F) -> F:
        view.allowed_roles = roles  # type: ignore[attr-defined]
        return view

    return decorate


def check_request(view: Callable[..., Any] | None, endpoint: str | None) -> Any:
    """Runs before every request: anonymous users log in first; a view for other roles answers 403.

    A view that is neither public nor marked with roles_required is refused: forgetting is safe.
    """
    if endpoint in PUBLIC_ENDPOINTS or view is None:
        return None
    roles = getattr(view, "allowed_roles", None)
    if not current_user.is_authenticated:
        from gradebook.extensions import login_manager

        return login_manager.unauthorized()
    if roles is None or current_user.role not in roles:
        abort(403)
    return None


def teaches_section(user: User, section_id: int) -> bool:
    if user.role == "admin":
        return admin_scope(user).has_section(section_id)
    if user.role != "teacher":
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(SectionTeacher.section_id == section_id, SectionTeacher.teacher_id == user.id)
            )
        )
    )


def teaches_student(user: User, student_id: int) -> bool:
    """A teacher may see a student enrolled (now or before) in one of their sections."""
    if user.role == "admin":
        return admin_scope(user).has_user(student_id)
    if user.role != "teacher":
        return False
    return bool(
        db.session.scalar(
            select(
                exists()
                .where(Enrollment.student_id == student_id)
                .where(Enrollment.section_id == SectionTeacher.section_id)
                .where(SectionTeacher.teacher_id == user.id)
            )
        )
    )


def is_guardian_of(user: User, student_id: int) -> bool:
    if user.role != "guardian":
        return False
    return bool(
        db.session.scalar(
            select(exists().where(GuardianLink.guardian_id == user.id, GuardianLink.student_id == student_id))
        )
    )


def can_view_student(user: User, student_id: int) -> bool:
    """Own records, a linked child's, or a student in one of the teacher's sections."""
    if user.role == "student":
        return user.id == student_id
    if user.role == "guardian":
        return is_guardian_of(user, student_id)
    return teaches_student(user, student_id)


def can_record_for(user: User, section_id: int, student_id: int) -> bool:
    """Evidence is recorded by a teacher of the section, for a student enrolled in it."""
    if not teaches_section(user, section_id):
        return False
    return bool(
        db.session.scalar(
            select(exists().where(Enrollment.section_id == section_id, Enrollment.student_id == student_id))
        )
    )


def require(allowed: bool) -> None:
    """Hide what the user may not see: 404, never 403, so ids cannot be probed."""
    if not allowed:
        abort(404)


def student_or_404(student_id: int) -> User:
    """Load a student the current user may see, or 404."""
    student = db.session.get(User, student_id)
    if student is None or student.role != "student" or not can_view_student(current_user, student_id):
        abort(404)
    return student


# ------------------------------------------------------------------ schools: what an admin's pages reach

ADMIN_SCHOOL_KEY = "admin_school"  # the session's school picker choice (a school id, or absent: all)


@dataclass(frozen=True)
class AdminScope:
    """The schools an admin's pages reach. ``school_ids`` None: every school (a district admin); ``chosen``:
    the school the picker narrows the lists to (None: all the admin's schools).

    Every admin view asks this: `*_or_404` loads one object of the admin's schools (another school's answers
    404, so ids cannot be probed); `users`, `sections`, `terms`, `frameworks`, `jobs` filter a list query."""

    user_id: int
    school_ids: frozenset[int] | None
    chosen: int | None = None

    @property
    def district(self) -> bool:
        return self.school_ids is None

    @property
    def shown(self) -> frozenset[int] | None:
        """The schools the lists show: the one chosen, else all the admin's (None: every school)."""
        return frozenset({self.chosen}) if self.chosen is not None else self.school_ids

    @property
    def school_for_new(self) -> int | None:
        """The school a new section, term, user or job goes to: the one chosen, or a school admin's (first)
        school; None for a district admin who chose none (a district-wide term or job)."""
        if self.chosen is not None:
            return self.chosen
        if self.school_ids:  # a school admin of several schools: the first, unless one is picked
            return min(self.school_ids)
        return None

    def sees_school(self, school_id: int | None) -> bool:
        return self.school_ids is None or school_id in self.school_ids

    # -- list filters (the picker narrows a district admin's lists too)
    def users(self, query: Any) -> Any:
        from gradebook.models import SchoolMember

        if self.shown is None:
            return query
        return query.where(User.id.in_(select(SchoolMember.user_id).where(SchoolMember.school_id.in_(self.shown))))

    def sections(self, query: Any) -> Any:
        from gradebook.models import Section

        return query if self.shown is None else query.where(Section.school_id.in_(self.shown))

    def terms(self, query: Any) -> Any:
        from gradebook.models import Term

        return query if self.shown is None else query.where(Term.school_id.in_(self.shown) | Term.school_id.is_(None))

    def frameworks(self, query: Any) -> Any:
        from gradebook.models import Framework

        if self.shown is None:
            return query
        return query.where(Framework.school_id.in_(self.shown) | Framework.school_id.is_(None))

    def jobs(self, query: Any) -> Any:
        from gradebook.models import Job

        if self.shown is None:
            return query
        if self.school_ids is None:  # a district admin narrowed to one school still sees the district's jobs
            return query.where(Job.school_id.in_(self.shown) | Job.school_id.is_(None))
        return query.where(Job.school_id.in_(self.shown))

    # -- one object, or 404
    def has_user(self, user_id: int) -> bool:
        from gradebook.models import SchoolMember

        if self.school_ids is None or user_id == self.user_id:
            return True
        return bool(db.session.scalar(select(exists().where(
            SchoolMember.user_id == user_id, SchoolMember.school_id.in_(self.school_ids)))))

    def has_section(self, section_id: int) -> bool:
        from gradebook.models import Section

        if self.school_ids is None:
            return True
        return bool(db.session.scalar(select(exists().where(
            Section.id == section_id, Section.school_id.in_(self.school_ids)))))

    def user_or_404(self, user_id: int) -> User:
        person = db.session.get(User, user_id)
        require(person is not None and self.has_user(user_id))
        return person  # type: ignore[return-value]

    def section_or_404(self, section_id: int) -> Any:
        from gradebook.models import Section

        section = db.session.get(Section, section_id)
        require(section is not None and self.sees_school(section.school_id))
        return section

    def term_or_none(self, term_id: int) -> Any:
        """A term the admin may put a section in: one of their schools', or a district-wide one."""
        from gradebook.models import Term

        term = db.session.get(Term, term_id)
        if term is None or (term.school_id is not None and not self.sees_school(term.school_id)):
            return None
        return term

    def framework_or_404(self, framework_id: int) -> Any:
        from gradebook.models import Framework

        framework = db.session.get(Framework, framework_id)
        require(framework is not None and (framework.school_id is None or self.sees_school(framework.school_id)))
        return framework

    def may_change_framework(self, framework: Any) -> bool:
        """A district framework is changed by a district admin; a school's by its admins."""
        return self.school_ids is None or framework.school_id in self.school_ids

    def job_or_404(self, job_id: int) -> Any:
        from gradebook.models import Job

        job = db.session.get(Job, job_id)
        require(job is not None and (self.school_ids is None or job.school_id in self.school_ids))
        return job


def admin_scope(user: Any = None) -> AdminScope:
    """The current admin's schools (remembered for the request), with the school picker's choice."""
    from flask import has_request_context, session

    from gradebook.models import SchoolMember

    user = user if user is not None else current_user
    cached = g.get("_admin_scope") if has_request_context() else None
    if cached is not None and cached.user_id == user.id:
        return cached
    if user.role != "admin":
        scope = AdminScope(user.id, frozenset())
    else:
        ids = None if user.district_admin else frozenset(db.session.scalars(
            select(SchoolMember.school_id).where(SchoolMember.user_id == user.id)))
        chosen = session.get(ADMIN_SCHOOL_KEY) if has_request_context() else None
        if not isinstance(chosen, int) or (ids is not None and chosen not in ids):
            chosen = None
        scope = AdminScope(user.id, ids, chosen)
    if has_request_context():
        g._admin_scope = scope
    return scope


# ------------------------------------------------------------------ disclosure of student records (FERPA)

StudentsShown = Callable[..., Iterable[int]]
# Endpoints Flask adds itself (no view function of ours to decorate); they disclose nothing.
NO_DISCLOSURE_ENDPOINTS = {"static"}
# Answers that carry content: a page, a fragment, a file; and forms re-rendered with the record (409, 422).
DISCLOSING_STATUS = {409, 422}


@dataclass(frozen=True)
class Disclosure:
    """What a route shows of student records: `what` names it in the log (`view.<what>`), `students` says
    whose (called with the URL's values after the view answered), None for a route that discloses none."""

    what: str | None
    students: StudentsShown | None = None
    reason: str = ""


def discloses(what: str, students: StudentsShown | None = None) -> Callable[[F], F]:
    """Mark a view as disclosing a student's record: each answer with content (2xx, or a 409/422 form
    re-render) writes one audit row per student `students(**url_values)` names, except the viewer themself.
    Default `students`: the `student_id` in the URL. Use with every route that shows any of a student's
    record to anyone, even if only the student may reach it today."""

    def decorate(view: F) -> F:
        view.disclosure = Disclosure(what, students or the_student)  # type: ignore[attr-defined]
        return view

    return decorate


def discloses_none(reason: str) -> Callable[[F], F]:
    """Mark a view as showing no student's record (a form, counts, directory information, a redirect);
    the reason is for the reader."""

    def decorate(view: F) -> F:
        view.disclosure = Disclosure(None, None, reason)  # type: ignore[attr-defined]
        return view

    return decorate


def audit_disclosure(view: Callable[..., Any] | None, status: int) -> int:
    """After a view answered: write the audit rows its declaration asks for, and commit them before the
    answer leaves. Returns how many rows were written (0 when the view wrote them itself, see
    `audit_before_commit`)."""
    if g.pop("_disclosure_audited", None) is not None:
        return 0
    return _write_disclosure(view, status, commit=True)


def audit_before_commit(status: int = 200) -> int:
    """For a view that writes and then answers with the record (a score save): its audit rows go into its
    own transaction, before it commits, so the save and its disclosure commit together in one transaction
    (and the answer needs no second one). `audit_disclosure` then writes nothing more for this request. If the
    transaction is rolled back after this, the rows go with it, and so does the answer (an error page)."""
    view = current_app.view_functions.get(request.endpoint or "")
    written = _write_disclosure(view, status, commit=False)
    g._disclosure_audited = written
    return written


def forget_audit_before_commit() -> None:
    """The transaction holding `audit_before_commit`'s rows was rolled back: the answer's own audit rows are
    written after it, as for any view."""
    g.pop("_disclosure_audited", None)


def _write_disclosure(view: Callable[..., Any] | None, status: int, *, commit: bool) -> int:
    from sqlalchemy import inspect as inspect_state

    disclosure: Disclosure | None = getattr(view, "disclosure", None)
    if (disclosure is None or disclosure.what is None or disclosure.students is None or request.method == "HEAD"
            or not (200 <= status < 300 or status in DISCLOSING_STATUS)):
        return 0
    # The user's identity, not its attributes: the view may have committed, and reading them would reload it.
    loaded = g.get("_login_user")  # Flask-Login's user of this request, when it was loaded
    state = inspect_state(loaded) if isinstance(loaded, User) else None
    if not (bool(state.identity) if state is not None else current_user.is_authenticated):
        return 0
    from gradebook.services.audit import record_disclosures

    viewer_id = state.identity[0] if state is not None and state.identity else current_user.id
    student_ids = list(disclosure.students(**(request.view_args or {})))
    if not student_ids:
        return 0
    if commit:
        from gradebook.extensions import begin_writing

        begin_writing()  # SQLite: a GET's reading transaction ends here; the audit rows are written in their own
    written = record_disclosures(
        db.session, viewer_id, student_ids, disclosure.what, ip=request.remote_addr,
        detail={"endpoint": request.endpoint, "method": request.method, "path": request.full_path.rstrip("?"),
                "status": status})
    if written and commit:
        db.session.commit()
    return written


# Who a route shows: called with the URL's values (the gradebook blueprint keeps section_id in g).

def the_student(student_id: int | None = None, **_: Any) -> list[int]:
    """The student named in the URL."""
    return [student_id] if student_id is not None else []


def section_roster(section_id: int | None = None, **_: Any) -> list[int]:
    """Every student enrolled in the section (the grid, entry sheet, reteach page and CSV list them all;
    a filtered view still tells something about those it leaves out)."""
    section_id = section_id if section_id is not None else g.get("section_id")
    shown = g.get("roster_shown")  # the view loaded the roster already: (section id, student ids)
    if shown is not None and shown[0] == section_id:
        return list(shown[1])
    return list(db.session.scalars(select(Enrollment.student_id).where(
        Enrollment.section_id == section_id, Enrollment.active.is_(True))))


def evidence_student(evidence_id: int, **_: Any) -> list[int]:
    """The student a piece of evidence is about."""
    return list(db.session.scalars(select(Evidence.student_id).where(Evidence.id == evidence_id)))


def artifact_owner(artifact_id: int, **_: Any) -> list[int]:
    """The student whose work an uploaded file is."""
    return list(db.session.scalars(select(Artifact.owner_student_id).where(Artifact.id == artifact_id)))


def guardians_children(**_: Any) -> list[int]:
    """The viewer's linked children (the family home shows each of them)."""
    return list(db.session.scalars(select(GuardianLink.student_id).where(GuardianLink.guardian_id == current_user.id)))


def user_page_students(user_id: int, **_: Any) -> list[int]:
    """An account's page: a student's own (sections, guardians), a guardian's children."""
    role = db.session.scalar(select(User.role).where(User.id == user_id))
    if role == "student":
        return [user_id]
    if role == "guardian":
        return list(db.session.scalars(select(GuardianLink.student_id).where(GuardianLink.guardian_id == user_id)))
    return []


def every_student(**_: Any) -> list[int]:
    """The whole school (the school export)."""
    return list(db.session.scalars(select(User.id).where(User.role == "student")))


def job_students(job_id: int, **_: Any) -> list[int]:
    """Whom a job's download holds: a school's export, that school's students; a district export or a
    backup, every student."""
    from gradebook.models import Job, SchoolMember, Section

    school_id = db.session.scalar(select(Job.school_id).where(Job.id == job_id))
    if school_id is None:
        return every_student()
    return list(db.session.scalars(select(User.id).where(User.role == "student", User.id.in_(
        select(SchoolMember.user_id).where(SchoolMember.school_id == school_id)) | User.id.in_(
        select(Enrollment.student_id).where(Enrollment.section_id.in_(
            select(Section.id).where(Section.school_id == school_id)))))))


def admins_students(**_: Any) -> list[int]:
    """Every student of the admin's schools (what a school admin's export holds)."""
    return list(db.session.scalars(admin_scope().users(select(User.id).where(User.role == "student"))))
