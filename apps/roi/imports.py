"""Bookings from a CSV file: all lines or none, with every rejected line reported by number and reason.

Whole-file problems (not UTF-8, no header, missing columns, too many lines) raise
``UploadRejected``; line problems are collected, and if there is any, nothing is saved. Lines with
an external id update the booking that has it, so uploading the same file again changes nothing;
lines without one are new bookings every time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.periods import MAX_DATE, MIN_DATE

from .models import MAX_BOOKING_SEK
from .services import PushOutcome, bookings_upsert_many

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_LINES = 10_000
# Accepted header names (case-insensitive), English and Swedish.
COLUMNS = {
    "date": ("date", "datum"),
    "value_sek": ("value_sek", "value", "värde", "belopp", "value (sek)", "värde (sek)"),
    "external_id": ("external_id", "external id", "externt id", "externt_id"),
    "description": ("description", "beskrivning"),
}
REQUIRED = ("date", "value_sek")
_SPACES = re.compile(r"[\s\u00a0\u202f']")


class UploadRejected(Exception):
    """The file as a whole cannot be read; ``message`` says why, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class ImportResult:
    lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[LineError] = field(default_factory=list)

    @property
    def saved(self) -> bool:
        return not self.rejected


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
        ) from None
    if "\x00" in text:
        raise UploadRejected(_("The file is not a CSV text file."))
    return text


def _header(first_line: str) -> tuple[str, dict[str, int]]:
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    names = next(csv.reader([first_line], delimiter=delimiter), [])
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        for column, aliases in COLUMNS.items():
            if name.strip().lower() in aliases and column not in positions:
                positions[column] = index
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        raise UploadRejected(
            _("Missing columns: %(columns)s. The first line must name the columns: %(expected)s.")
            % {"columns": ", ".join(missing), "expected": "date, value_sek, external_id, description"}
        )
    return delimiter, positions


def amount_normalise(value: str) -> str:
    """``1 500,50`` (Swedish) or ``1,500.50`` (English) -> ``1500.50``: the last mark is the decimal one."""
    text = _SPACES.sub("", value.strip())
    if text.rfind(",") > text.rfind("."):
        return text.replace(".", "").replace(",", ".")
    return text.replace(",", "")


def _amount(text: str) -> Decimal:
    try:
        amount = Decimal(amount_normalise(text))
    except InvalidOperation:
        raise ValueError(_("“%(value)s” is not an amount.") % {"value": text[:40]}) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_BOOKING_SEK:
        raise ValueError(_("The amount must lie between 0 and %(max)s SEK.") % {"max": MAX_BOOKING_SEK})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("An amount has at most two decimals."))
    return amount


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": text[:40]}) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(
            _("Dates must lie between %(min)s and %(max)s.") % {"min": MIN_DATE, "max": MAX_DATE}
        )
    return day


def _item(cells: list[str], positions: dict[str, int]) -> dict[str, Any]:
    def cell(column: str) -> str:
        index = positions.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    external_id, description = cell("external_id"), cell("description")
    if len(external_id) > 100:
        raise ValueError(_("The external id is longer than 100 characters."))
    if len(description) > 300:
        raise ValueError(_("The description is longer than 300 characters."))
    return {
        "date": _date(cell("date")),
        "value_sek": _amount(cell("value_sek")),
        "external_id": external_id or None,
        "description": description,
    }


def bookings_csv_import(*, user: Any, raw: bytes) -> ImportResult:
    """Import bookings from CSV bytes: every line valid and saved in one transaction, or none saved."""
    lines = io.StringIO(_decode(raw), newline="")
    delimiter, positions = _header(lines.readline())
    result = ImportResult()
    items: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    try:
        for number, cells in enumerate(csv.reader(lines, delimiter=delimiter), start=2):
            _line(result, items, seen, number, cells, positions)
    except csv.Error as exc:
        raise UploadRejected(_("The file is not valid CSV: %(reason)s") % {"reason": exc}) from None
    if result.lines == 0:
        raise UploadRejected(_("The file has no bookings below its header."))
    if not result.rejected:
        with transaction.atomic():
            for outcome, _booking in bookings_upsert_many(user=user, items=items):
                _count(result, outcome)
    return result


def _line(
    result: ImportResult,
    items: list[dict[str, Any]],
    seen: dict[str, int],
    number: int,
    cells: list[str],
    positions: dict[str, int],
) -> None:
    """Check one line: add it to ``items`` or its reason to ``result.rejected``."""
    if not any(c.strip() for c in cells):
        return
    result.lines += 1
    if result.lines > MAX_LINES:
        raise UploadRejected(_("The file has more than %(max)s lines: split it up.") % {"max": MAX_LINES})
    try:
        item = _item(cells, positions)
    except ValueError as exc:
        result.rejected.append(LineError(number, str(exc)))
        return
    if item["external_id"] in seen:
        reason = _("The external id is also on line %(line)s.") % {"line": seen[item["external_id"]]}
        result.rejected.append(LineError(number, reason))
        return
    if item["external_id"]:
        seen[item["external_id"]] = number
    items.append(item)


def _count(result: ImportResult, outcome: PushOutcome) -> None:
    if outcome == PushOutcome.CREATED:
        result.created += 1
    elif outcome == PushOutcome.UPDATED:
        result.updated += 1
    else:
        result.unchanged += 1
