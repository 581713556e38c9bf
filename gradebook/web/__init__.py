"""Blueprints, error pages, security headers and the page-or-fragment helper."""

from __future__ import annotations

import math
from typing import Any

from flask import Flask, Response, abort, flash, redirect, render_template, request, url_for
from flask import Request as FlaskRequest
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import FileStorage, ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from gradebook import authz
from gradebook.extensions import db, login_manager
from gradebook.models.base import INT32_MAX, control_character, describe_character
from gradebook.proficiency import format_score
from gradebook.services import ServiceError

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def is_fragment_request() -> bool:
    """True for an htmx request that wants a fragment: not a history restore, and not a boosted navigation of
    the whole page (a boosted link aimed at one element, such as a grid cell opening in the side panel, says
    ``HX-Request-Type: partial`` and gets the fragment)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and (headers.get("HX-Boosted") != "true" or headers.get("HX-Request-Type") == "partial")
    )


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """One URL serves the whole page and, for htmx, just the fragment that the page includes."""
    template = fragment if is_fragment_request() else page
    return render_template(template, **context), status


def closed_section_message(section: Any) -> str:
    """Why a closed section refuses a change, in the reader's language: for its teachers and admins, where new
    evidence goes; for a student or a family, that the class can be read but no longer changed."""
    from flask_babel import format_date
    from flask_login import current_user

    when = format_date(section.closed_at, "d MMM yyyy")
    if getattr(current_user, "role", None) in ("student", "guardian"):
        return _("%(section)s ended with its term on %(date)s. You can still read it, but nothing in it can "
                 "change now. Nothing was saved.", section=section.name, date=when)
    return _("%(section)s was closed on %(date)s with its term: its record is read-only. Everything in it is "
             "kept and can still be read; record new evidence in this term's section.",
             section=section.name, date=when)


def refuse_writes_to_closed(section: Any) -> None:
    """A section closed with its term is read-only: its pages answer, every change is refused (423) with why.
    The one check of every route that changes a record tied to a section (teachers', admins', students')."""
    if section is not None and section.closed_at is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
        abort(423, closed_section_message(section))


# ---------------------------------------------------------------- what a request may carry

MAX_ID = INT32_MAX  # every id column is INTEGER


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id is 1 to 2^31-1 (our id columns are INTEGER), so a bigger or smaller
    number matches no route and answers 404 instead of reaching the database."""

    # The range is in the pattern itself, not only in to_python: Werkzeug notes a method mismatch of a rule
    # whose pattern matched before converting, so a GET and a POST rule on one URL would answer 405, not 404.
    regex = (r"(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
             r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])")

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, 1 if min is None else min, MAX_ID if max is None else max, signed)


class RequestParameters(ImmutableMultiDict):  # type: ignore[type-arg]
    """Every form's fields, query arguments and uploaded file names, as the request parses them: the one check
    all forms go through.

    - No name or value carries a control character but tab and line breaks (which multi-line fields keep; the
      models refuse them in single-line ones): a NUL would crash PostgreSQL and be kept by SQLite, after
      which the school could not be moved. Refused with 422, before any view reads the form.
    - A number read with `get(name, type=int)` / `getlist(name, type=int)` (or `type=float`) must be one a
      column can hold (a whole number within ±(2^31-1), a finite decimal under a billion), else 422 before any
      query. Views read numbers that way, never with int() of their own.
    """

    def __init__(self, mapping: Any = None) -> None:
        super().__init__(mapping)
        for name, value in self.items(multi=True):
            text = (value.filename or "") if isinstance(value, FileStorage) else value
            for part in (name, text):
                char = control_character(part, multiline=True) if isinstance(part, str) else None
                if char is not None:
                    abort(422, f"The field “{_printable(name)}” contains {describe_character(char)}: "
                               "remove it and send the form again. Nothing was saved.")

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002  (werkzeug's name)
        value = super().get(key, default, type)
        if value is default or type not in (int, float):
            return value
        return _storable_number(key, value)

    def getlist(self, key: Any, type: Any = None) -> list[Any]:  # noqa: A002
        values = super().getlist(key, type)
        return [_storable_number(key, v) for v in values] if type in (int, float) else values


def _storable_number(key: str, value: int | float) -> int | float:
    if (isinstance(value, int) and not -MAX_ID <= value <= MAX_ID) or \
            (isinstance(value, float) and (not math.isfinite(value) or abs(value) > 1e9)):
        abort(422, f"“{str(value)[:30]}” is not a number this form can take for {_printable(key)}.")
    return value


def _printable(text: str) -> str:
    return "".join(ch for ch in str(text)[:40] if control_character(ch, multiline=False) is None)


class Request(FlaskRequest):
    parameter_storage_class = RequestParameters


def refuse_control_characters_in_url() -> None:
    """The URL's own text values (a token, a file name) follow the same rule as form fields."""
    for value in (request.view_args or {}).values():
        char = control_character(value, multiline=False) if isinstance(value, str) else None
        if char is not None:
            abort(404)


def register_web(app: Flask) -> None:
    from gradebook.web import (  # noqa: F401  (admin_people, gradebook_*, paths_* and section_settings add routes)
        admin,
        admin_audit,
        admin_grades,
        admin_imports,
        admin_jobs,
        admin_people,
        artifacts,
        auth,
        family,
        gradebook,
        gradebook_cell,
        gradebook_entry,
        gradebook_habits,
        main,
        paths,
        paths_student,
        paths_teacher,
        portfolio,
        record,
        section_settings,
        student_page,
        term_report,
    )

    app.request_class = Request
    app.url_map.converters["int"] = IdConverter  # before any blueprint adds its rules
    for module in (auth, main, gradebook, portfolio, family, admin, artifacts, paths, paths_teacher, record):
        app.register_blueprint(module.bp)

    from gradebook.web.i18n import register_i18n

    register_i18n(app)

    from gradebook.web.auth import load_user

    login_manager.user_loader(load_user)

    from gradebook.web.request_log import register_request_log

    register_request_log(app)

    @app.before_request
    def _authorise() -> Any:
        return authz.check_request(app.view_functions.get(request.endpoint or ""), request.endpoint)

    app.before_request(refuse_control_characters_in_url)

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if is_fragment_request():
            response = Response(_("Please log in again."), 401)
            response.headers["HX-Redirect"] = target
            return response
        flash(_("Please log in to see that page."), "info")
        return redirect(target)

    @app.after_request
    def _audit_disclosure(response: Response) -> Response:
        """A view that discloses a student's record writes its audit rows before the answer leaves."""
        authz.audit_disclosure(app.view_functions.get(request.endpoint or ""), response.status_code)
        return response

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # same-origin keeps the Referer on our own requests, which Flask-WTF checks over HTTPS.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("PRODUCTION"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        for header in ("HX-Request", "HX-Boosted", "HX-Request-Type"):  # what is_fragment_request reads
            response.vary.add(header)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int]:
        db.session.rollback()
        return _error_response(400, _("Your form expired or was sent from elsewhere"),
                               error.description + " " + _("Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if error.code in (301, 302, 303, 307, 308):
            return error
        db.session.rollback()
        titles = {
            400: _("That request could not be understood"),
            403: _("You do not have access to this page"),
            404: _("We could not find that page"),
            405: _("That action is not allowed here"),
            413: _("That file is too large"),
            422: _("Please check what you entered"),
            423: _("This class is closed"),
            429: _("Too many attempts"),
        }
        message = error.description
        if message == type(error).description:  # Werkzeug's own words (English): ours, in the reader's language
            message = {
                400: _("Something in the request was not right. Go back, reload the page and try again."),
                403: _("Your account cannot open this page. If you think it should, ask your school's admin."),
                404: _("The address may be wrong, or the page is no longer here. Start again from your home page."),
                405: _("Go back, reload the page and try again."),
                429: _("Wait a few minutes and try again."),
            }.get(error.code or 500, message)
        if error.code == 413:
            limit = request.max_content_length or app.config.get("MAX_CONTENT_LENGTH") or 0
            message = _("Files up to %(size)d MB can be sent here. Nothing was saved; choose a smaller file, "
                        "or split it.", size=limit // (1024 * 1024))
        return _error_response(error.code or 500, titles.get(error.code or 500, error.name), message)

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> tuple[str, int]:
        """Bad input a view did not catch itself (e.g. a value the models refuse at flush): 422, nothing kept."""
        db.session.rollback()
        return _error_response(422, _("Please check what you entered"), error.message + " " + _("Nothing was saved."))

    @app.errorhandler(Exception)
    def _server_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error)
        return _error_response(500, _("Something went wrong on our side"),
                               _("Nothing was saved. Please try again; if it keeps happening, tell your school's admin."))

    # An observed score as the teacher entered it (3, 2.5), rounded the way levels are decided. A computed result
    # beside its level is shown with scale.show(score, places), which never rounds into another level.
    app.add_template_filter(format_score, "score")

    @app.template_filter("split_paragraphs")
    def _split_paragraphs(text: str) -> list[str]:
        return [part.strip() for part in str(text).split("\n\n") if part.strip()]

    @app.context_processor
    def _template_helpers() -> dict[str, Any]:
        from gradebook.web.nav import nav_links

        return {"nav_links": nav_links, "is_fragment": is_fragment_request()}


def _error_response(status: int, title: str, message: str | None) -> tuple[str, int]:
    template = "errors/_error.html" if is_fragment_request() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message or ""), status
