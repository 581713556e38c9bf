from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from gradebook.authz import discloses_none
from gradebook.web.auth import landing_url

bp = Blueprint("main", __name__)


@bp.get("/")
@discloses_none("redirects to the landing page")
def index() -> Response:
    """Everyone starts at their own landing page."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    return redirect(url_for("auth.login"))


@bp.get("/scale.css")
@discloses_none("the scale's colours")
def scale_css() -> Response:
    """Level colours as CSS classes: the CSP allows no inline style, and admins choose the colours.

    Asked for with the version of the colours now (?v=…, see `scale_css_url`), it may be kept for a year: a
    change of colour changes the URL. Without a version, or with an old one, it must be revalidated each time.
    """
    from flask import make_response, request

    from gradebook.extensions import db
    from gradebook.services.scale_css import stylesheet

    css, versions = stylesheet(db.session)
    response = make_response(css)
    response.mimetype = "text/css"
    if request.args.get("v") in versions:
        response.cache_control.public = True
        response.cache_control.max_age = 365 * 24 * 3600
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.app_template_global()
def scale_css_url() -> str:
    """/scale.css with the version of the colours this page shows, when the page has read its scale."""
    from gradebook.extensions import db
    from gradebook.services.scale_css import version_already_read

    version = version_already_read(db.session)
    return url_for("main.scale_css", v=version) if version else url_for("main.scale_css")


@bp.get("/healthz")
@discloses_none("a health check")
def healthz() -> tuple[dict[str, object], int]:
    """For the load balancer and the monitor: the database and the job queue, and which one is down (503)."""
    from flask import current_app
    from sqlalchemy import text

    from gradebook.extensions import db
    from gradebook.interop import queue

    checks: dict[str, dict[str, object]] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "detail": db.engine.dialect.name}
    except Exception as error:  # noqa: BLE001 - any failure means the database is down
        db.session.rollback()
        checks["database"] = {"ok": False, "detail": f"the database does not answer ({type(error).__name__})"}
    finally:
        db.session.rollback()
    ok, detail = queue.health(current_app._get_current_object())  # type: ignore[attr-defined]
    checks["queue"] = {"ok": ok, "detail": detail}
    healthy = all(check["ok"] for check in checks.values())
    down = [name for name, check in checks.items() if not check["ok"]]
    return {"ok": healthy, "down": down, "checks": checks}, 200 if healthy else 503
