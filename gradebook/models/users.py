from __future__ import annotations

import secrets
import time
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from gradebook.models.base import Base, choice, utcnow

ROLES = ("admin", "teacher", "student", "guardian")
# The languages the student and family pages are shipped in (a catalogue in translations/ for each but English).
LANGUAGES = ("en", "es")
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (choice("role", ROLES, "role"),
                      CheckConstraint("email IS NOT NULL OR username IS NOT NULL", name="sign_in"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)  # rosters may give none
    # Signs in as well as the e-mail address (lower-cased; from a roster's username or SIS identifier).
    username: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), index=True)
    # An admin is a district admin (every school) or a school admin (the schools of their school_members rows).
    district_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sourced_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    grade_level: Mapped[str | None] = mapped_column(String(16))
    # The language the person reads their pages in; None: the browser's Accept-Language decides.
    language: Mapped[str | None] = mapped_column(String(8))
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    children_links: Mapped[list[GuardianLink]] = relationship(
        foreign_keys="GuardianLink.guardian_id", back_populates="guardian", lazy="raise"
    )

    # When the login being served began (epoch seconds): set at login and by the user loader, read by
    # get_id. A plain attribute, not a column.
    login_started = None

    def get_id(self) -> str:
        """What the session and the remember-me cookie carry: the id, the session token, and when the login
        began. The token rotates on logout, a password change, a new password and switching the account off
        (every copy of every cookie stops working); the start time lets the loader refuse a login older than the remember-me
        limit, whatever the cookie's own expiry says."""
        started = self.login_started if self.login_started is not None else int(time.time())
        return f"{self.id}:{self.session_token}:{started}"

    def end_sessions(self) -> None:
        """Log the account out everywhere: every session and remember-me cookie carries the old token."""
        self.session_token = secrets.token_hex(16)

    @validates("active")
    def _switching_off_ends_sessions(self, _key: str, value: bool) -> bool:
        # So that switching the account back on does not bring its old cookies back to life.
        if not value and self.active:
            self.end_sessions()
        return value

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role} {self.email or self.username}>"

    @property
    def sign_in_name(self) -> str:
        """What the person types to sign in: the e-mail address, else the username."""
        return self.email or self.username or ""


class GuardianLink(Base):
    __tablename__ = "guardian_links"
    __table_args__ = (UniqueConstraint("guardian_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    relationship_label: Mapped[str] = mapped_column(String(40), default="guardian")

    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id], back_populates="children_links", lazy="raise")
    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="raise")


class PasswordReset(Base):
    """A one-time set-password link (accounts created by import have no usable password)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


