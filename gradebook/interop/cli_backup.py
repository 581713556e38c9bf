"""`flask gradebook backup FILE` and `flask gradebook restore FILE` (registered into the gradebook group)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from gradebook.extensions import db
from gradebook.services import ServiceError


def register(group: click.Group) -> None:
    """Add the backup and restore commands to `group`."""

    @group.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace FILE if it already exists.")
    @click.option("--without-files", is_flag=True, help="Leave the uploaded files out (rows only).")
    @with_appcontext
    def backup_command(file: Path, force: bool, without_files: bool) -> None:
        """Write the whole database and every uploaded file to FILE (a zip, restorable on SQLite or PostgreSQL).

        The file holds password hashes and students' work: keep it as safe as the database.
        """
        from flask import current_app

        from gradebook.interop.backup import backup

        if file.exists() and not force:
            raise click.ClickException(f"{file} already exists; choose another name or pass --force.")
        started = time.perf_counter()
        try:
            counts = backup(db.session, file,
                            files_folder=None if without_files else current_app.config["UPLOAD_FOLDER"])
        except ServiceError as error:
            raise click.ClickException(error.message) from error
        finally:
            db.session.rollback()  # a read-only snapshot: end it
        for problem in counts.missing:
            click.echo(f"  warning: {problem}", err=True)
        files = "" if without_files else f" and {counts.files} files ({counts.file_bytes / 1024 / 1024:.1f} MB)"
        click.echo(f"Backed up {sum(counts.values())} rows from {len(counts)} tables{files} to {file} "
                   f"in {time.perf_counter() - started:.1f} s.")

    @group.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @with_appcontext
    def restore_command(file: Path) -> None:
        """Load a backup FILE into this EMPTY database (at the backup's revision: run `flask db upgrade`),
        and its uploaded files into the upload folder, each checked by its SHA-256."""
        from flask import current_app

        from gradebook.interop.backup import restore

        started = time.perf_counter()
        try:
            counts = restore(db.session, file, files_folder=current_app.config["UPLOAD_FOLDER"])
        except ServiceError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        click.echo(f"Restored {sum(counts.values())} rows into {len(counts)} tables from {file} "
                   f"in {time.perf_counter() - started:.1f} s.")
