"""One rule for a period of UTC days, used by every page and API that takes a date range.

A period is two inclusive UTC dates. Days are UTC days because that is how OpenRouter reports and
bills usage; a ledger row belongs to the UTC day of its ``created_at``. Input is either a preset
(today, last 7 days, this month, …) or explicit ``start``/``end``. Bad input is never silently
replaced by a default: ``period_parse`` raises ``PeriodError`` with a message for the user and the
name of the offending field, so a page can show it beside the picker and the API can answer 400.

Dates are bounded to 2000-01-01..2099-12-31 so arithmetic such as "the day after ``end``" can never
overflow (``date.max + 1 day`` raises ``OverflowError``, which used to surface as a 500).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)
DEFAULT_MAX_DAYS = 366
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # YYYY-MM-DD, the one date format input takes


class Preset(models.TextChoices):
    TODAY = "today", gettext_lazy("Today")
    LAST_7_DAYS = "7d", gettext_lazy("Last 7 days")
    THIS_MONTH = "this_month", gettext_lazy("This month")
    LAST_MONTH = "last_month", gettext_lazy("Last month")
    LAST_30_DAYS = "30d", gettext_lazy("Last 30 days")
    THIS_YEAR = "this_year", gettext_lazy("This year")


class PeriodError(ValueError):
    """Input that does not make a period; ``message`` is for the user, ``field`` names the input."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Period:
    """Inclusive UTC days ``start``..``end``."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("start must not be after end")

    @property
    def days(self) -> int:
        """The number of days in the period, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> dt.datetime:
        """The first instant of the period (aware, UTC)."""
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=dt.UTC)

    @property
    def end_before(self) -> dt.datetime:
        """The first instant after the period: filter with ``created_at < end_before``."""
        return dt.datetime.combine(self.end, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=1)

    def each_day(self) -> Iterator[dt.date]:
        day = self.start
        while day <= self.end:
            yield day
            day += dt.timedelta(days=1)

    def month_parts(self) -> list[tuple[dt.date, int, int]]:
        """Per calendar month the period touches: (first of month, days of the period in it, days in it).

        The basis for prorating monthly amounts exactly: amount * days_in_period / days_in_month.
        """
        parts: list[tuple[dt.date, int, int]] = []
        first = self.start.replace(day=1)
        while first <= self.end:
            days_in_month = calendar.monthrange(first.year, first.month)[1]
            last = first.replace(day=days_in_month)
            covered = (min(last, self.end) - max(first, self.start)).days + 1
            parts.append((first, covered, days_in_month))
            first = last + dt.timedelta(days=1)
        return parts

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def period_from_preset(preset: str, *, today: dt.date) -> Period:
    """The period a preset names, relative to ``today`` (a UTC date). Raises ``PeriodError``."""
    if preset == Preset.TODAY:
        return Period(today, today)
    if preset == Preset.LAST_7_DAYS:
        return Period(today - dt.timedelta(days=6), today)
    if preset == Preset.LAST_30_DAYS:
        return Period(today - dt.timedelta(days=29), today)
    if preset == Preset.THIS_MONTH:
        return Period(today.replace(day=1), today)
    if preset == Preset.LAST_MONTH:
        end = today.replace(day=1) - dt.timedelta(days=1)
        return Period(end.replace(day=1), end)
    if preset == Preset.THIS_YEAR:
        return Period(today.replace(month=1, day=1), today)
    raise PeriodError(_("Unknown period “%(preset)s”.") % {"preset": preset}, field="preset")


def _date(value: str | dt.date | None, *, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise PeriodError(_("Give a date, not a time."), field=field)
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()
        try:
            if not ISO_DAY.fullmatch(text):  # fromisoformat alone would take 20260101, 2026-W01-1
                raise ValueError(text)
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise PeriodError(_("Enter a valid date (YYYY-MM-DD)."), field=field) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise PeriodError(
            _("Dates must lie between %(min)s and %(max)s.")
            % {"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()},
            field=field,
        )
    return day


def period_parse(
    *,
    start: str | dt.date | None,
    end: str | dt.date | None,
    preset: str | None = None,
    default: str = Preset.THIS_MONTH,
    max_days: int = DEFAULT_MAX_DAYS,
    today: dt.date | None = None,
) -> Period:
    """The period the input names, or ``PeriodError`` for input that does not make one.

    Explicit dates win over a preset. With only ``end``, the period starts on the first of its
    month; with only ``start``, it ends today (or on ``start`` if that is later). With neither, the
    ``preset`` (or ``default``) applies. Rejected: unparsable dates, dates outside
    2000-01-01..2099-12-31, ``start`` after ``end``, and periods longer than ``max_days``.
    """
    today = today or utc_today()
    first = _date(start, field="start")
    last = _date(end, field="end")
    if first is None and last is None:
        return period_from_preset(preset or default, today=today)
    if last is None:
        last = max(today, first) if first else today
    if first is None:
        first = last.replace(day=1)
    if first > last:
        raise PeriodError(_("The start date must not be after the end date."), field="start")
    period = Period(first, last)
    if period.days > max_days:
        raise PeriodError(_("A period can be at most %(days)s days long.") % {"days": max_days}, field="end")
    return period
