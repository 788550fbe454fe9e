"""The ROI CSV: one line per UTC day, produced lazily so years of data stream in constant memory.

Money cells have two decimals and each column adds up to the period's total rounded once: a day's
cell is the rounded running total minus the rounded running total of the day before, so rounding
never drifts over a long range. ``Kostnader`` includes AI. ROI is empty when a day has no cost.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

from .selectors import DayFigures, to_decimal

BOM = "\ufeff"  # lets Excel recognise UTF-8
HEADERS = (
    _("Date"),
    _("Bookings"),
    _("Revenue (SEK)"),
    _("Costs (SEK)"),
    _("AI cost (SEK)"),
    _("OpenRouter cost (SEK)"),
    _("Profit (SEK)"),
    _("ROI (%)"),
)
CENT = Decimal("0.01")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(cell: str) -> str:
    """Neutralise spreadsheet formulas: text starting with = + - @ (or tab/CR) gets a leading '.

    Plain numbers (a negative profit) stay numbers.
    """
    if cell.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _cents(value: Fraction) -> Decimal:
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class _Line:
    """A file-like object that hands back what csv.writer writes (one line at a time)."""

    def write(self, value: str) -> str:
        return value


class _RunningCents:
    """Per-day cents whose sum is always the rounded running total."""

    def __init__(self) -> None:
        self.exact = Fraction(0)
        self.shown = Decimal(0)

    def add(self, value: Fraction) -> Decimal:
        self.exact += value
        total = _cents(self.exact)
        cell, self.shown = total - self.shown, total
        return cell


def roi_csv_lines(*, headers: Iterable[str], days: Iterator[DayFigures]) -> Iterator[str]:
    """The CSV text, line by line: the BOM and the header first, then one line per day.

    ``headers`` are already translated (the generator runs after the view has returned).
    """
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield BOM + writer.writerow([csv_safe(h) for h in headers])
    costs, ai, openrouter = _RunningCents(), _RunningCents(), _RunningCents()
    for day in days:
        revenue = _cents(day.revenue)
        cost_cell = costs.add(day.costs)
        roi = "" if not day.costs else str(_cents(day.profit * 100 / day.costs))
        row = [
            day.day.isoformat(),
            str(day.bookings),
            str(revenue),
            str(cost_cell),
            str(ai.add(day.ai_cost)),
            str(openrouter.add(day.openrouter_cost)),
            str(revenue - cost_cell),
            roi,
        ]
        yield writer.writerow([csv_safe(cell) for cell in row])
