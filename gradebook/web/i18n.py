"""Which language a page speaks, the switch on every page, and the school's data in the reader's language.

The language comes from the account (set by the admin, a roster import, or the person), then, for a
logged-out visitor, the switch's cookie, then the browser's Accept-Language. School data (scale labels,
level descriptors, standard statements) shows in the reader's language where the school entered it; else the
original shows, marked with its language (`<span lang="en">`), so a screen reader pronounces it right.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, has_request_context, redirect, request, url_for
from flask_babel import format_date, get_locale, get_translations, gettext, refresh
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from gradebook.authz import discloses_none
from gradebook.extensions import db
from gradebook.models import LANGUAGE_NAMES, LANGUAGES, ScaleLevel, TextTranslation

bp = Blueprint("i18n", __name__)

LANGUAGE_COOKIE = "language"


def select_locale() -> str:
    """The account's language, then the switch's cookie, then the browser's, then English."""
    if not has_request_context():
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    if current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    return request.accept_languages.best_match(LANGUAGES) or "en"


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


@bp.post("/language")
@discloses_none("sets the reader's language and redirects")
def switch_language() -> Response:
    """The switch on every page: a logged-in person's choice is kept on their account, anyone's in a cookie."""
    from gradebook.web.auth import safe_next_url

    language = request.form.get("language", "")
    if language not in LANGUAGES:
        raise BadRequest(gettext("Choose one of these languages: %(names)s.",
                                 names=", ".join(LANGUAGE_NAMES.values())))
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()
    target = safe_next_url(request.form.get("next")) or url_for("main.index")
    response = redirect(target, 303)
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=bool(current_app.config.get("PRODUCTION")))
    return response


# ------------------------------------------------------------------ school data in the reader's language

def _school_language() -> str:
    return current_app.config.get("SCHOOL_LANGUAGE", "en")


def _translations(language: str) -> dict[tuple[str, int, str], str]:
    """Every translation into `language`, read once per request (one query, whatever the page shows)."""
    cache: dict[str, dict[tuple[str, int, str], str]] = g.setdefault("_school_translations", {})
    if language not in cache:
        cache[language] = {
            (t.table_name, t.row_id, t.field): t.text
            for t in db.session.scalars(select(TextTranslation).where(TextTranslation.language == language))
        }
    return cache[language]


def _plain() -> bool:
    """A plain-text e-mail is being rendered: school words go in as they are, without HTML marks."""
    return has_request_context() and bool(g.get("_plain_text"))


def _as_is(text: str) -> Markup:
    return Markup(text) if _plain() else Markup(escape(text))  # noqa: S704 - plain text, never HTML


def _marked(language: str, text: str) -> Markup:
    """Text in another language than the page's, marked so a screen reader says it right (not in plain text)."""
    if _plain():
        return Markup(text)  # noqa: S704 - plain text, never HTML
    return Markup('<span lang="{}">{}</span>').format(language, text)


def school_text(table: str, row_id: int | None, field: str, original: str | None) -> Markup:
    """`original` in the reader's language: the school's translation, else the original marked with its
    language."""
    original = original or ""
    language = current_language()
    source = _school_language()
    if language == source or not original:
        return _as_is(original)
    translated = _translations(language).get((table, row_id or 0, field))
    if translated:
        return _as_is(translated)
    return _marked(source, original)


def as_written(text: str | None) -> Markup:
    """Words a person at the school wrote (feedback, a reflection, a goal), as written: marked with the
    school's language when the page is in another one."""
    text = text or ""
    source = _school_language()
    if current_language() == source or not text:
        return _as_is(text)
    return _marked(source, text)


def local(obj: Any, field: str) -> Markup:
    """A model's field in the reader's language (`{{ local(competency, 'statement') }}`)."""
    return school_text(obj.__tablename__, obj.id, field, getattr(obj, field))


def _scale_level_ids() -> dict[tuple[float, str], int]:
    cached = g.get("_scale_level_ids")
    if cached is None:
        cached = {(lv.points, lv.label): lv.id for lv in db.session.scalars(select(ScaleLevel))}
        g._scale_level_ids = cached
    return cached


