"""The sentence for a path to mastery, in the student's own terms.

The maths is :mod:`.mastery_path`; this module only says it. The wording takes ``ngettext`` (Babel's, or
the English default) so the web layer can translate it without this package importing Flask.
"""

from __future__ import annotations

from collections.abc import Callable

from .mastery_path import PathToMastery

NGettext = Callable[[str, str, int], str]

_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
          10: "ten", 11: "eleven", 12: "twelve"}


def _english(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def number_word(count: int) -> str:
    """"two" for 2: a count a student reads as a word, not a figure."""
    return _WORDS.get(count, str(count))


def path_sentence(path: PathToMastery | None, *, ngettext: NGettext = _english) -> str:
    """"Two more pieces of work at Meets would bring this to Meets, or one more at Exceeds." ("" for None.)"""
    if path is None:
        return ""
    route = path.route
    count = number_word(route.pieces)
    text = ngettext("%(count)s more piece of work at %(level)s would bring this to %(goal)s",
                    "%(count)s more pieces of work at %(level)s would bring this to %(goal)s",
                    route.pieces) % {"count": count, "level": route.level.label, "goal": path.mastery.label}
    text = text[:1].upper() + text[1:]
    if path.faster is not None:
        text += ngettext(", or %(count)s more at %(level)s", ", or %(count)s more at %(level)s",
                         path.faster.pieces) % {"count": number_word(path.faster.pieces),
                                                "level": path.faster.level.label}
    return text + "."
