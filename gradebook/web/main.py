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

    scale_id, school_id = (value if value is not None and 0 < value < 2**31 else None
                           for value in (request.args.get("scale", type=int), request.args.get("school", type=int)))
    viewer = scale_id is None and school_id is None and current_user.is_authenticated
    if viewer:
        school_id = _viewers_school()
    css, versions = stylesheet(db.session, scale_id=scale_id, school_id=school_id)
    response = make_response(css)
    response.mimetype = "text/css"
    if request.args.get("v") in versions:
        response.cache_control.public = True
        response.cache_control.max_age = 365 * 24 * 3600
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
        if viewer:  # the viewer's school's colours: not for a shared cache
            response.cache_control.private = True
        response.add_etag()
        response.make_conditional(request)
    return response


def _viewers_school() -> int | None:
    """The school whose colours a page without a scale shows: a district admin's picked school, else the
    viewer's (first) school; None: the first school's."""
    from flask import session
    from sqlalchemy import select

    from gradebook.authz import ADMIN_SCHOOL_KEY
    from gradebook.extensions import db
    from gradebook.models import SchoolMember

    picked = session.get(ADMIN_SCHOOL_KEY)
    if isinstance(picked, int) and current_user.role == "admin":
        return picked
    return db.session.scalar(select(SchoolMember.school_id).where(SchoolMember.user_id == current_user.id)
                             .order_by(SchoolMember.school_id).limit(1))


@bp.app_template_global()
def scale_css_url() -> str:
    """/scale.css with the version of the colours this page shows, when the page has read its scale."""
    from gradebook.extensions import db
    from gradebook.services.scale_css import version_already_read

    params = version_already_read(db.session)
    return url_for("main.scale_css", **params) if params else url_for("main.scale_css")


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
