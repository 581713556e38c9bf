"""Backup and restore: the whole database as one portable file, restorable on SQLite or PostgreSQL.

The file is a zip:

- ``manifest.json``: ``format`` ("gradebook-backup"), ``format_version``, the ``alembic_revision`` of the
  database it came from, ``created_at`` (UTC), the source dialect and, per table in dependency order,
  its ``file``, its ``rows`` and its ``columns`` (name → portable kind).
- ``tables/<table>.jsonl``: one JSON object per row, every column, in primary-key order. Values are
  portable: datetimes, dates and times as ISO 8601 strings, JSON columns as JSON, floats as JSON numbers,
  booleans as booleans, decimals as strings, bytes as base64. A JSON column can hold SQL NULL or a JSON
  ``null`` document, and queries tell them apart (``Section.policy IS NULL``), so a row lists the JSON
  columns that are SQL NULL under the reserved key ``"$sql_null"``; a plain ``null`` is JSON null.

Restore goes only into an empty database at the same Alembic revision, in one transaction (a savepoint of
the caller's): a file that is not a backup, is corrupt, or does not fit the database is refused with a
message that says why, and nothing is written. On PostgreSQL every id sequence is moved past the
restored rows.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from alembic.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Time,
    func,
    insert,
    null,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, scoped_session

from gradebook.models import Base
from gradebook.models.base import value_problem
from gradebook.services import ServiceError

FORMAT = "gradebook-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQL_NULL_KEY = "$sql_null"
_CHUNK = 1000

PathOrFile = str | os.PathLike[str] | IO[bytes]


# ---------------------------------------------------------------- portable values


def column_kind(column: Column[Any]) -> str:
    """The portable kind of a column, which decides how its values are written and read back."""
    kind = column.type
    # Order matters: Boolean before Integer, Float before Numeric, DateTime before Date (none subclass
    # another today, but dialect types may), JSON before String.
    checks: tuple[tuple[type, str], ...] = (
        (Boolean, "boolean"), (Integer, "integer"), (Float, "float"), (Numeric, "decimal"),
        (DateTime, "datetime"), (Date, "date"), (Time, "time"), (JSON, "json"), (String, "string"),
        (LargeBinary, "binary"),
    )
    for type_, name in checks:
        if isinstance(kind, type_):
            return name
    raise ServiceError(f"Column {column.table.name}.{column.name} has a type ({kind!r}) backups do not know.")


def to_portable(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "float":
        return float(value)
    if kind == "decimal":
        return str(value)
    if kind == "binary":
        return base64.b64encode(value).decode("ascii")
    if kind == "boolean":
        return bool(value)
    return value


class _BadValue(ValueError):
    pass


def from_portable(kind: str, value: Any) -> Any:
    """The Python value to insert for a portable one; a value of the wrong shape raises _BadValue."""
    if value is None or kind == "json":
        return value
    try:
        if kind == "integer" and type(value) is int:
            return value
        if kind == "float" and type(value) in (int, float):
            return float(value)
        if kind == "boolean" and type(value) is bool:
            return value
        if kind == "string" and type(value) is str:
            return value
        if type(value) is str:
            if kind == "datetime":
                return datetime.fromisoformat(value)
            if kind == "date":
                return date.fromisoformat(value)
            if kind == "time":
                return time.fromisoformat(value)
            if kind == "decimal":
                return Decimal(value)
            if kind == "binary":
                return base64.b64decode(value, validate=True)
    except (ValueError, InvalidOperation) as error:
        raise _BadValue(f"{value!r} is not a valid {kind}") from error
    raise _BadValue(f"{value!r} is not a valid {kind}")


def table_columns(table: Table) -> list[tuple[Column[Any], str]]:
    return [(column, column_kind(column)) for column in table.columns]


def iter_portable_rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    """Every row of a table in primary-key order, as portable values (see the module docstring)."""
    columns = table_columns(table)
    json_columns = [column for column, kind in columns if kind == "json"]
    query = select(*table.columns, *[column.is_(None) for column in json_columns]) \
        .order_by(*table.primary_key.columns)
    # Streamed in batches (a server-side cursor on PostgreSQL). On the statement: options set on the
    # connection would stick to it and turn every later statement into a cursor.
    result = connection.execute(query.execution_options(yield_per=2000))
    width = len(columns)
    for row in result:
        item = {column.name: to_portable(kind, row[i]) for i, (column, kind) in enumerate(columns)}
        sql_nulls = [column.name for column, flag in zip(json_columns, row[width:], strict=True) if flag]
        if sql_nulls:
            item[SQL_NULL_KEY] = sql_nulls
        yield item


def portable_tables(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The whole database as portable rows, table by table: what a backup holds, as a Python value."""
    connection = session.connection()
    return {table.name: list(iter_portable_rows(connection, table)) for table in Base.metadata.sorted_tables}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# ---------------------------------------------------------------- backup


