"""Backup and restore: the whole database as one portable file, restorable on SQLite or PostgreSQL.

The file is a zip:

- ``manifest.json``: ``format`` ("gradebook-backup"), ``format_version``, the ``alembic_revision`` of the
  database it came from, ``created_at`` (UTC), the source dialect and, per table in dependency order,
  its ``file``, its ``rows`` and its ``columns`` (name → portable kind).
- ``files/index.jsonl`` and ``files/<stored name>``: every uploaded file (each row of ``artifacts``: evidence
  attachments, portfolio files, activity files) byte for byte, when the backup was given the upload folder.
  Each index line is ``{"artifact_id", "stored_name", "sha256", "size", "file"}``; ``file`` is null for a
  file that was missing from the folder (the manifest's ``files.missing`` counts them). Restore writes every
  file back into the upload folder and checks each one's SHA-256 against the index (which holds the hash
  of the artifact's row, unless the backup found the file changed on disk and listed it as such).
- ``tables/<table>.jsonl``: one JSON object per row, every column, in primary-key order. Values are
  portable: datetimes, dates and times as ISO 8601 strings, JSON columns as JSON, floats as JSON numbers,
  booleans as booleans, decimals as strings, bytes as base64. A JSON column can hold SQL NULL or a JSON
  ``null`` document, and queries tell them apart (``Section.policy IS NULL``), so a row lists the JSON
  columns that are SQL NULL under the reserved key ``"$sql_null"``; a plain ``null`` is JSON null.

Everything streams: rows are read in batches and written line by line, files are copied in chunks, so
memory does not grow with the number of rows or files.

Restore goes only into an empty database at the same Alembic revision, in one transaction (a savepoint of
the caller's): a file that is not a backup, is corrupt, or does not fit the database is refused with a
message that says why, and nothing is written. On PostgreSQL every id sequence is moved past the
restored rows.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
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

from gradebook.models import Artifact, Base
from gradebook.models.base import value_problem
from gradebook.services import ServiceError

FORMAT = "gradebook-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQL_NULL_KEY = "$sql_null"
_CHUNK = 1000
FILES_INDEX = "files/index.jsonl"
_FILE_CHUNK = 1024 * 1024
Progress = Callable[[int, str], None]


class BackupCounts(dict[str, int]):
    """Rows per table (a dict, as before), and what the backup did with the uploaded files."""

    files: int = 0
    file_bytes: int = 0
    missing: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.missing = []

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


def iter_portable_rows(connection: Connection, table: Table, where: Any = None) -> Iterator[dict[str, Any]]:
    """Every row of a table (those ``where`` picks, when given) in primary-key order, as portable values (see
    the module docstring)."""
    columns = table_columns(table)
    json_columns = [column for column, kind in columns if kind == "json"]
    query = select(*table.columns, *[column.is_(None) for column in json_columns]) \
        .order_by(*table.primary_key.columns)
    if where is not None:
        query = query.where(where)
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


def backup(session: Session, path_or_file: PathOrFile, *, files_folder: str | os.PathLike[str] | None = None,
           progress: Progress | None = None) -> BackupCounts:
    """Write every table, and with ``files_folder`` every uploaded file, to one backup file.

    Returns the row count per table (with the files' count, bytes and missing names as attributes). Reads
    in one transaction so the file is a consistent snapshot: on PostgreSQL a REPEATABLE READ one when the
    session has not begun yet (otherwise the caller's transaction). Writes to a path through a temporary
    file next to it, so a failed backup never leaves a half-written file under that name.
    """
    plain = session() if isinstance(session, scoped_session) else session  # db.session is a scoped one
    if not plain.in_transaction() and plain.get_bind().dialect.name == "postgresql":
        connection = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        connection = session.connection()
    with _output(path_or_file) as output:
        return _write_backup(connection, output, files_folder, progress or (lambda _p, _s: None))


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


write_atomically = _output  # for the jobs that write a file: whole under its name, or not at all


def _write_backup(connection: Connection, output: IO[bytes], files_folder: str | os.PathLike[str] | None,
                  progress: Progress) -> BackupCounts:
    counts = BackupCounts()
    tables: dict[str, Any] = {}
    created_at = datetime.now(UTC)
    sorted_tables = Base.metadata.sorted_tables
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for number, table in enumerate(sorted_tables):
            progress(5 + 60 * number // len(sorted_tables), f"Table {number + 1} of {len(sorted_tables)}")
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
        files = None
        if files_folder is not None:
            files = write_files(connection, archive, Path(files_folder), counts, progress)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "alembic_revision": current_revision(connection),
            "created_at": created_at.isoformat(timespec="seconds"),
            "source_dialect": connection.dialect.name,
            "counts": dict(counts),
            "tables": tables,
            "files": files,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return counts


def write_files(connection: Connection, archive: zipfile.ZipFile, folder: Path, counts: BackupCounts,
                progress: Progress, where: Any = None) -> dict[str, Any]:
    """Copy every artifact's file (those ``where`` picks, when given) into ``files/`` (chunk by chunk) and list
    them in ``files/index.jsonl``.

    A file missing from the folder, or whose bytes no longer match its row's hash, is listed (``file``
    null, or ``sha256`` the hash found) and counted; the backup still holds everything else.
    """
    table = Artifact.__table__
    counted = select(func.count()).select_from(table)
    query = select(table.c.id, table.c.stored_name, table.c.sha256).order_by(table.c.id)
    if where is not None:
        counted, query = counted.where(where), query.where(where)
    total = connection.scalar(counted) or 0
    mismatched = 0
    # One zip entry can be open for writing at a time: the index waits in a spooled file (bounded memory).
    with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as index:
        for number, (artifact_id, stored_name, sha256) in enumerate(
                connection.execute(query.execution_options(yield_per=2000))):
            if number % 20 == 0:
                progress(65 + 30 * number // max(1, total), f"File {number + 1} of {total}")
            source = folder / stored_name
            item: dict[str, Any] = {"artifact_id": artifact_id, "stored_name": stored_name, "sha256": sha256,
                                    "size": None, "file": None}
            if _safe_name(stored_name) and source.is_file():
                name = f"files/{stored_name}"
                info = zipfile.ZipInfo(name, date_time=time_tuple(source))
                info.compress_type = zipfile.ZIP_STORED  # photos, PDFs, recordings are compressed already
                digest, size = hashlib.sha256(), 0
                with open(source, "rb") as raw, archive.open(info, "w", force_zip64=True) as entry:
                    while chunk := raw.read(_FILE_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        entry.write(chunk)
                item.update(size=size, file=name, sha256=digest.hexdigest())
                counts.files += 1
                counts.file_bytes += size
                if digest.hexdigest() != sha256:
                    mismatched += 1
                    counts.missing.append(f"{stored_name} (artifact {artifact_id}): its bytes no longer "
                                          "match the hash recorded at upload")
            else:
                counts.missing.append(f"{stored_name} (artifact {artifact_id}): not in the upload folder")
            index.write((_dumps(item) + "\n").encode("utf-8"))
        index.seek(0)
        with archive.open(FILES_INDEX, "w", force_zip64=True) as entry:
            shutil.copyfileobj(index, entry, _FILE_CHUNK)
    return {"index": FILES_INDEX, "count": counts.files, "bytes": counts.file_bytes,
            "missing": len(counts.missing) - mismatched, "mismatched": mismatched}


def time_tuple(path: Path) -> tuple[int, int, int, int, int, int]:
    stamp = max(datetime.fromtimestamp(path.stat().st_mtime, UTC), datetime(1980, 1, 1, tzinfo=UTC))
    return (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)


def _safe_name(stored_name: str) -> bool:
    """A stored name is one plain file name (the app makes them random hex): never a path."""
    return bool(stored_name) and "/" not in stored_name and "\\" not in stored_name and stored_name not in (".", "..")


# ---------------------------------------------------------------- restore


def restore(session: Session, path_or_file: PathOrFile, *,
            files_folder: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """Load a backup into an empty database at the same Alembic revision; return the row count per table.

    Its uploaded files go back into ``files_folder``, each checked by its SHA-256 (a backup that holds files
    needs the folder). Everything happens in a savepoint of the caller's transaction (the caller commits):
    when the file is refused or breaks half-way, the savepoint is rolled back, the files written so far are
    removed, and a ServiceError says why.
    """
    archive = _open_archive(path_or_file)
    with archive:
        manifest = _read_manifest(archive)
        files = manifest.get("files")
        if files and files_folder is None:
            raise ServiceError(f"This backup holds {files['count']} uploaded files: restore it with the upload "
                               "folder to put them in (the command line does).")
        connection = session.connection()
        _check_revision(connection, manifest)
        _check_empty(connection)
        savepoint = session.begin_nested()
        connection = session.connection()  # the savepoint is emitted when its connection is asked for
        written: list[Path] = []
        try:
            counts = {table.name: _restore_table(connection, archive, table, manifest)
                      for table in Base.metadata.sorted_tables}
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection)
            if files and files_folder is not None:
                _restore_files(connection, archive, files, Path(files_folder), written)
        except BaseException:
            savepoint.rollback()
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
        savepoint.commit()
    session.expire_all()
    return counts


def _restore_files(connection: Connection, archive: zipfile.ZipFile, files: dict[str, Any], folder: Path,
                   written: list[Path]) -> None:
    """Write each file of the backup into the folder, checking its bytes against the index's SHA-256."""
    table = Artifact.__table__
    rows = {artifact_id: stored for artifact_id, stored in connection.execute(
        select(table.c.id, table.c.stored_name))}
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        raw = archive.open(files.get("index") or FILES_INDEX)
    except KeyError as error:
        raise _corrupt(f"{FILES_INDEX} is missing") from error
    with raw:
        for line_number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), start=1):
            try:
                item = json.loads(line)
                artifact_id, stored, sha256, name = (item["artifact_id"], item["stored_name"], item["sha256"],
                                                     item["file"])
            except (ValueError, KeyError, TypeError) as error:
                raise _corrupt(f"{FILES_INDEX} line {line_number} is not a file entry") from error
            if rows.get(artifact_id) != stored or not _safe_name(stored):
                raise _corrupt(f"{FILES_INDEX} line {line_number} names a file no artifact has")
            if name is None:
                continue  # it was missing when the backup was made; the manifest counted it
            if name != f"files/{stored}":
                raise _corrupt(f"{FILES_INDEX} line {line_number} points outside files/")
            _restore_one_file(archive, name, sha256, folder / stored, written)
            count += 1
    if count != files.get("count"):
        raise _corrupt(f"{FILES_INDEX} lists {count} files; the manifest says {files.get('count')}")


def _restore_one_file(archive: zipfile.ZipFile, name: str, sha256: str, target: Path, written: list[Path]) -> None:
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out, archive.open(name) as source:
            while chunk := source.read(_FILE_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise _corrupt(f"{name} does not match its SHA-256 (the backup was damaged)")
        if target.exists():
            if _sha256_of(target) != sha256:
                raise ServiceError(f"The upload folder already has a different file named {target.name}: "
                                   "restore into an empty upload folder. Nothing was restored.")
            os.unlink(partial)
            return
        os.replace(partial, target)
        written.append(target)
    except KeyError as error:
        raise _corrupt(f"{name} is missing") from error
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise _corrupt(f"{name} cannot be read ({error})") from error
    finally:
        with contextlib.suppress(OSError):
            os.unlink(partial)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        while chunk := raw.read(_FILE_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
    files = manifest.get("files")
    if files is not None and (not isinstance(files, dict) or type(files.get("count")) is not int):
        raise _corrupt(f"{MANIFEST} has a bad files entry")
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
