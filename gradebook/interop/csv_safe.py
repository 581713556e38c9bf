"""The one way the app writes CSV: text a spreadsheet would run as a formula is neutralised.

A cell that starts with = + - @, a tab or a carriage return is a formula to Excel, LibreOffice and Google
Sheets ("CSV injection"): a student named ``=HYPERLINK("http://evil.example","x")`` would become a link in the
teacher's spreadsheet. Such text is written with a leading apostrophe, which spreadsheets show as text.
Numbers the app writes as numbers (``-1``, ``2.5``) stay numbers. Every CSV writer goes through ``writer``
(tests/unit/test_csv_safe.py holds the code to it).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell that cannot run as a formula; anything that is not text is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, out: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: IO[str], **kwargs: Any) -> SafeWriter:
    return SafeWriter(out, **kwargs)
