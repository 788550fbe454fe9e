"""The ROI calculation against golden cases computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.periods import Period
from apps.roi.selectors import (
    BreakEven,
    FixedCosts,
    Projection,
    roi_days,
    roi_fixed_costs,
    roi_report_build,
)
from apps.usage.selectors import UseCaseCost
from tests.factories import BookingFactory, LedgerRowFactory, ROISettingsFactory

pytestmark = pytest.mark.django_db

D = Decimal
CENT = D("0.01")


def _at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}:00+00:00")


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def test_the_guides_example_row(user_a: Any) -> None:
    # January has 31 days: one day of these monthly costs is 1000 + 500 + 500 + 1250 = 3250.
    ROISettingsFactory(
        user=user_a, telephony_sek=D(31000), sms_sek=D(15500), email_sek=D(15500), support_sek=D(38750)
    )
    for n in range(5):
        BookingFactory(user=user_a, date=dt.date(2025, 1, 1), value_sek=D(5000), external_id=f"g-{n}")
    LedgerRowFactory(user=user_a, created_at=_at("2025-01-01"), cost_sek=D(150))
    LedgerRowFactory(
        user=user_a, created_at=_at("2025-01-01", "23:59"), cost_sek=D(100), use_case="lead_enrichment"
    )

    report = roi_report_build(user=user_a, period=Period(dt.date(2025, 1, 1), dt.date(2025, 1, 1)))

    assert report.bookings == 5
    assert report.revenue == D(25000)
    assert report.fixed == FixedCosts(
        telephony=D(1000), sms=D(500), email=D(500), support=D(1250), integration=D(0)
    )
    assert (report.ai_cost, report.openrouter_cost, report.unpriced_calls) == (D(250), D(250), 0)
    assert report.total_cost == D(3500)
    assert report.profit == D(21500)
    assert _cents(report.roi_percent) == D("614.29")
    assert _cents(report.ai_share_percent) == D("7.14")
    assert report.ai_by_use_case == [
        UseCaseCost(use_case="chat", total_sek=D(150), calls=1, unpriced=0),
        UseCaseCost(use_case="lead_enrichment", total_sek=D(100), calls=1, unpriced=0),
    ]
    assert [(m.month, m.revenue, m.fixed_cost, m.ai_cost, m.total_cost, m.profit) for m in report.months] == [
        (dt.date(2025, 1, 1), D(25000), D(3250), D(250), D(3500), D(21500))
    ]


def test_fixed_costs_are_prorated_per_calendar_month_of_different_lengths(user_a: Any) -> None:
    # 8680 a month: February 2026 (28 days) 14 days -> 4340; March (31 days) 10 days -> 2800.
    ROISettingsFactory(user=user_a, telephony_sek=D(8680), support_sek=D(868))
    costs = roi_fixed_costs(user=user_a, period=Period(dt.date(2026, 2, 15), dt.date(2026, 3, 10)))
    assert costs == FixedCosts(telephony=D(7140), sms=D(0), email=D(0), support=D(714), integration=D(0))
    assert costs.total == D(7854)


def test_a_leap_day_is_one_twenty_ninth_of_february(user_a: Any) -> None:
    ROISettingsFactory(user=user_a, sms_sek=D(2900))
    leap = roi_fixed_costs(user=user_a, period=Period(dt.date(2024, 2, 29), dt.date(2024, 2, 29)))
    february = roi_fixed_costs(user=user_a, period=Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29)))
    assert (leap.sms, february.sms) == (D(100), D(2900))


def test_a_third_of_a_month_keeps_its_exact_decimals(user_a: Any) -> None:
    ROISettingsFactory(user=user_a, email_sek=D(1000))
    costs = roi_fixed_costs(user=user_a, period=Period(dt.date(2026, 4, 1), dt.date(2026, 4, 10)))
    assert costs.email == D("333.333333333333333333")


@pytest.mark.parametrize(
    ("start", "end", "integration"),
    [
        ("2026-03-01", "2026-03-31", D(10000)),  # starts inside
        ("2026-03-05", "2026-03-05", D(10000)),  # the start date itself
        ("2026-03-06", "2026-03-31", D(0)),  # period after the start
        ("2026-02-01", "2026-03-04", D(0)),  # period before the start
    ],
)
def test_the_integration_cost_counts_only_when_it_starts_inside_the_period(
    user_a: Any, start: str, end: str, integration: Decimal
) -> None:
    ROISettingsFactory(user=user_a, integration_cost_sek=D(10000), integration_start=dt.date(2026, 3, 5))
    period = Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert roi_fixed_costs(user=user_a, period=period).integration == integration
    assert roi_report_build(user=user_a, period=period).total_cost == integration


def test_without_settings_costs_are_zero_and_roi_is_none(user_a: Any) -> None:
    BookingFactory(user=user_a, date=dt.date(2026, 5, 3), value_sek=D("1000.50"))
    report = roi_report_build(user=user_a, period=Period(dt.date(2026, 5, 1), dt.date(2026, 5, 31)))
    assert (report.revenue, report.total_cost, report.profit) == (D("1000.50"), D(0), D("1000.50"))
    assert (report.roi_percent, report.ai_share_percent) == (None, None)
    assert [(p.months, p.costs, p.roi_percent) for p in report.projections] == [
        (12, D(0), None),
        (24, D(0), None),
        (36, D(0), None),
    ]


def test_a_period_without_revenue_loses_its_whole_cost(user_a: Any) -> None:
    ROISettingsFactory(user=user_a, support_sek=D(3000))
    LedgerRowFactory(user=user_a, created_at=_at("2026-06-10"), cost_sek=D("12.5"), provider="system")
    report = roi_report_build(user=user_a, period=Period(dt.date(2026, 6, 1), dt.date(2026, 6, 30)))
    assert (report.bookings, report.revenue) == (0, D(0))
    assert (report.ai_cost, report.openrouter_cost) == (D("12.5"), D(0))
    assert (report.total_cost, report.profit, report.roi_percent) == (D("3012.5"), D("-3012.5"), D(-100))
    assert report.break_even == BreakEven(reached=True, month=dt.date(2026, 6, 1), months=1)


def test_ai_cost_sums_rows_at_their_own_fx_rates_and_counts_unpriced_rows(user_a: Any, user_b: Any) -> None:
    # The rate changed on the 15th: each row keeps the SEK it was priced at.
    LedgerRowFactory(user=user_a, created_at=_at("2026-07-14"), fx_rate=D("10.5"), cost_sek=D("10.5"))
    LedgerRowFactory(user=user_a, created_at=_at("2026-07-15"), fx_rate=D("11.25"), cost_sek=D("11.25"))
    LedgerRowFactory(user=user_a, created_at=_at("2026-07-16"), cost_sek=None, status="success")
    LedgerRowFactory(user=user_a, created_at=_at("2026-07-16"), cost_sek=None, status="pending")
    LedgerRowFactory(user=user_a, created_at=_at("2026-08-01", "00:00"), cost_sek=D(99))  # the next day
    LedgerRowFactory(user=user_b, created_at=_at("2026-07-15"), cost_sek=D(77))  # another tenant
    report = roi_report_build(user=user_a, period=Period(dt.date(2026, 7, 1), dt.date(2026, 7, 31)))
    assert (report.ai_cost, report.openrouter_cost, report.unpriced_calls) == (D("21.75"), D("21.75"), 1)


def test_break_even_is_the_month_cumulative_profit_covers_the_integration(user_a: Any) -> None:
    # March 2026: revenue 31000, running cost 3100 -> 900 a day; 10000 needs 12 days from Mar 5.
    ROISettingsFactory(
        user=user_a,
        telephony_sek=D(3100),
        integration_cost_sek=D(10000),
        integration_start=dt.date(2026, 3, 5),
    )
    BookingFactory(user=user_a, date=dt.date(2026, 3, 20), value_sek=D(31000))
    report = roi_report_build(user=user_a, period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)))
    assert report.break_even == BreakEven(reached=True, month=dt.date(2026, 3, 1), months=1)
    # 12 months = 365 days: revenue 365000, costs 36500 + the integration once.
    assert [_projection_cents(p) for p in report.projections] == [
        (12, D(365000), D(46500), D(318500), D("684.95")),
        (24, D(730000), D(83000), D(647000), D("779.52")),
        (36, D(1095000), D(119500), D(975500), D("816.32")),
    ]


def _projection_cents(p: Projection) -> tuple[int, Decimal, Decimal, Decimal, Decimal | None]:
    return (p.months, p.revenue, p.costs, p.profit, _cents(p.roi_percent))


def test_break_even_months_later_and_never(user_a: Any, user_b: Any) -> None:
    # 100 a day of profit: 10000 takes 100 days from 2026-03-05, i.e. until 2026-06-12.
    ROISettingsFactory(user=user_a, integration_cost_sek=D(10000), integration_start=dt.date(2026, 3, 5))
    BookingFactory(user=user_a, date=dt.date(2026, 4, 2), value_sek=D(3000))
    report = roi_report_build(user=user_a, period=Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30)))
    assert report.break_even == BreakEven(reached=True, month=dt.date(2026, 6, 1), months=4)

    ROISettingsFactory(user=user_b, sms_sek=D(5000), integration_cost_sek=D(1), integration_start=None)
    BookingFactory(user=user_b, date=dt.date(2026, 4, 2), value_sek=D(3000))
    report_b = roi_report_build(user=user_b, period=Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30)))
    assert report_b.break_even == BreakEven(reached=False)


def test_the_report_reads_only_my_rows(user_a: Any, user_b: Any) -> None:
    ROISettingsFactory(user=user_b, telephony_sek=D(3000))
    BookingFactory(user=user_b, date=dt.date(2026, 9, 2))
    LedgerRowFactory(user=user_b, created_at=_at("2026-09-02"))
    report = roi_report_build(user=user_a, period=Period(dt.date(2026, 9, 1), dt.date(2026, 9, 30)))
    assert (report.bookings, report.revenue, report.total_cost, report.ai_by_use_case) == (0, D(0), D(0), [])


def test_the_report_takes_a_fixed_number_of_queries(user_a: Any) -> None:
    ROISettingsFactory(user=user_a, telephony_sek=D(3000))
    for month in range(1, 13):
        BookingFactory(user=user_a, date=dt.date(2025, month, 3))
        LedgerRowFactory(user=user_a, created_at=_at(f"2025-{month:02d}-03"))
    with CaptureQueriesContext(connection) as queries:
        report = roi_report_build(user=user_a, period=Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    assert len(queries) == 4
    assert len(report.months) == 12


def test_days_are_a_generator_that_sums_to_the_report(user_a: Any) -> None:
    ROISettingsFactory(
        user=user_a,
        telephony_sek=D(1000),
        support_sek=D("499.99"),
        integration_cost_sek=D(5000),
        integration_start=dt.date(2024, 2, 29),
    )
    BookingFactory(user=user_a, date=dt.date(2024, 2, 29), value_sek=D("123.45"))
    BookingFactory(user=user_a, date=dt.date(2024, 3, 1), value_sek=D(700))
    LedgerRowFactory(user=user_a, created_at=_at("2024-03-01"), cost_sek=D("3.333"), provider="system")
    LedgerRowFactory(user=user_a, created_at=_at("2024-03-01"), cost_sek=D("1.5"))
    period = Period(dt.date(2024, 2, 20), dt.date(2024, 3, 9))
    days = roi_days(user=user_a, period=period)
    assert iter(days) is days  # a generator, not a list
    rows = list(days)
    report = roi_report_build(user=user_a, period=period)
    assert [r.day for r in rows] == list(period.each_day())
    assert sum(r.bookings for r in rows) == report.bookings == 2
    assert sum(r.revenue for r in rows) == report.revenue
    assert sum(r.ai_cost for r in rows) == report.ai_cost == D("4.833")
    assert sum(r.openrouter_cost for r in rows) == report.openrouter_cost == D("1.5")
    # Exact sum of the days against the report's 18-place Decimal.
    assert abs(sum(r.costs for r in rows) - Fraction(report.total_cost)) < Fraction(1, 10**17)