def current_revision(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def backup(session: Session, path_or_file: PathOrFile) -> dict[str, int]:
    """Write every table to one backup file; return the row count per table.

    Reads in one transaction so the file is a consistent snapshot: on PostgreSQL a REPEATABLE READ one
    when the session has not begun yet (otherwise the caller's transaction). Writes to a path through a
    temporary file next to it, so a failed backup never leaves a half-written file under that name.
    """
    plain = session() if isinstance(session, scoped_session) else session  # db.session is a scoped one
    if not plain.in_transaction() and plain.get_bind().dialect.name == "postgresql":
        connection = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        connection = session.connection()
    with _output(path_or_file) as output:
        return _write_backup(connection, output)


@contextlib.contextmanager
def _output(path_or_file: PathOrFile) -> Iterator[IO[bytes]]:
    if not isinstance(path_or_file, str | os.PathLike):
        yield path_or_file
        return
    path = Path(path_or_file)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as output:
            yield output
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def _write_backup(connection: Connection, output: IO[bytes]) -> dict[str, int]:
    counts: dict[str, int] = {}
    tables: dict[str, Any] = {}
    created_at = datetime.now(UTC)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for table in Base.metadata.sorted_tables:
            name = f"tables/{table.name}.jsonl"
            rows = 0
            with archive.open(name, "w", force_zip64=True) as entry:
                lines: list[str] = []
                for row in iter_portable_rows(connection, table):
                    lines.append(_dumps(row))
                    rows += 1
                    if len(lines) >= _CHUNK:
                        entry.write(("\n".join(lines) + "\n").encode("utf-8"))
                        lines = []
                if lines:
                    entry.write(("\n".join(lines) + "\n").encode("utf-8"))
            counts[table.name] = rows
            tables[table.name] = {"file": name, "rows": rows,
                                  "columns": {column.name: kind for column, kind in table_columns(table)}}
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "alembic_revision": current_revision(connection),
            "created_at": created_at.isoformat(timespec="seconds"),
            "source_dialect": connection.dialect.name,
            "counts": counts,
            "tables": tables,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return counts


# ---------------------------------------------------------------- restore


def restore(session: Session, path_or_file: PathOrFile) -> dict[str, int]:
    """Load a backup into an empty database at the same Alembic revision; return the row count per table.

    Everything happens in a savepoint of the caller's transaction (the caller commits): when the file is
    refused or breaks half-way, the savepoint is rolled back and a ServiceError says why.
    """
    archive = _open_archive(path_or_file)
    with archive:
        manifest = _read_manifest(archive)
        connection = session.connection()
        _check_revision(connection, manifest)
        _check_empty(connection)
        savepoint = session.begin_nested()
        connection = session.connection()  # the savepoint is emitted when its connection is asked for
        try:
            counts = {table.name: _restore_table(connection, archive, table, manifest)
                      for table in Base.metadata.sorted_tables}
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection)
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
    session.expire_all()
    return counts


def _name(path_or_file: PathOrFile) -> str:
    if isinstance(path_or_file, str | os.PathLike):
        return os.fspath(path_or_file)
    return str(getattr(path_or_file, "name", "The file"))


def _open_archive(path_or_file: PathOrFile) -> zipfile.ZipFile:
    name = _name(path_or_file)
    try:
        return zipfile.ZipFile(path_or_file)
    except FileNotFoundError as error:
        raise ServiceError(f"{name}: no such file.") from error
    except (zipfile.BadZipFile, EOFError) as error:
        raise ServiceError(f"{name} is not a gradebook backup: it is not a zip file, or it is truncated "
                           f"({error}).") from error
    except OSError as error:
        raise ServiceError(f"{name} cannot be read: {error.strerror or error}.") from error


