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
    """Level colours as CSS classes: the CSP allows no inline style, and admins choose the colours."""
    from flask import make_response
    from sqlalchemy import select

    from gradebook.extensions import db
    from gradebook.models import ScaleLevel
    from gradebook.proficiency import Level
    from gradebook.services.gradebook import level_class

    rules, seen = [], set()
    for level in db.session.scalars(select(ScaleLevel).order_by(ScaleLevel.scale_id)):
        css = level_class(level.points)
        if css in seen:
            continue
        seen.add(css)
        ink = Level(points=level.points, label=level.label, colour=level.colour, is_mastery=level.is_mastery).text_colour
        rules.append(f".{css}{{background:{level.colour};color:{ink}}}")
    # Habits of work have their own colours (hb-*), from the scales of the frameworks of kind `habits`
    # (the default habit scale when a framework has none).
    from gradebook.models import Framework
    from gradebook.proficiency import HABIT_SCALE
    from gradebook.services.habits import habit_class

    habit_levels = list(db.session.scalars(select(ScaleLevel).where(ScaleLevel.scale_id.in_(
        select(Framework.scale_id).where(Framework.kind == "habits"))).order_by(ScaleLevel.scale_id)))
    seen_habit: set[str] = set()
    for level in [*habit_levels, *HABIT_SCALE.levels]:
        css = habit_class(level.points)
        if css in seen_habit:
            continue
        seen_habit.add(css)
        ink = Level(points=level.points, label=level.label, colour=level.colour, is_mastery=level.is_mastery).text_colour
        rules.append(f".{css}{{background:{level.colour};color:{ink}}}")
    response = make_response("\n".join(rules) + "\n.lv-none{background:#eef0f4;color:#4b5563}\n"
                             ".hb-none{background:#f3f1ec;color:#4b5563}\n")
    response.mimetype = "text/css"
    response.cache_control.max_age = 60
    return response


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
