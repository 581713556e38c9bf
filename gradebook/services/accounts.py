"""Accounts: hashing, creation, password changes and one-time set-password links."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gradebook.models import ROLES, AuditEvent, GuardianLink, PasswordReset, User, utcnow
from gradebook.proficiency._i18n import _
from gradebook.services import ServiceError
from gradebook.services.audit import record_change

# Argon2id is memory-hard. Tests swap in a cheaper hasher via use_fast_hashing().
_hasher = PasswordHasher()
# A real hash of a random secret, so a login for an unknown email costs the same as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME_MAX = 254
MIN_PASSWORD = 10


def use_fast_hashing() -> None:
    """Cheap parameters for test suites; never for production."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    _DUMMY_HASH = _hasher.hash("dummy")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Constant-ish time whether or not the user exists; False for accounts with no usable password."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and user is not None and bool(user.password_hash)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError(_("Use at least %(min)d characters.", min=MIN_PASSWORD), "new_password")
    if len(password) > 200:
        raise ServiceError(_("Use at most 200 characters."), "new_password")


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def find_user_for_login(session: Session, identifier: str) -> User | None:
    """The account an e-mail address or a username (from the SIS: its username or identifier) names.

    An e-mail match wins over a username match, so no username can shadow someone's e-mail address.
    """
    value = identifier.strip().lower()
    if not value:
        return None
    return find_user_by_email(session, value) or session.scalar(select(User).where(User.username == value))


def create_user(
    session: Session,
    *,
    email: str | None,
    name: str,
    role: str,
    password: str | None = None,
    sourced_id: str | None = None,
    grade_level: str | None = None,
    actor: User | None = None,
    username: str | None = None,
) -> User:
    """Create an account; without a password it cannot log in until a set-password link is used.

    An account signs in with its e-mail address or its username: it needs at least one (rosters give
    young students a username and no e-mail).
    """
    email = (email or "").strip().lower() or None
    username = (username or "").strip().lower() or None
    name = name.strip()
    if role not in ROLES:
        raise ServiceError(f"Unknown role '{role}'. Choose one of: {', '.join(ROLES)}.", "role")
    if email is None and username is None:
        raise ServiceError("Enter an email address (or, for an account without one, a username).", "email")
    if email is not None and (not EMAIL_RE.match(email) or len(email) > 254):
        raise ServiceError("Enter a valid email address, like name@school.org.", "email")
    if username is not None and (len(username) > USERNAME_MAX or any(c.isspace() for c in username)):
        raise ServiceError(f"A username has no spaces and at most {USERNAME_MAX} characters.", "username")
    if not name or len(name) > 120:
        raise ServiceError("Enter a name of 1 to 120 characters.", "name")
    if email is not None and find_user_by_email(session, email) is not None:
        raise ServiceError(f"There is already an account for {email}.", "email")
    if username is not None and session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ServiceError(f"There is already an account with the username {username}.", "username")
    if password is not None:
        check_password_rules(password)
    user = User(
        email=email,
        username=username,
        name=name,
        role=role,
        password_hash=hash_password(password) if password else None,
        sourced_id=sourced_id,
        grade_level=grade_level,
        session_token=secrets.token_hex(16),
    )
    session.add(user)
    session.flush()
    session.add(AuditEvent(actor_id=actor.id if actor else None, action="user.create", target_type="user",
                           target_id=user.id, detail={"role": role}))
    return user


def change_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    """Verify the current password, apply the rules, and rotate the session token (logs out other sessions)."""
    if not verify_password(user, current):
        raise ServiceError(_("Your current password is not right."), "current_password")
    if new != confirm:
        raise ServiceError(_("The two new passwords differ."), "confirm")
    check_password_rules(new)
    _set_password(session, user, new)


def _set_password(session: Session, user: User, new: str) -> None:
    user.password_hash = hash_password(new)
    user.end_sessions()
    session.add(AuditEvent(actor_id=user.id, action="user.password", target_type="user", target_id=user.id))


def issue_set_password_link(session: Session, user: User, *, days: int = 14, actor: User | None = None) -> str:
    """A one-time token; only its hash is stored. Whoever holds it can open the account, so it is audited
    as a change of who may see what: on the student's log, or on each child's for a guardian."""
    token = secrets.token_urlsafe(24)
    expires_at = utcnow() + timedelta(days=days)
    session.add(PasswordReset(user_id=user.id, token_hash=_token_hash(token), expires_at=expires_at))
    students: list[int | None] = [user.id] if user.role == "student" else []
    if user.role == "guardian":
        students = list(session.scalars(select(GuardianLink.student_id).where(GuardianLink.guardian_id == user.id)))
    for student_id in students or [None]:
        record_change(session, actor, "user.set_password_link", student_id=student_id, target_type="user",
                      target_id=user.id, detail={"role": user.role, "expires_at": expires_at.isoformat()})
    return token


def user_for_token(session: Session, token: str) -> User | None:
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at < utcnow():
        return None
    return session.get(User, reset.user_id)


def set_password_with_token(session: Session, token: str, new: str, confirm: str) -> User:
    user = user_for_token(session, token)
    if user is None:
        raise ServiceError(_("This link has expired or was already used. Ask your school for a new one."))
    if new != confirm:
        raise ServiceError(_("The two passwords differ."), "confirm")
    check_password_rules(new)
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token)))
    assert reset is not None
    reset.used_at = utcnow()
    _set_password(session, user, new)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
