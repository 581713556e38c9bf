"""Import commands (`flask gradebook import-case …`), added to a click group by `register(group)`.

Each command reads the file (after checking its size, so a huge file is refused before it is read),
calls the import service once, commits on success and rolls back on any error: a failed import leaves
the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gradebook.services import ServiceError


def _read(path: str, limit: int, what: str) -> bytes:
    from gradebook.interop.case_import import check_size

    file = Path(path)
    try:
        check_size(file.stat().st_size, limit, what)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    return file.read_bytes()


def _run(call: Callable[[], Any]) -> Any:
    from gradebook.extensions import db

    try:
        report = call()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return report


def _rule_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--dry-run and --skip-rejected, the import rule's two choices (DESIGN.md "Data rules")."""
    command = click.option("--skip-rejected", is_flag=True,
                           help="Import the valid rows and skip the rejected ones (by default a file with any "
                                "rejected row imports nothing).")(command)
    return click.option("--dry-run", is_flag=True,
                        help="Only report what the import would create, update, deactivate and reject.")(command)


def _echo_report(report: Any) -> None:
    click.echo(report.summary)
    if getattr(report, "layout", ""):
        click.echo(f"  layout: {report.layout}")
    for rejection in getattr(report, "rejected", []):
        click.echo(f"  rejected: {rejection}")
    for warning in getattr(report, "warnings", []):
        click.echo(f"  note: {warning}")
    for account in getattr(report, "without_email", []):
        click.echo(f"  no e-mail: {account}")


def _end(report: Any) -> None:
    if getattr(report, "outcome", "imported") == "blocked":
        raise click.ClickException(f"Nothing was imported: {len(report.rejected)} rejected row(s). Fix the file, "
                                   "or run again with --skip-rejected to import the valid rows.")


def register(group: click.Group) -> None:
    """Add import-case, import-standards-csv and import-oneroster to `group`."""

    @group.command("import-case")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @_rule_options
    def import_case_command(file: str, dry_run: bool, skip_rejected: bool) -> None:
        """Import or update a framework from a CASE 1.0/1.1 JSON package."""
        from gradebook.extensions import db
        from gradebook.interop.case_import import MAX_CASE_BYTES, import_case

        data = _read(file, MAX_CASE_BYTES, "a CASE package")
        report = _run(lambda: import_case(db.session, data, actor=None, dry_run=dry_run,
                                          skip_rejected=skip_rejected))
        _echo_report(report)
        _end(report)

    @group.command("import-standards-csv")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--framework-title", required=True, help="The framework to create or update.")
    @_rule_options
    def import_standards_csv_command(file: str, framework_title: str, dry_run: bool, skip_rejected: bool) -> None:
        """Import or update standards from a spreadsheet: ours (code, parent_code, statement, level_4 …),
        OpenSALT's CASE spreadsheet or the Canvas outcomes CSV, recognised by the header."""
        from gradebook.extensions import db
        from gradebook.interop.standards_csv import MAX_CSV_BYTES, import_standards_csv

        data = _read(file, MAX_CSV_BYTES, "a standards spreadsheet")
        report = _run(lambda: import_standards_csv(db.session, data, framework_title=framework_title, actor=None,
                                                   dry_run=dry_run, skip_rejected=skip_rejected,
                                                   filename=Path(file).name))
        _echo_report(report)
        _end(report)

    @group.command("import-oneroster")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--base-url", default="",
                  help="Where the e-mailed set-password links point, e.g. https://school.example (else BASE_URL).")
    @_rule_options
    def import_oneroster_command(file: str, base_url: str, dry_run: bool, skip_rejected: bool) -> None:
        """Import people, classes and enrollments from a OneRoster 1.1 or 1.2 CSV zip (bulk or delta); new
        accounts get their set-password link by e-mail."""
        from gradebook.extensions import db
        from gradebook.interop.oneroster import MAX_ROSTER_BYTES, import_oneroster

        data = _read(file, MAX_ROSTER_BYTES, "a OneRoster zip")
        report = _run(lambda: import_oneroster(db.session, data, actor=None, dry_run=dry_run,
                                               skip_rejected=skip_rejected, base_url=base_url or None))
        _echo_report(report)
        _end(report)
