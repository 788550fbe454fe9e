"""ROI reads: fixed costs prorated over a period, revenue from bookings, AI cost from the ledger.

Rules (the guide's ROI):
- a period is inclusive UTC days (``apps.core.periods.Period``);
- a monthly fixed cost counts, for each calendar month the period touches, as
  ``monthly * days of the period in that month / days in that month``;
- the one-time integration cost counts only when its start date lies inside the period;
- AI cost is the exact sum of the ledger's ``cost_sek`` (every provider; OpenRouter also on its
  own) and is always part of the operating cost;
- operating cost = telephony + SMS + e-mail + AI + support (+ integration when counted);
  profit = revenue - operating cost; ROI % = profit / operating cost * 100, none when the cost is 0.

Arithmetic is exact (``Fraction``) until a figure leaves this module as a ``Decimal`` with 18
places; rounding to 2 decimals happens only for display.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

from apps.core.money import SEK_PLACES
from apps.core.periods import MAX_DATE, Period
from apps.usage.selectors import DayCost, UseCaseCost, usage_cost_by_day, usage_cost_by_use_case

from .models import BookingDay, ROISettings

# A report may span up to ten years (with their leap days); longer ranges are refused.
MAX_REPORT_DAYS = 3653
PROJECTION_MONTHS = (12, 24, 36)
ZERO = Fraction(0)
FIXED_FIELDS = ("telephony_sek", "sms_sek", "email_sek", "support_sek")


def to_decimal(value: Fraction) -> Decimal:
    """A Fraction as a Decimal with 18 places (the ledger's SEK precision), half-up."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            SEK_PLACES, rounding=ROUND_HALF_UP
        )


def percent(part: Fraction, whole: Fraction) -> Decimal | None:
    """``part / whole * 100``, or None when ``whole`` is 0 (shown as "—", never a division by zero)."""
    return to_decimal(part * 100 / whole) if whole else None


def roi_settings_get(*, user: Any) -> ROISettings:
    """The user's ROI settings; an unsaved all-zero row when they have none yet."""
    found = ROISettings.objects.for_user(user).first()
    return found if found is not None else ROISettings(user=user)


# --- fixed costs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedCosts:
    """Fixed costs over a period (SEK): each monthly cost prorated, the integration cost if counted."""

    telephony: Decimal
    sms: Decimal
    email: Decimal
    support: Decimal
    integration: Decimal

    @property
    def total(self) -> Decimal:
        return self.telephony + self.sms + self.email + self.support + self.integration


def _prorated(monthly: Decimal, period: Period) -> Fraction:
    amount = Fraction(monthly)
    return sum((amount * covered / length for _, covered, length in period.month_parts()), ZERO)


def _integration(settings: ROISettings, period: Period) -> Fraction:
    counted = settings.integration_start is not None and settings.integration_start in period
    return Fraction(settings.integration_cost_sek) if counted else ZERO


def fixed_costs_for(settings: ROISettings, period: Period) -> FixedCosts:
    telephony, sms, email, support = (
        to_decimal(_prorated(getattr(settings, name), period)) for name in FIXED_FIELDS
    )
    return FixedCosts(
        telephony=telephony,
        sms=sms,
        email=email,
        support=support,
        integration=to_decimal(_integration(settings, period)),
    )


def roi_fixed_costs(*, user: Any, period: Period) -> FixedCosts:
    """The user's fixed costs over ``period``: prorated per calendar month, integration if it starts inside."""
    return fixed_costs_for(roi_settings_get(user=user), period)


def _fixed_on(settings: ROISettings, day: dt.date) -> Fraction:
    """One day's share of the fixed costs, plus the integration cost on its start date."""
    return _prorated(sum((getattr(settings, n) for n in FIXED_FIELDS), Decimal(0)), Period(day, day)) + (
        Fraction(settings.integration_cost_sek) if settings.integration_start == day else ZERO
    )


# --- revenue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRevenue:
    bookings: int = 0
    revenue: Decimal = Decimal(0)


