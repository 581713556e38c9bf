"""Every file the app hands to a browser goes out through `send_download`: one place builds the
Content-Disposition header, from a name that may be anything a person typed or a file was called."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

from flask import send_file
from werkzeug.wrappers import Response

MAX_NAME = 120
_SEPARATORS = re.compile(r"[/\\]+")
_SPACES = re.compile(r"\s+")


def download_name(name: str | None, fallback: str = "download") -> str:
    """A file name safe to offer: no control or formatting characters (CR/LF, tabs, bidi overrides), no
    folders, no leading dots or dashes, at most MAX_NAME characters with the extension kept. Quotes and
    non-ASCII letters stay: Werkzeug quotes the first and sends the second as RFC 5987 ``filename*``."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    text = _SEPARATORS.sub("-", text)
    text = _SPACES.sub(" ", text).strip().lstrip(".- ")
    if len(text) > MAX_NAME:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            text = stem[: MAX_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:MAX_NAME].rstrip()
    return text or fallback


def send_download(body: bytes | str | Path, *, name: str | None, mimetype: str, inline: bool = False,
                  fallback: str = "download") -> Response:
    """Send a file or some bytes to be saved (or, with `inline`, shown) under a safe version of `name`.
    Nothing here is for a shared cache: what we serve is somebody's record."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    source = io.BytesIO(body) if isinstance(body, bytes) else body
    response = send_file(source, mimetype=mimetype, as_attachment=not inline,
                         download_name=download_name(name, fallback), max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
