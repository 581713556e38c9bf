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


def install(gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str], *,
            level_label: Callable[[str], str] | None = None, format_date: Callable[[date], str] | None = None) -> None:
    """Speak the sentences through these functions from now on: gettext and ngettext for our words,
    `level_label` for a scale level's label (the school's own word, maybe translated by the school),
    `format_date` for dates."""
    global _gettext, _ngettext, _level_label, _date
    _gettext, _ngettext = gettext, ngettext
    if level_label is not None:
        _level_label = level_label
    _date = format_date


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is defined; translate it with _() where it is shown."""
    return message


def level_label(label: str) -> str:
    return _level_label(label)


def date_hook() -> Callable[[date], str] | None:
    return _date


def _(message: str, **values: object) -> str:
    text = _gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = _ngettext(singular, plural, n)
    return text % {"num": n, **values}