def bookings_by_day(*, user: Any, period: Period) -> dict[dt.date, DayRevenue]:
    """Bookings and revenue per day of ``period``, from the daily rollup; days without bookings are absent.

    One query over at most one row per day, however many bookings there are.
    """
    rows = (
        BookingDay.objects.for_user(user)
        .filter(date__gte=period.start, date__lte=period.end)
        .values_list("date", "bookings", "revenue_sek")
        .order_by("date")
    )
    return {day: DayRevenue(bookings=n, revenue=total) for day, n, total in rows}


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthFigures:
    """One calendar month of the period (only its days inside the period)."""

    month: dt.date
    revenue: Decimal
    fixed_cost: Decimal
    ai_cost: Decimal
    total_cost: Decimal
    profit: Decimal


@dataclass(frozen=True)
class BreakEven:
    """When cumulative profit, at the period's daily averages, covers the integration cost.

    ``month`` is the first day of that month; ``months`` counts calendar months from the start
    month (1 = the start month itself). Not reached when the daily profit is not positive.
    """

    reached: bool
    month: dt.date | None = None
    months: int | None = None


@dataclass(frozen=True)
class Projection:
    months: int
    revenue: Decimal
    costs: Decimal
    profit: Decimal
    roi_percent: Decimal | None


@dataclass(frozen=True)
class RoiReport:
    period: Period
    bookings: int
    revenue: Decimal
    fixed: FixedCosts
    ai_cost: Decimal
    openrouter_cost: Decimal
    unpriced_calls: int
    total_cost: Decimal
    profit: Decimal
    roi_percent: Decimal | None
    ai_share_percent: Decimal | None
    ai_by_use_case: list[UseCaseCost]
    months: list[MonthFigures]
    break_even: BreakEven
    projections: list[Projection]


def _month_part(period: Period, first: dt.date, length: int) -> Period:
    """The days of ``period`` inside the calendar month starting ``first`` (``length`` days long)."""
    return Period(max(first, period.start), min(first.replace(day=length), period.end))


def _months(
    settings: ROISettings,
    period: Period,
    revenue: dict[dt.date, DayRevenue],
    ai: dict[dt.date, DayCost],
) -> list[MonthFigures]:
    revenue_in: dict[dt.date, Decimal] = {}
    ai_in: dict[dt.date, Decimal] = {}
    for day, sold in revenue.items():
        revenue_in[day.replace(day=1)] = revenue_in.get(day.replace(day=1), Decimal(0)) + sold.revenue
    for day, spent in ai.items():
        ai_in[day.replace(day=1)] = ai_in.get(day.replace(day=1), Decimal(0)) + spent.total_sek
    months = []
    for first, _, length in period.month_parts():
        fixed = Fraction(fixed_costs_for(settings, _month_part(period, first, length)).total)
        month_revenue = revenue_in.get(first, Decimal(0))
        month_ai = ai_in.get(first, Decimal(0))
        total = fixed + Fraction(month_ai)
        months.append(
            MonthFigures(
                month=first,
                revenue=month_revenue,
                fixed_cost=to_decimal(fixed),
                ai_cost=month_ai,
                total_cost=to_decimal(total),
                profit=to_decimal(Fraction(month_revenue) - total),
            )
        )
    return months


def break_even_at(
    *, investment: Decimal, start: dt.date, period_days: int, period_profit: Fraction
) -> BreakEven:
    """The month cumulative profit (``period_profit`` per ``period_days``) first covers ``investment``."""
    if investment <= 0:
        return BreakEven(reached=True, month=start.replace(day=1), months=1)
    if period_profit <= 0:
        return BreakEven(reached=False)
    days_needed = math.ceil(Fraction(investment) * period_days / period_profit)
    if days_needed > (MAX_DATE - start).days + 1:
        return BreakEven(reached=False)
    day = start + dt.timedelta(days=days_needed - 1)
    months = (day.year - start.year) * 12 + day.month - start.month + 1
    return BreakEven(reached=True, month=day.replace(day=1), months=months)


