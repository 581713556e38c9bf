"""The section-scoped blueprints (the gradebook's, the teacher's learning paths): every URL starts with
/sections/<section_id>, and the section is loaded and authorised once, before the view (after the role check);
a section closed with its term refuses every change there (423, see refuse_writes_to_closed)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request
from flask_login import current_user
from sqlalchemy import select

from gradebook import authz
from gradebook.extensions import db
from gradebook.models import Competency, Section, SectionStandard
from gradebook.services.proficiency import load_section_with_settings
from gradebook.web import refuse_writes_to_closed


def scope_to_section(bp: Blueprint) -> None:
    """`section_id` leaves the view's arguments for `g.section` (a section the user teaches, else 404), and
    url_for within the blueprint fills it back in."""

    @bp.url_value_preprocessor
    def _pull_section_id(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.section_id = values.pop("section_id", None) if values else None

    @bp.url_defaults
    def _refill_section_id(_endpoint: str, values: dict[str, Any]) -> None:
        if "section_id" not in values and getattr(g, "section_id", None) is not None:
            values["section_id"] = g.section_id

    @bp.before_request
    def _load_section() -> None:
        if g.section_id is None:
            return
        locks = getattr(current_app.view_functions.get(request.endpoint or ""), "locks_student", None)
        if locks is not None and request.method == "POST" and isinstance((request.view_args or {}).get(locks), int):
            from gradebook.services.evidence import (
                load_section_for_save,  # the save's lock in the same statement
            )

            section, teaches = load_section_for_save(db.session, g.section_id, current_user, request.view_args[locks])
        else:
            section, teaches = load_section_with_settings(db.session, g.section_id, current_user)
        authz.require(section is not None and teaches)
        g.section = section
        refuse_writes_to_closed(section)


def scoped_section() -> Section:
    """The section of this request's URL (loaded and authorised by scope_to_section)."""
    return g.section


def scoped_standard_or_404(competency_id: int) -> Competency:
    """A standard the section assesses, else 404."""
    standard = db.session.scalar(
        select(Competency).join(SectionStandard, SectionStandard.competency_id == Competency.id)
        .where(SectionStandard.section_id == scoped_section().id, Competency.id == competency_id))
    authz.require(standard is not None)
    return standard  # type: ignore[return-value]
