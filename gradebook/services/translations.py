"""The school's own data in another language: scale labels, level descriptors, standard statements."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gradebook.models import (
    LANGUAGES,
    TRANSLATABLE,
    AuditEvent,
    Competency,
    LevelDescriptor,
    ScaleLevel,
    TextTranslation,
    User,
)
from gradebook.services import ServiceError

_TABLES = {"scale_levels": ScaleLevel, "competencies": Competency, "level_descriptors": LevelDescriptor}
MAX_TEXT = 2000


def translations_of(session: Session, language: str, keys: list[tuple[str, int, str]]) -> dict[tuple[str, int, str], str]:
    """The texts entered in `language` for these (table, row, field) keys."""
    if not keys:
        return {}
    rows = session.scalars(select(TextTranslation).where(
        TextTranslation.language == language, TextTranslation.row_id.in_({row for _t, row, _f in keys})))
    wanted = set(keys)
    return {(t.table_name, t.row_id, t.field): t.text for t in rows if (t.table_name, t.row_id, t.field) in wanted}


def save_translations(session: Session, actor: User, language: str, texts: dict[tuple[str, int, str], str]) -> int:
    """Enter, change or (with an empty text) remove translations into `language`. Refuses the whole set, writing
    nothing, if a key is not a translatable field of an existing row or a text is too long. Returns how many
    translations changed."""
    if language not in LANGUAGES:
        raise ServiceError(f"Translations can be entered in: {', '.join(LANGUAGES)}.")
    for (table, row_id, field), text in texts.items():
        if (table, field) not in TRANSLATABLE or session.get(_TABLES[table], row_id) is None:
            raise ServiceError("Only a scale level's label and meaning, a standard's statement and short name, and a "
                               "level descriptor can be translated.")
        if len(text) > MAX_TEXT:
            raise ServiceError(f"Each translation is limited to {MAX_TEXT} characters.")
    existing = {(t.table_name, t.row_id, t.field): t for t in session.scalars(select(TextTranslation).where(
        TextTranslation.language == language, TextTranslation.row_id.in_({k[1] for k in texts})))}
    changed = 0
    for key, text in texts.items():
        text = text.strip()
        row = existing.get(key)
        if not text:
            if row is not None:
                session.execute(delete(TextTranslation).where(TextTranslation.id == row.id))
                changed += 1
        elif row is None:
            session.add(TextTranslation(table_name=key[0], row_id=key[1], field=key[2], language=language, text=text))
            changed += 1
        elif row.text != text:
            row.text = text
            changed += 1
    if changed:
        session.add(AuditEvent(actor_id=actor.id, action="translations.save", target_type=next(iter(texts))[0],
                               detail={"language": language, "changed": changed}))
    return changed