def _corrupt(detail: str) -> ServiceError:
    return ServiceError(f"The backup is corrupt: {detail}. Nothing was restored.")


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        raw = archive.read(MANIFEST)
    except KeyError as error:
        raise ServiceError(f"This is not a gradebook backup: it has no {MANIFEST}.") from error
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise _corrupt(f"{MANIFEST} cannot be read ({error})") from error
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise _corrupt(f"{MANIFEST} is not valid JSON") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ServiceError(f"This is not a gradebook backup: {MANIFEST} does not say format \"{FORMAT}\".")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ServiceError(f"This backup has format version {version!r}; this version of the gradebook "
                           f"restores format version {FORMAT_VERSION} only.")
    tables = manifest.get("tables")
    if not isinstance(tables, dict):
        raise _corrupt(f"{MANIFEST} lists no tables")
    expected = {table.name for table in Base.metadata.sorted_tables}
    if set(tables) != expected:
        missing, extra = sorted(expected - set(tables)), sorted(set(tables) - expected)
        raise ServiceError("The backup's tables do not match this database's"
                           + (f"; missing: {', '.join(missing)}" if missing else "")
                           + (f"; unknown: {', '.join(extra)}" if extra else "") + ".")
    for table in Base.metadata.sorted_tables:
        entry = tables[table.name]
        columns = {column.name: kind for column, kind in table_columns(table)}
        if not isinstance(entry, dict) or entry.get("columns") != columns:
            raise ServiceError(f"The backup's columns for {table.name} do not match this database's.")
        if type(entry.get("rows")) is not int or entry["rows"] < 0 or not isinstance(entry.get("file"), str):
            raise _corrupt(f"{MANIFEST} has no row count or file for {table.name}")
        if entry["file"] not in archive.namelist():
            raise _corrupt(f"{entry['file']} is missing")
    return manifest


def _check_revision(connection: Connection, manifest: dict[str, Any]) -> None:
    here = current_revision(connection)
    there = manifest.get("alembic_revision")
    if here != there:
        raise ServiceError(f"The backup is at database revision {there or 'none'} but this database is at "
                           f"{here or 'none (no schema yet)'}: bring this database to the backup's revision "
                           "(`flask db upgrade`), then restore.")


def _check_empty(connection: Connection) -> None:
    try:
        counts = {table.name: connection.scalar(select(func.count()).select_from(table))
                  for table in Base.metadata.sorted_tables}
    except DBAPIError as error:
        raise ServiceError("This database does not have the gradebook tables: run `flask db upgrade` "
                           "first, then restore.") from error
    filled = {name: n for name, n in counts.items() if n}
    if filled:
        listed = ", ".join(f"{name} ({n} rows)" for name, n in list(filled.items())[:5])
        more = f" and {len(filled) - 5} more tables" if len(filled) > 5 else ""
        raise ServiceError(f"Restore goes only into an empty database, and this one has data: {listed}{more}. "
                           "Create a new database, run `flask db upgrade`, and restore there.")


def _restore_table(connection: Connection, archive: zipfile.ZipFile, table: Table,
                   manifest: dict[str, Any]) -> int:
    entry = manifest["tables"][table.name]
    rows = _read_rows(archive, entry["file"], table)
    if _self_references(table):
        rows = iter(_parents_first(list(rows), table))
    count = 0
    run: list[dict[str, Any]] = []
    run_nulls: tuple[str, ...] = ()
    try:
        for _, (values, sql_nulls) in rows:
            if sql_nulls != run_nulls or len(run) >= _CHUNK:
                _insert(connection, table, run, run_nulls)
                run, run_nulls = [], sql_nulls
            run.append(values)
            count += 1
        _insert(connection, table, run, run_nulls)
    except (DBAPIError, StatementError) as error:
        reason = getattr(error, "orig", None) or error
        raise _corrupt(f"{table.name} does not fit the database near row {count} "
                       f"({str(reason).splitlines()[0]})") from error
    if count != entry["rows"]:
        raise _corrupt(f"{entry['file']} has {count} rows; the manifest says {entry['rows']}")
    return count


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]], sql_nulls: tuple[str, ...]) -> None:
    if not rows:
        return
    statement = insert(table)
    if sql_nulls:
        # JSON columns would store None as a JSON null document: these rows hold SQL NULL there.
        statement = statement.values({name: null() for name in sql_nulls})
    connection.execute(statement, rows)


