"""The one place that decides who may see or change what.

Rules:
- an admin sees and changes everything;
- a teacher sees the sections they teach and the students enrolled in them;
- a student sees only their own records;
- a guardian sees only the records of their linked children.

Objects a user may not see answer 404, so ids cannot be probed; pages meant for another role answer 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import exists, select

from gradebook.extensions import db
from gradebook.models import Enrollment, GuardianLink, SectionTeacher, User

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.set_password", "main.index", "main.healthz", "main.scale_css"}


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
