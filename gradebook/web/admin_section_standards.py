"""The standards a section assesses, picked on the admin's section page: by framework (each collapsed until
opened, its standards loaded then, a page at a time) or found with a search the server answers, so the page
stays small however many standards the school has imported. The chosen ones are always listed at the top.

The form says which standards it showed (`shown`) besides which are ticked (`standards`): a standard the
page never showed keeps its place, so saving after opening one framework leaves the others as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import render_template, request
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from gradebook.authz import AdminScope, admin_scope, discloses_none, roles_required
from gradebook.extensions import db
from gradebook.models import Competency, Framework, Section, SectionStandard
from gradebook.web.admin import bp
from gradebook.web.forms import id_number

PAGE = 200  # standards of one framework per page
FOUND = 50  # search results shown at most
SEARCH_MAX = 100  # characters of a search
MAX_CHOSEN = 5000  # standards one section may assess


def _leaf(scope: AdminScope) -> Any:
    """Standards are the leaves of a framework's tree (evidence is recorded against them), never habits of
    work (tracked apart: gradebook.section_habits), and in a framework the admin may use (a school admin: the
    district's library and their school's frameworks)."""
    child = aliased(Competency)
    usable = scope.frameworks(select(Framework.id).where(Framework.kind != "habits"))
    return ~exists().where(child.parent_id == Competency.id) & Competency.framework_id.in_(usable)


def _chosen(section: Section) -> list[Competency]:
    return list(db.session.scalars(
        select(Competency).join(SectionStandard, SectionStandard.competency_id == Competency.id)
        .where(SectionStandard.section_id == section.id).order_by(SectionStandard.position, Competency.code)))


def standards_picker(section: Section, args: Mapping[str, str], scope: AdminScope) -> dict[str, Any]:
    """The section page's picker: frameworks with their counts, the chosen standards, and (without
    JavaScript) the framework opened or the search asked for in the URL."""
    chosen = _chosen(section)
    counts = dict(db.session.execute(
        select(Competency.framework_id, func.count()).where(_leaf(scope)).group_by(Competency.framework_id)).all())
    frameworks = [(f, counts.get(f.id, 0), sum(1 for c in chosen if c.framework_id == f.id))
                  for f in db.session.scalars(scope.frameworks(select(Framework).where(Framework.kind != "habits"))
                                              .order_by(Framework.title))]
    opened = _id_arg(args, "framework")
    query = (args.get("q") or "").strip()[:SEARCH_MAX]
    return {"chosen": chosen, "frameworks": frameworks, "titles": {f.id: f.title for f, *_ in frameworks},
            "opened": opened, "opened_page": _framework_page(section, opened, _offset(args), scope) if opened else None,
            "query": query, "found": _search(section, query, scope) if query else None}


def _id_arg(args: Mapping[str, str], name: str) -> int | None:
    try:
        return id_number(args.get(name) or "") if args.get(name) else None
    except ValueError:
        return None


def _offset(args: Mapping[str, str]) -> int:
    try:
        return max(0, min(int(args.get("offset") or 0), 10_000_000))
    except ValueError:
        return 0


def _framework_page(section: Section, framework_id: int, offset: int, scope: AdminScope) -> dict[str, Any]:
    """One page of a framework's standards not chosen yet (the chosen ones are listed at the top)."""
    taken = select(SectionStandard.competency_id).where(SectionStandard.section_id == section.id)
    rows = list(db.session.scalars(
        select(Competency).where(Competency.framework_id == framework_id, _leaf(scope), Competency.id.not_in(taken))
        .order_by(Competency.position, Competency.code, Competency.id).offset(offset).limit(PAGE + 1)))
    return {"framework_id": framework_id, "rows": rows[:PAGE], "offset": offset,
            "more": offset + PAGE if len(rows) > PAGE else None, "size": PAGE}


def _search(section: Section, query: str, scope: AdminScope) -> dict[str, Any]:
    """Standards whose code, short name or statement holds every word of the query (not chosen yet)."""
    taken = select(SectionStandard.competency_id).where(SectionStandard.section_id == section.id)
    conditions = []
    for word in query.lower().split()[:8]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(func.lower(Competency.code).like(pattern, escape="\\"),
                              func.lower(Competency.short_name).like(pattern, escape="\\"),
                              func.lower(Competency.statement).like(pattern, escape="\\")))
    rows = list(db.session.scalars(
        select(Competency).where(_leaf(scope), Competency.id.not_in(taken), *conditions)
        .order_by(Competency.code, Competency.id).limit(FOUND + 1)))
    return {"rows": rows[:FOUND], "more": len(rows) > FOUND}


def save_section_standards(section: Section, form: Mapping[str, Any], scope: AdminScope) -> int:
    """Apply the picker: ticked standards join (in the order shown), shown and unticked ones leave, others
    stay. Returns how many the section assesses now. (A form without `shown` lists every standard it wants.)"""
    ticked = list(dict.fromkeys(form.getlist("standards", type=id_number)))[:MAX_CHOSEN]  # type: ignore[attr-defined]
    current = {s.competency_id: s for s in db.session.scalars(
        select(SectionStandard).where(SectionStandard.section_id == section.id).order_by(SectionStandard.position))}
    if "shown" in form:
        shown = set(form.getlist("shown", type=id_number))  # type: ignore[attr-defined]
        wanted = [cid for cid in current if cid not in shown or cid in ticked] + \
            [cid for cid in ticked if cid not in current]
    else:
        wanted = ticked
    valid = set(db.session.scalars(select(Competency.id).where(Competency.id.in_(wanted), _leaf(scope)))) | \
        (set(current) & set(wanted))
    wanted = [cid for cid in wanted if cid in valid]
    for cid in set(current) - set(wanted):
        db.session.delete(current[cid])
    for position, cid in enumerate(wanted):
        if cid in current:
            current[cid].position = position
        else:
            db.session.add(SectionStandard(section_id=section.id, competency_id=cid, position=position))
    return len(wanted)


@bp.get("/sections/<int:section_id>/standards")
@roles_required("admin")
@discloses_none("standards to choose from: a framework's, or those a search finds")
def section_standards(section_id: int) -> Any:
    """The picker's fragments: one page of a framework's standards (?framework=…&offset=…), or a search (?q=…)."""
    scope = admin_scope()
    section = scope.section_or_404(section_id)
    framework_id = _id_arg(request.args, "framework")
    if framework_id is not None:
        return render_template("admin/_standards_page.html", section=section,
                               page=_framework_page(section, framework_id, _offset(request.args), scope))
    query = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    titles = dict(db.session.execute(select(Framework.id, Framework.title)).all())
    return render_template("admin/_standards_found.html", section=section, query=query, titles=titles,
                           found=_search(section, query, scope) if query else None)
