from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user


def nav_links() -> list[tuple[str, str, str | tuple[str, ...]]]:
    """(label, url, endpoint prefix or prefixes) for the current user's role."""
    if not current_user.is_authenticated:
        return []
    role = current_user.role
    links: list[tuple[str, str, str | tuple[str, ...]]] = []
    if role == "teacher":
        links = [(_("My sections"), url_for("gradebook.my_sections"), "gradebook.")]
    elif role == "student":
        links = [(_("My portfolio"), url_for("portfolio.home"), ("portfolio.", "paths.student_"))]
    elif role == "guardian":
        links = [(_("My children"), url_for("family.home"), "family.")]
    elif role == "admin":
        links = [(_("Setup"), url_for("admin.home"), "admin."), (_("Sections"), url_for("gradebook.my_sections"), "gradebook.")]
    links.append((_("Account"), url_for("auth.account"), "auth."))
    return links
