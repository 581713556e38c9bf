"""One structured line per request, and per job (gradebook/interop/queue.py), on the ``gradebook.events``
logger: JSON with the route pattern (never the filled-in path or the query string, which can name a
student), the status, the user's id and the duration. No names, emails, scores or form contents."""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, Response, g, request
from werkzeug.local import LocalProxy

log = logging.getLogger("gradebook.events")


def configure_event_log(app: Flask) -> None:
    """Info lines to stderr (gunicorn and the worker collect it), unless the host already set a handler."""
    log.setLevel(logging.INFO)
    if not log.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False


def register_request_log(app: Flask) -> None:
    configure_event_log(app)

    @app.before_request
    def _start_clock() -> None:
        g._request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        if request.endpoint == "static":
            return response
        started = g.pop("_request_started", None)
        user = _user_id()
        log.info(json.dumps({
            "event": "request", "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None, "status": response.status_code,
            "user": user, "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        }))
        return response


def _user_id() -> int | None:
    """The logged-in user's id if this request loaded one (never a query of its own, never the proxy)."""
    user = g.get("_login_user")
    if user is None or isinstance(user, LocalProxy):
        return None
    from sqlalchemy import inspect

    state = inspect(user, raiseerr=False)  # the identity, so a committed (expired) user is not reloaded
    if state is not None:
        return state.identity[0] if state.identity else None
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
