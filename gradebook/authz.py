"""The one place that decides who may see or change what.

Rules:
- an admin sees and changes everything;
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
        return True
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
        return True
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

        begin_writing()  # a GET's reading transaction ends here; the audit rows are written in their own
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
