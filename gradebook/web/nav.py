from __future__ import annotations

from flask import url_for
from flask_login import current_user


def nav_links() -> list[tuple[str, str, str | tuple[str, ...]]]:
    """(label, url, endpoint prefix or prefixes) for the current user's role."""
    if not current_user.is_authenticated:
        return []
    role = current_user.role
    links: list[tuple[str, str, str | tuple[str, ...]]] = []
    if role == "teacher":
        links = [("My sections", url_for("gradebook.my_sections"), "gradebook.")]
    elif role == "student":
        links = [("My portfolio", url_for("portfolio.home"), ("portfolio.", "paths.student_"))]
    elif role == "guardian":
        links = [("My children", url_for("family.home"), "family.")]
    elif role == "admin":
        links = [("Setup", url_for("admin.home"), "admin."), ("Sections", url_for("gradebook.my_sections"), "gradebook.")]
    links.append(("Account", url_for("auth.account"), "auth."))
    return links
