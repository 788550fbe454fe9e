"""The CSV text: formula-injection escaping and rounding that never drifts over many days."""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import io
from fractions import Fraction

import pytest

from apps.roi.export import csv_safe, roi_csv_lines
from apps.roi.selectors import DayFigures


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("-3250.00", "-3250.00"),
        ("614.29", "614.29"),
        ("Datum", "Datum"),
        ("", ""),
    ],
)
def test_formula_cells_are_escaped_and_numbers_are_not(cell: str, safe: str) -> None:
    assert csv_safe(cell) == safe


def test_each_column_sums_to_its_total_rounded_once() -> None:
    # A third of a krona a day: rounding each day alone would lose 0.01 every three days.
    days = (
        DayFigures(
            day=dt.date(2026, 1, 1) + dt.timedelta(days=n),
            bookings=1,
            revenue=Fraction(1),
            costs=Fraction(1, 3),
            ai_cost=Fraction(1, 3),
            openrouter_cost=Fraction(0),
        )
        for n in range(30)
    )
    lines = roi_csv_lines(headers=["=a", "b", "c", "d", "e", "f", "g", "h"], days=days)
    assert inspect.isgenerator(lines)
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows[0][0] == "\ufeff'=a"
    body = rows[1:]
    assert [r[3] for r in body[:4]] == ["0.33", "0.34", "0.33", "0.33"]
    assert sum(Fraction(r[3]) for r in body) == 10
    assert sum(Fraction(r[6]) for r in body) == 20
    assert body[0][7] == "200.00"
