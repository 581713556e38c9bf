"""Blueprints, error pages, security headers and the page-or-fragment helper."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from gradebook import authz
from gradebook.extensions import db, login_manager

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


def register_web(app: Flask) -> None:
    from gradebook.web import (  # noqa: F401  (admin_people, gradebook_*, paths_* and section_settings add routes)
        admin,
        admin_audit,
        admin_imports,
        admin_people,
        artifacts,
        auth,
        family,
        gradebook,
        gradebook_cell,
        gradebook_entry,
        main,
        paths,
        paths_student,
        paths_teacher,
        portfolio,
        section_settings,
        student_page,
    )

    for module in (auth, main, gradebook, portfolio, family, admin, artifacts, paths, paths_teacher):
        app.register_blueprint(module.bp)

    from gradebook.web.auth import load_user

    login_manager.user_loader(load_user)

    @app.before_request
    def _authorise() -> Any:
        return authz.check_request(app.view_functions.get(request.endpoint or ""), request.endpoint)

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if is_fragment_request():
            response = Response("Please log in again.", 401)
            response.headers["HX-Redirect"] = target
            return response
        flash("Please log in to see that page.", "info")
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
        return _error_response(400, "Your form expired or was sent from elsewhere", error.description
                               + " Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if error.code in (301, 302, 303, 307, 308):
            return error
        db.session.rollback()
        titles = {
            400: "That request could not be understood",
            403: "You do not have access to this page",
            404: "We could not find that page",
            405: "That action is not allowed here",
            413: "That file is too large",
            422: "Please check what you entered",
            429: "Too many attempts",
        }
        message = error.description
        if error.code == 413:
            limit = request.max_content_length or app.config.get("MAX_CONTENT_LENGTH") or 0
            message = (f"Files up to {limit // (1024 * 1024)} MB can be sent here. Nothing was saved; "
                       "choose a smaller file, or split it.")
        return _error_response(error.code or 500, titles.get(error.code or 500, error.name), message)

    @app.errorhandler(Exception)
    def _server_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error)
        return _error_response(500, "Something went wrong on our side",
                               "Nothing was saved. Please try again; if it keeps happening, tell your school's admin.")

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
