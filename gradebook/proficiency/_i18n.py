"""The language the explanation sentences are spoken in: English unless the application installs a translator.

Pure: the web layer calls :func:`install` once with gettext functions that look up the current reader's
language (Flask-Babel's); the CLI and the tests keep English. Messages are marked ``_("...")`` with
``%(name)s`` placeholders, so the gettext catalogues in translations/ pick them up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

_gettext: Callable[[str], str] = lambda message: message  # noqa: E731
_ngettext: Callable[[str, str, int], str] = lambda singular, plural, n: singular if n == 1 else plural  # noqa: E731


_level_label: Callable[[str], str] = lambda label: label  # noqa: E731
_date: Callable[[date], str] | None = None
_written: Callable[[str], str] | None = None


def install(gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str], *,
            level_label: Callable[[str], str] | None = None, format_date: Callable[[date], str] | None = None,
            written: Callable[[str], str] | None = None) -> None:
    """Speak the sentences through these functions from now on: gettext and ngettext for our words,
    `level_label` for a scale level's label (the school's own word, maybe translated by the school),
    `format_date` for dates, `written` for words the school wrote (a subject's name) as HTML marked with
    their language."""
    global _gettext, _ngettext, _level_label, _date, _written
    _gettext, _ngettext = gettext, ngettext
    if level_label is not None:
        _level_label = level_label
    _date = format_date
    _written = written


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is defined; translate it with _() where it is shown."""
    return message


def level_label(label: str) -> str:
    return _level_label(label)


def date_hook() -> Callable[[date], str] | None:
    return _date


def written_hook() -> Callable[[str], str] | None:
    """How to show the school's own words as HTML (marked with their language), or None: plain text."""
    return _written


def _(message: str, **values: object) -> str:
    text = _gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = _ngettext(singular, plural, n)
    return text % {"num": n, **values}
