"""The level colours as a stylesheet (/scale.css: the CSP allows no inline style), and the version its URL
carries so a browser may keep it for a year yet never shows colours older than the page.

The version is a short hash of a scale's levels (points and colour). A page that shows levels has read its
scale in this transaction already, so the version costs it no statement; a page that has not links the
stylesheet without a version, which is then revalidated on every use (never stale, a 304 when unchanged).
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


def version_already_read(session: Session) -> str | None:
    """The version of the scale this transaction has read (the school's first), without a statement."""
    scales = [(key, value) for key, value in session.info.get(_MEMO, {}).items()
              if key and key[0] == "scale" and isinstance(value, prof.Scale)]
    if not scales:
        return None
    scales.sort(key=lambda item: item[0][1] is not None)  # the school's own scale first
    return version_of((lv.points, lv.colour) for lv in scales[0][1].levels)


def stylesheet(session: Session) -> tuple[str, set[str]]:
    """The stylesheet of every scale's level colours, and the versions it is current for."""
    rules, seen = [], set()
    by_scale: dict[int, list[tuple[float, str]]] = {}
    for level in session.scalars(select(ScaleLevel).order_by(ScaleLevel.scale_id, ScaleLevel.points)):
        by_scale.setdefault(level.scale_id, []).append((level.points, level.colour))
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
    return "\n".join([*rules, NO_LEVEL_RULE, NO_HABIT_RULE]) + "\n", \
        {version_of(levels) for levels in by_scale.values()}