Row = tuple[int, tuple[dict[str, Any], tuple[str, ...]]]


def _read_rows(archive: zipfile.ZipFile, name: str, table: Table) -> Iterator[Row]:
    """Parse and check each line of a table file: the exact columns, values of the right kinds."""
    columns = table_columns(table)
    names = {column.name for column, _ in columns}
    json_names = {column.name for column, kind in columns if kind == "json"}
    line_number = 0
    try:
        with archive.open(name) as raw:
            for line_number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), start=1):
                try:
                    item = json.loads(line)
                except ValueError as error:
                    raise _corrupt(f"{name} line {line_number} is not valid JSON") from error
                if not isinstance(item, dict):
                    raise _corrupt(f"{name} line {line_number} is not a row")
                sql_nulls = tuple(item.pop(SQL_NULL_KEY, ()))
                if set(item) != names:
                    raise _corrupt(f"{name} line {line_number} does not have exactly the table's columns")
                if not set(sql_nulls) <= json_names or any(item[n] is not None for n in sql_nulls):
                    raise _corrupt(f"{name} line {line_number} has a bad {SQL_NULL_KEY}")
                try:
                    values = {column.name: from_portable(kind, item[column.name]) for column, kind in columns
                              if column.name not in sql_nulls}
                except _BadValue as error:
                    raise _corrupt(f"{name} line {line_number}: {error}") from error
                _check_storable(table, columns, line_number, values)
                yield line_number, (values, sql_nulls)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, UnicodeDecodeError) as error:
        raise _corrupt(f"{name} cannot be read after line {line_number} ({error})") from error


def _check_storable(table: Table, columns: list[tuple[Column[Any], str]], line_number: int,
                    values: dict[str, Any]) -> None:
    """A well-formed row whose value this database cannot take (a NUL that SQLite kept, text longer than the
    column, which PostgreSQL refuses) is named: table, row and field, so the school can be repaired at the
    source. The rule is the models' own (models.base.value_problem), minus the control characters an older
    version let in, which every database stores."""
    for column, _kind in columns:
        problem = value_problem(column, values.get(column.name), control_characters=False)
        if problem is not None:
            row = f"row {line_number}" + (f" (id {values['id']})" if "id" in values else "")
            raise ServiceError(f"The backup cannot be restored: table {table.name}, {row}, field {column.name} "
                               f"{problem}. Correct it in the school it came from and back up again. "
                               "Nothing was restored.")


def _self_references(table: Table) -> list[tuple[str, str]]:
    return [(fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table]


def _parents_first(rows: list[Row], table: Table) -> list[Row]:
    """Order rows so that a row a self-referencing key points at (a competency's parent) comes first."""
    links = _self_references(table)
    by_key = {(target, row[1][0][target]): index
              for _, target in links for index, row in enumerate(rows)}
    state: dict[int, int] = {}  # 1 = being placed, 2 = placed
    ordered: list[Row] = []
    for start in range(len(rows)):
        stack = [(start, False)]
        while stack:
            index, children_done = stack.pop()
            if children_done:
                state[index] = 2
                ordered.append(rows[index])
                continue
            if state.get(index) == 2:
                continue
            if state.get(index) == 1:
                raise _corrupt(f"{table.name} has a cycle of references")
            state[index] = 1
            stack.append((index, True))
            values = rows[index][1][0]
            for source, target in links:
                parent = by_key.get((target, values[source])) if values[source] is not None else None
                if parent is not None and parent != index and state.get(parent) != 2:
                    if state.get(parent) == 1:
                        raise _corrupt(f"{table.name} has a cycle of references")
                    stack.append((parent, False))
    return ordered


def _reset_sequences(connection: Connection) -> None:
    """Move each id sequence past the restored rows, so the next insert does not reuse an id."""
    preparer = connection.dialect.identifier_preparer
    for table in Base.metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        quoted_table, quoted_column = preparer.format_table(table), preparer.quote(column.name)
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX({quoted_column}), 1), "
                 f"MAX({quoted_column}) IS NOT NULL) FROM {quoted_table}"),
            {"table": quoted_table, "column": column.name},
        )
