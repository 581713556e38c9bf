"""Log in, log out, change password, set a password from a one-time link."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gradebook.authz import discloses_none, roles_required
from gradebook.extensions import db, limiter
from gradebook.models import ROLES, AuditEvent, User
from gradebook.services import ServiceError, accounts

bp = Blueprint("auth", __name__)


def _now() -> float:
    return time.time()


def load_user(user_id: str) -> User | None:
    """The user a session or remember-me cookie names, if its token is still the account's and the login
    is younger than REMEMBER_COOKIE_DURATION (checked here: a copied cookie ignores its own expiry)."""
    raw_id, _, rest = user_id.partition(":")
    token, _, started = rest.partition(":")
    if not raw_id.isdigit() or not started.isdigit():
        return None
    if int(started) + current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds() < _now():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    user.login_started = int(started)
    return user


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail or username"), validators=[DataRequired(_l("Enter your e-mail or username.")),
                                                          Length(max=254)], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me logged in on this device"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password.")),
                                                                     Length(max=200)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a new password.")),
                                                             Length(max=200)], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(_l("Type the new password again.")),
                                                              Length(max=200)], render_kw={"autocomplete": "new-password"})


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")), Length(max=200)],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Password again"), validators=[DataRequired(_l("Type the password again.")),
                                                          Length(max=200)], render_kw={"autocomplete": "new-password"})


def landing_url(user: User) -> str:
    return {
        "teacher": url_for("gradebook.my_sections"),
        "student": url_for("portfolio.home"),
        "guardian": url_for("family.home"),
        "admin": url_for("admin.home"),
    }[user.role]


# Login limits count wrong passwords only (a school logging in at 8:00 behind one address is not an
# attack): per account, whatever the address, and, higher, per address.
def _account_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def _submitted_account() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def _password_was_wrong(_response: Response) -> bool:
    return bool(g.get("login_failed"))


# Characters of an RFC 3986 path and query; no backslash, space, control character or fragment.
_LOCAL_URL = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")


def safe_next_url(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None. A path starts with exactly one slash, has no
    scheme or host, and holds only URL characters: browsers read a backslash as a slash and drop tabs and
    newlines, so `/\\evil`, `/%09/evil` (a tab once decoded) and `//evil` would all leave the site."""
    if not target or len(target) > 2000 or target.startswith("//") or not _LOCAL_URL.fullmatch(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_account_limit, key_func=_submitted_account, methods=["POST"], deduct_when=_password_was_wrong,
               error_message=lambda: _("Too many wrong passwords for this account. Wait a few minutes and try "
                                       "again, or ask your school's admin for a set-password link."))
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_password_was_wrong,
               error_message=lambda: _("Too many wrong passwords from this network. Wait a few minutes and try "
                                       "again."))
@discloses_none("the login form")
def login() -> Any:
    next_url = safe_next_url(request.args.get("next"))  # decided before anything is written
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.find_user_for_login(db.session, form.email.data or "")
        if accounts.verify_password(user, form.password.data or "") and user is not None:
            if not user.active:
                form.email.errors.append(_("This account is switched off. Ask your school's admin."))
            else:
                user.login_started = int(_now())
                login_user(user, remember=bool(form.remember.data))
                db.session.add(AuditEvent(actor_id=user.id, action="auth.login", ip=request.remote_addr))
                db.session.commit()
                return redirect(next_url or landing_url(user), 303)
        else:
            g.login_failed = True
            form.password.errors.append(_("That e-mail or username and password do not match an account."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
@discloses_none("logs out and redirects")
def logout() -> Response:
    if current_user.is_authenticated:
        # Revoked on the server: a copy of this session's cookie, or of a remember-me cookie, stops working.
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    flash(_("You are logged out, here and on any other device."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/account", methods=["GET", "POST"])
@roles_required(*ROLES)
@discloses_none("the viewer's own account")
def account() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, current_user, form.current_password.data or "",
                                     form.new_password.data or "", form.confirm.data or "")
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "new_password").errors.append(error.message)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # type: ignore[attr-defined]  # the token rotated; keep this session (the user, not the proxy: g would point at itself)
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("auth.account"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/account.html", form=form), status


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@discloses_none("the set-password form")
def set_password(token: str) -> Any:
    if len(token) > 100 or accounts.user_for_token(db.session, token) is None:
        return render_template("auth/set_password.html", form=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.set_password_with_token(db.session, token, form.new_password.data or "",
                                                    form.confirm.data or "")
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "new_password").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Welcome, %(name)s. Your password is set; please log in.", name=user.first_name), "success")
            return redirect(url_for("auth.login"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form), status