def projections_for(
    *, period_days: int, revenue: Fraction, running_cost: Fraction, one_time: Fraction
) -> list[Projection]:
    """Revenue, costs, profit and cumulative ROI over 12/24/36 months at the period's daily averages.

    A month is 365/12 days (so 12 months are 365 days); the one-time integration cost counted in
    the period is counted once.
    """
    result = []
    for months in PROJECTION_MONTHS:
        days = Fraction(365 * months, 12)
        proj_revenue = revenue * days / period_days
        costs = running_cost * days / period_days + one_time
        profit = proj_revenue - costs
        result.append(
            Projection(
                months=months,
                revenue=to_decimal(proj_revenue),
                costs=to_decimal(costs),
                profit=to_decimal(profit),
                roi_percent=percent(profit, costs),
            )
        )
    return result


def roi_report_build(*, user: Any, period: Period) -> RoiReport:
    """The ROI report for ``period``. Four queries whatever the length of the period."""
    settings = roi_settings_get(user=user)
    revenue_by_day = bookings_by_day(user=user, period=period)
    ai_by_day = usage_cost_by_day(user=user, period=period)
    fixed = fixed_costs_for(settings, period)
    revenue = sum((r.revenue for r in revenue_by_day.values()), Decimal(0))
    ai_cost = sum((c.total_sek for c in ai_by_day.values()), Decimal(0))
    total = Fraction(fixed.total) + Fraction(ai_cost)
    profit = Fraction(revenue) - total
    running = total - Fraction(fixed.integration)
    return RoiReport(
        period=period,
        bookings=sum(r.bookings for r in revenue_by_day.values()),
        revenue=revenue,
        fixed=fixed,
        ai_cost=ai_cost,
        openrouter_cost=sum((c.openrouter_sek for c in ai_by_day.values()), Decimal(0)),
        unpriced_calls=sum(c.unpriced for c in ai_by_day.values()),
        total_cost=to_decimal(total),
        profit=to_decimal(profit),
        roi_percent=percent(profit, total),
        ai_share_percent=percent(Fraction(ai_cost), total),
        ai_by_use_case=usage_cost_by_use_case(user=user, period=period),
        months=_months(settings, period, revenue_by_day, ai_by_day),
        break_even=break_even_at(
            investment=settings.integration_cost_sek,
            start=settings.integration_start or period.start,
            period_days=period.days,
            period_profit=Fraction(revenue) - running,
        ),
        projections=projections_for(
            period_days=period.days,
            revenue=Fraction(revenue),
            running_cost=running,
            one_time=Fraction(fixed.integration),
        ),
    )


# --- per day (the CSV export) ------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    """One UTC day, exact: fixed costs are that day's prorated share (integration on its start date)."""

    day: dt.date
    bookings: int
    revenue: Fraction
    costs: Fraction
    ai_cost: Fraction
    openrouter_cost: Fraction

    @property
    def profit(self) -> Fraction:
        return self.revenue - self.costs


def roi_days(*, user: Any, period: Period) -> Iterator[DayFigures]:
    """Every day of ``period`` in order, read one calendar month at a time.

    A generator: memory stays constant however long the period (two queries per month), and the
    first rows are ready after the first month's queries.
    """
    settings = roi_settings_get(user=user)
    for first, _, length in period.month_parts():
        part = _month_part(period, first, length)
        revenue = bookings_by_day(user=user, period=part)
        ai = usage_cost_by_day(user=user, period=part)
        for day in part.each_day():
            sold = revenue.get(day, DayRevenue())
            spent = ai.get(day, DayCost())
            yield DayFigures(
                day=day,
                bookings=sold.bookings,
                revenue=Fraction(sold.revenue),
                costs=_fixed_on(settings, day) + Fraction(spent.total_sek),
                ai_cost=Fraction(spent.total_sek),
                openrouter_cost=Fraction(spent.openrouter_sek),
            )
