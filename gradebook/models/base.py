"""Declarative base with a naming convention, so migrations name constraints the same everywhere."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Naive UTC: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def choice(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    """A CHECK that keeps a string column to a fixed set of values (portable, unlike native enums)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------- what a column can store

# Our id and count columns are INTEGER (32-bit on PostgreSQL); BIGINT would hold 64 bits.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# C0 and C1 control characters and DEL. A single-line column (String) takes none of them; a multi-line one
# (Text) keeps tab and line breaks (browsers send a textarea's new lines as CR LF).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def is_multiline(column: Column[Any]) -> bool:
    return isinstance(column.type, Text)


def control_character(value: str, *, multiline: bool) -> str | None:
    """The first control character in `value` a field of this kind refuses, or None."""
    found = (_CONTROL_IN_TEXT if multiline else _CONTROL).search(value)
    return found.group() if found else None


def describe_character(char: str) -> str:
    return "a NUL character" if char == "\x00" else f"a control character (U+{ord(char):04X})"


def value_problem(column: Column[Any], value: Any, *, control_characters: bool = True) -> str | None:
    """Why `column` cannot store `value` on SQLite and PostgreSQL alike, in words; None when it can.

    One rule read from each column's declared type: text fits its String(length) and holds no NUL (which
    PostgreSQL refuses and SQLite keeps, making the school impossible to move); single-line text holds no
    control characters and multi-line text none but tab and line breaks; integers fit the column (INTEGER is
    32 bits on PostgreSQL); floats are finite. `control_characters=False` checks only what a database refuses
    (a restore keeps older rows exactly as they were)."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, String) and isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character, which cannot be stored"
        length = kind.length
        if length is not None and len(value) > length:
            return f"is {len(value):,} characters long; at most {length:,} fit"
        if control_characters:
            char = control_character(value, multiline=is_multiline(column))
            if char is not None:
                return f"contains {describe_character(char)}, which cannot be stored"
        return None
    if isinstance(kind, Integer) and isinstance(value, int) and not isinstance(value, bool):
        limit = INT64_MAX if isinstance(kind, BigInteger) else 2**15 - 1 if isinstance(kind, SmallInteger) \
            else INT32_MAX
        if not -limit - 1 <= value <= limit:
            return f"is {value}, outside what can be stored ({-limit - 1} to {limit})"
        return None
    if isinstance(kind, Float) and isinstance(value, float) and not math.isfinite(value):
        return f"is {value}, not a finite number"
    return None


def field_label(column: Column[Any]) -> str:
    """A column's name as a person reads it: "short_name" → "short name"."""
    return str(column.info.get("label") or column.name.replace("_", " "))
