"""Every CSV the app writes neutralises text a spreadsheet would run as a formula (CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from gradebook.interop import csv_safe

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1"])
def test_text_that_would_run_as_a_formula_is_written_as_text(text: str) -> None:
    out = io.StringIO()
    csv_safe.writer(out).writerow([text])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'" + text]


@pytest.mark.parametrize("value", ["Maya Johnson", "3.50", "", "a=b", "O'Neil"])
def test_ordinary_text_is_written_as_it_is(value: str) -> None:
    assert csv_safe.safe_cell(value) == value


def test_numbers_written_as_numbers_stay_numbers() -> None:
    out = io.StringIO()
    csv_safe.writer(out).writerow([-1, -2.5, 0])
    assert out.getvalue().strip() == "-1,-2.5,0"


def test_no_code_writes_csv_but_through_the_safe_writer() -> None:
    """A new export cannot forget the rule: csv.writer / csv.DictWriter appear only in csv_safe.py."""
    direct = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    found = [str(path.relative_to(ROOT)) for path in ROOT.glob("gradebook/**/*.py")
             if path.name != "csv_safe.py" and direct.search(path.read_text())]
    assert found == []
