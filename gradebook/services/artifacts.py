"""Uploaded files (photos of work, PDFs, audio): checked by content and size, stored under random names
outside static/, served only to people allowed to see the evidence or portfolio entry they belong to."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from sqlalchemy.orm import Session

from gradebook.models import Artifact, User
from gradebook.proficiency._i18n import _
from gradebook.services import ServiceError

MAX_BYTES = 20 * 1024 * 1024
# What we accept, by the type the *content* shows (the file name and the browser's claim are ignored).
ALLOWED = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "application/pdf": ".pdf",
    "audio/mpeg": ".mp3", "audio/x-wav": ".wav", "audio/ogg": ".ogg", "audio/mp4": ".m4a", "audio/x-m4a": ".m4a",
    "video/mp4": ".mp4",
}
# Shown in the browser; everything else is downloaded (Content-Disposition: attachment).
INLINE_SAFE = {"image/jpeg", "image/png", "image/gif", "image/webp"}


@dataclass(frozen=True)
class Upload:
    filename: str
    stream: BinaryIO


def _read_limited(stream: BinaryIO, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ServiceError(_("That file is larger than %(size)d MB. Try a smaller photo or a compressed PDF.",
                             size=limit // (1024 * 1024)), "file")
    return data


def store_upload(session: Session, upload: Upload, *, folder: str, owner_student_id: int, uploaded_by: User,
                 evidence_id: int | None = None, portfolio_entry_id: int | None = None,
                 max_bytes: int = MAX_BYTES) -> Artifact:
    """Check the file by its content, write it under a random name, and record it."""
    name = os.path.basename((upload.filename or "").replace("\\", "/")).strip()[:255]
    if not name:
        raise ServiceError(_("Choose a file to upload."), "file")
    data = _read_limited(upload.stream, max_bytes)
    if not data:
        raise ServiceError(_("That file is empty."), "file")
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED:
        raise ServiceError(_("That kind of file is not accepted. Upload a photo (JPEG, PNG, GIF, WebP), a PDF, "
                             "or a sound or video recording (MP3, WAV, OGG, M4A, MP4)."), "file")
    stored = secrets.token_hex(16) + ALLOWED[kind.mime]
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / stored
    with open(path, "xb") as out:
        out.write(data)
    try:
        artifact = Artifact(owner_student_id=owner_student_id, uploaded_by_id=uploaded_by.id, evidence_id=evidence_id,
                            portfolio_entry_id=portfolio_entry_id, original_name=name, stored_name=stored,
                            content_type=kind.mime, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        session.add(artifact)
        session.flush()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return artifact


def artifact_path(folder: str, artifact: Artifact) -> Path:
    return Path(folder) / artifact.stored_name