def level_text(level: Any, field: str = "label") -> Markup:
    """A scale level's label or description in the reader's language (levels are plain values of the pure
    core: found by their points and label)."""
    original = getattr(level, field)
    if current_language() == _school_language():
        return _as_is(original)
    return school_text("scale_levels", _scale_level_ids().get((level.points, level.label)), field, original)


_VERBS = {"does": "do", "is": "be", "has": "have", "goes": "go", "tries": "try"}


def as_action(descriptor: str) -> str:
    """An English level descriptor ("Does this on their own and gets it right.") as something to do
    ("Do this on your own and get it right."): the next step says what to do, not what the standard is."""
    words = descriptor.strip().split(" ")
    if not words or not words[0]:
        return descriptor
    if words[0].lower() == "can" and len(words) > 1:
        words = words[1:]
    elif words[0].lower() == "is" and len(words) > 2 and words[1] == "beginning" and words[2] == "to":
        words = ["Begin", "to", *words[3:]]
    out = []
    for i, word in enumerate(words):
        lower = word.lower()
        after_and = i > 0 and words[i - 1].lower() == "and"
        if i == 0 or (after_and and lower.endswith("s") and lower not in {"this", "its", "is", "as"}):
            if lower in _VERBS:
                word = _VERBS[lower]
            elif lower.endswith("ies"):
                word = word[:-3] + "y"
            elif lower.endswith(("ches", "shes", "sses", "xes")):
                word = word[:-2]
            elif lower.endswith("s") and not lower.endswith("ss"):
                word = word[:-1]
        out.append({"their": "your", "they": "you", "them": "you", "themselves": "yourself"}.get(word, word))
    text = " ".join(out)
    return text[0].upper() + text[1:]


def next_step_text(descriptor: Any) -> Markup:
    """The next step from the next level's descriptor: the school's translation as written, or in English
    phrased as an action."""
    language = current_language()
    if language == _school_language() == "en":
        return _as_is(as_action(descriptor.description))
    translated = _translations(language).get(("level_descriptors", descriptor.id, "description")) \
        if language != _school_language() else descriptor.description
    if translated:
        return _as_is(translated)
    return _marked(_school_language(), as_action(descriptor.description))


def _label_words(label: str) -> str:
    """A scale label in the reader's language, for the pure core's sentences (plain text)."""
    if not has_request_context() or current_language() == _school_language():
        return label
    row_id = next((i for (_points, text), i in _scale_level_ids().items() if text == label), None)
    return _translations(current_language()).get(("scale_levels", row_id or 0, "label"), label)


def _date_words(day: Any) -> str:
    if not has_request_context():
        return f"{day.day} {('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')[day.month - 1]} {day.year}"
    return format_date(day, "d MMM yyyy")


def record_words() -> dict[str, Any]:
    """What the student record file needs to speak the reader's language (gradebook.interop.export)."""
    translations = get_translations()
    return {"gettext": translations.ugettext, "ngettext": translations.ungettext, "local": local,
            "school_text": school_text,
            "level_text": level_text, "as_written": as_written, "next_step_text": next_step_text,
            "format_date": format_date, "language": current_language()}


def register_i18n(app: Any) -> None:
    """Template helpers, and the pure core's sentences spoken in the reader's language."""
    from gradebook.proficiency import _i18n

    _i18n.install(lambda message: get_translations().ugettext(message),
                  lambda singular, plural, n: get_translations().ungettext(singular, plural, n),
                  level_label=_label_words, format_date=_date_words, written=as_written)
    app.register_blueprint(bp)

    @app.before_request
    def _language_of_this_request() -> None:
        # Each request decides its language afresh (a test client's requests can share one app context).
        refresh()
        g.pop("_school_translations", None)
        g.pop("_scale_level_ids", None)

    # Globals, not a context processor: the macros imported by templates see them too.
    app.jinja_env.globals.update({"local": local, "level_text": level_text, "school_text": school_text, "as_written": as_written,
                "next_step_text": next_step_text, "current_language": current_language,
                "language_names": LANGUAGE_NAMES, "format_date": format_date})
