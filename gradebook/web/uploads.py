"""Per-view request body limits. A view that takes bigger files than MAX_CONTENT_LENGTH says so with
`@max_body(bytes)`; `apply_body_limit` runs before every other before_request hook (CSRF's reads the form,
and so the whole body), so the view's limit is the one that counts, and the 413 page names it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])


def max_body(limit: int) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view.max_body = limit  # type: ignore[attr-defined]
        return view

    return mark


def apply_body_limit() -> None:
    """Only for someone the view is for: anyone else stays under the ordinary limit."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_body", None)
    if limit is not None and current_user.is_authenticated and current_user.role in getattr(view, "allowed_roles", ()):
        request.max_content_length = limit
