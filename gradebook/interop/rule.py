"""The one import rule (DESIGN.md "Data rules"), shared by every importer.

Every import first runs as a dry run: the whole import is written inside a savepoint, its report is kept,
and the savepoint is rolled back, so the report says exactly what the import would create, update,
deactivate and reject (file, row, reason) and nothing has changed. Then:

- a file with no rejected row is imported as the dry run said;
- a file with any rejected row imports nothing ("blocked"), unless the admin, having seen the report,
  chooses to import the valid rows and skip the rejected ones (``skip_rejected``; ``--skip-rejected`` on
  the command line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gradebook.services import ServiceError

R = TypeVar("R")

DRY_RUN = "dry_run"
BLOCKED = "blocked"
IMPORTED = "imported"


@dataclass(frozen=True)
class Rejection:
    """One record that cannot be imported: the file (or the part of a package), its row, and why."""

    file: str
    row: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row}: {self.message}" if self.row is not None else f"{self.file}: {self.message}"


def under_rule(session: Session, write: Callable[[], R], *, dry_run: bool, skip_rejected: bool,
               what: str) -> R:
    """Run ``write()`` (which returns a report with ``rejected`` and ``outcome``) under the import rule.

    The report's ``outcome`` says what happened: ``dry_run`` (nothing written, the report is a forecast),
    ``blocked`` (rows were rejected and skipping them was not chosen: nothing written) or ``imported``.
    """
    try:
        nested = session.begin_nested()
        try:
            report: Any = write()
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
        if dry_run:
            report.outcome = DRY_RUN
            nested.rollback()
        elif report.rejected and not skip_rejected:
            report.outcome = BLOCKED
            nested.rollback()
        else:
            report.outcome = IMPORTED
            nested.commit()
    except SQLAlchemyError as error:
        raise ServiceError(f"{what} could not be saved, so nothing was imported ({type(error).__name__}).") \
            from error
    return report  # type: ignore[no-any-return]


def outcome_sentence(outcome: str, rejected: int) -> str:
    """The first sentence of a report: what this run did."""
    rows = f"{rejected} rejected row{'s' if rejected != 1 else ''}"
    if outcome == DRY_RUN:
        if rejected:
            return (f"Dry run, nothing changed yet: this file has {rows} (listed below), so importing it as it is "
                    f"would import nothing. You may import the valid rows and skip the {rejected} rejected. "
                    "If imported, it would do this:")
        return "Dry run, nothing changed yet. Importing it would do this:"
    if outcome == BLOCKED:
        return (f"Nothing was imported: the file has {rows} (listed below). Fix the file and import it again, "
                f"or import the valid rows and skip the {rejected} rejected. Without them it would do this:")
    if rejected:
        return f"Imported the valid rows; the {rows} (listed below) were skipped."
    return ""
