"""The sentence for a path to mastery, in the student's own terms.

The maths is :mod:`.mastery_path`; this module only says it, through :mod:`._i18n` (the reader's language
once the web layer installs Flask-Babel behind it, English otherwise), or an ``ngettext`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable

from . import _i18n
from ._i18n import N_
from .mastery_path import PathToMastery

NGettext = Callable[[str, str, int], str]

_WORDS = {1: N_("one"), 2: N_("two"), 3: N_("three"), 4: N_("four"), 5: N_("five"), 6: N_("six"),
          7: N_("seven"), 8: N_("eight"), 9: N_("nine"), 10: N_("ten"), 11: N_("eleven"), 12: N_("twelve")}


def _installed(singular: str, plural: str, count: int) -> str:
    return _i18n._ngettext(singular, plural, count)


def number_word(count: int) -> str:
    """"two" for 2: a count a student reads as a word, not a figure."""
    return _i18n._(_WORDS[count]) if count in _WORDS else str(count)


def path_sentence(path: PathToMastery | None, *, ngettext: NGettext = _installed) -> str:
    """"Two more pieces of work at Meets would bring this to Meets, or one more at Exceeds." ("" for None.)"""
    if path is None:
        return ""
    route = path.route
    count = number_word(route.pieces)
    text = ngettext("%(count)s more piece of work at %(level)s would bring this to %(goal)s",
                    "%(count)s more pieces of work at %(level)s would bring this to %(goal)s",
                    route.pieces) % {"count": count, "level": _i18n.level_label(route.level.label),
                                  "goal": _i18n.level_label(path.mastery.label)}
    text = text[:1].upper() + text[1:]
    if path.faster is not None:
        text += ngettext(", or %(count)s more at %(level)s", ", or %(count)s more at %(level)s",
                         path.faster.pieces) % {"count": number_word(path.faster.pieces),
                                                "level": _i18n.level_label(path.faster.level.label)}
    return text + "."
