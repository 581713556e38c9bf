"""Log in, log out, change password, set a password from a one-time link."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

from gradebook.authz import roles_required
from gradebook.extensions import db, limiter
from gradebook.models import ROLES, AuditEvent, User
from gradebook.services import ServiceError, accounts

bp = Blueprint("auth", __name__)


def load_user(user_id: str) -> User | None:
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or user.session_token != token:
        return None
    return user


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254),
                                            Regexp(accounts.EMAIL_RE, message="Enter a valid email address.")],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me logged in on this device")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                                     Length(max=200)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[DataRequired("Choose a new password."),
                                                             Length(max=200)], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("New password again", validators=[DataRequired("Type the new password again."),
                                                              Length(max=200)], render_kw={"autocomplete": "new-password"})


class SetPasswordForm(FlaskForm):
    new_password = PasswordField("New password", validators=[DataRequired("Choose a password."), Length(max=200)],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Password again", validators=[DataRequired("Type the password again."),
                                                          Length(max=200)], render_kw={"autocomplete": "new-password"})


def landing_url(user: User) -> str:
    return {
        "teacher": url_for("gradebook.my_sections"),
        "student": url_for("portfolio.home"),
        "guardian": url_for("family.home"),
        "admin": url_for("admin.home"),
    }[user.role]


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(db.session, form.email.data or "")
        if accounts.verify_password(user, form.password.data or "") and user is not None:
            if not user.active:
                form.email.errors.append("This account is switched off. Ask your school's admin.")
            else:
                login_user(user, remember=bool(form.remember.data))
                db.session.add(AuditEvent(actor_id=user.id, action="auth.login", ip=request.remote_addr))
                db.session.commit()
                return redirect(_safe_next(request.args.get("next")) or landing_url(user), 303)
        else:
            form.password.errors.append("That email and password do not match an account.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/account", methods=["GET", "POST"])
@roles_required(*ROLES)
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
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("auth.account"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/account.html", form=form), status


@bp.route("/set-password/<token>", methods=["GET", "POST"])
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
            flash(f"Welcome, {user.first_name}. Your password is set; please log in.", "success")
            return redirect(url_for("auth.login"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form), status
