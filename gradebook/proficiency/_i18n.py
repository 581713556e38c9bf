"""The language the explanation sentences are spoken in: English unless the application installs a translator.

Pure: the web layer calls :func:`install` once with gettext functions that look up the current reader's
language (Flask-Babel's); the CLI and the tests keep English. Messages are marked ``_("...")`` with
``%(name)s`` placeholders, so the gettext catalogues in translations/ pick them up.
"""

from __future__ import annotations

from collections.abc import Callable

_gettext: Callable[[str], str] = lambda message: message  # noqa: E731
_ngettext: Callable[[str, str, int], str] = lambda singular, plural, n: singular if n == 1 else plural  # noqa: E731


def install(gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str]) -> None:
    """Speak the sentences through these functions from now on."""
    global _gettext, _ngettext
    _gettext, _ngettext = gettext, ngettext


def _(message: str, **values: object) -> str:
    text = _gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = _ngettext(singular, plural, n)
    return text % {"num": n, **values}
