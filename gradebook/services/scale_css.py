"""The level colours as a stylesheet (/scale.css: the CSP allows no inline style), and the version its URL
carries so a browser may keep it for a year yet never shows colours older than the page.

Each school's pages show its scale's colours (a section with its own scale, that scale's): the URL names the
school (or the scale) and carries the version, a short hash of the scale's levels (points and colour), so
caches never mix two schools' colours. A page that shows levels has read its scale in this transaction
already, so the URL costs it no statement; a page that has not links the stylesheet without a version, which
then gives the colours of the viewer's school and is revalidated on every use (never stale, a 304 when
unchanged).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook import proficiency as prof
from gradebook.models import Framework, ScaleLevel
from gradebook.services.gradebook import level_class
from gradebook.services.habits import habit_class
from gradebook.services.proficiency import _MEMO

NO_LEVEL_RULE = ".lv-none{background:#eef0f4;color:#4b5563}"
NO_HABIT_RULE = ".hb-none{background:#f3f1ec;color:#4b5563}"


def version_of(levels: Iterable[tuple[float, str]]) -> str:
    """The version of a scale's colours: a hash of its levels' points and colours."""
    text = ";".join(f"{points:g}:{colour.lower()}" for points, colour in sorted(levels))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def version_already_read(session: Session) -> dict[str, int | str] | None:
    """The stylesheet's URL parameters for the scale this transaction has read, without a statement: the
    school whose default scale it is (``school``), or the section's own scale (``scale``), and its version
    (``v``). Several read (a list of sections of several schools): a school's default first. None: none read."""
    scales = [(key, value) for key, value in session.info.get(_MEMO, {}).items()
              if key and key[0] == "scale" and isinstance(value, prof.Scale)]
    if not scales:
        return None
    scales.sort(key=lambda item: (item[0][1] is not None, item[0][1] or 0, item[0][2] or 0))
    (_, scale_id, school_id), scale = scales[0]
    params: dict[str, int | str] = {"scale": scale_id} if scale_id is not None else \
        {"school": school_id} if school_id is not None else {}
    params["v"] = version_of((lv.points, lv.colour) for lv in scale.levels)
    return params


def stylesheet(session: Session, *, scale_id: int | None = None, school_id: int | None = None) -> tuple[str, set[str]]:
    """The stylesheet of one scale's level colours: the scale ``scale_id``, else the default scale of
    ``school_id`` (its own, else the district's; None: the first school's), and the versions it is current for.
    A level another scale has and this one lacks keeps that scale's colour (so no badge is ever uncoloured)."""
    from gradebook.models import ProficiencyScale
    from gradebook.services.proficiency import scale_row_for

    chosen = session.get(ProficiencyScale, scale_id) if scale_id is not None else None
    if chosen is None:
        chosen = scale_row_for(session, None, school_id=school_id)
    rules, seen = [], set()
    own: list[tuple[float, str]] = []
    for level in session.scalars(select(ScaleLevel).order_by(ScaleLevel.scale_id != chosen.id, ScaleLevel.scale_id,
                                                             ScaleLevel.points)):
        if level.scale_id == chosen.id:
            own.append((level.points, level.colour))
        css = level_class(level.points)
        if css in seen:
            continue
        seen.add(css)
        ink = prof.Level(points=level.points, label=level.label, colour=level.colour,
                         is_mastery=level.is_mastery).text_colour
        rules.append(f".{css}{{background:{level.colour};color:{ink}}}")
    # Habits of work have their own colours (hb-*), from the scales of the frameworks of kind `habits`
    # (the default habit scale when a framework has none).
    habit_levels = list(session.scalars(select(ScaleLevel).where(ScaleLevel.scale_id.in_(
        select(Framework.scale_id).where(Framework.kind == "habits"))).order_by(ScaleLevel.scale_id)))
    seen_habit: set[str] = set()
    for level in [*habit_levels, *prof.HABIT_SCALE.levels]:
        css = habit_class(level.points)
        if css in seen_habit:
            continue
        seen_habit.add(css)
        ink = prof.Level(points=level.points, label=level.label, colour=level.colour,
                         is_mastery=level.is_mastery).text_colour
        rules.append(f".{css}{{background:{level.colour};color:{ink}}}")
    return "\n".join([*rules, NO_LEVEL_RULE, NO_HABIT_RULE]) + "\n", {version_of(own)}
