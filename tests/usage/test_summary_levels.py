"""The usage summary reads whole months, days and today's ledger: every period equals the ledger.

Whole months come from the monthly rollup (a month less its few days outside the period when
that reads fewer rows), other days from the daily rollup, today from the ledger. Whatever mix a
period needs, its numbers are an independent sum over the ledger's finished rows of its days.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.periods import Period
from apps.usage.models import AIUsageLog
from apps.usage.selectors import SYNCED_USE_CASE, rollup_plan, usage_summary
from apps.usage.services import Adjustment, TokenCounts, usage_adjustments_write
from tests.factories import AIUsageLogFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
D = dt.date


def test_the_plan_reads_whole_months_and_takes_off_a_months_few_other_days() -> None:
    this_month = rollup_plan(Period(D(2026, 11, 1), TODAY), TODAY)
    assert this_month.months == [D(2026, 11, 1)]
    assert this_month.subtract == [(TODAY, D(2026, 11, 30))]  # today (from the ledger) and the future
    assert this_month.add == []
    year = rollup_plan(Period(D(2026, 1, 1), TODAY), TODAY)
    assert year.months == [D(2026, m, 1) for m in range(1, 12)]
    assert year.subtract == [(TODAY, D(2026, 11, 30))]
    week = rollup_plan(Period(D(2026, 11, 22), TODAY), TODAY)
    assert (week.months, week.add, week.subtract) == ([], [(D(2026, 11, 22), D(2026, 11, 27))], [])
    # A month half inside the period is read day by day; a month mostly inside, as month less days.
    mixed = rollup_plan(Period(D(2026, 9, 20), D(2026, 10, 29)), TODAY)
    assert mixed.months == [D(2026, 10, 1)]
    assert mixed.add == [(D(2026, 9, 20), D(2026, 9, 30))]
    assert mixed.subtract == [(D(2026, 10, 30), D(2026, 10, 31))]
    # Today inside a period that runs on: the month less today (and the days after the end).
    around = rollup_plan(Period(D(2026, 11, 2), D(2026, 11, 29)), TODAY)
    assert around.months == [D(2026, 11, 1)]
    assert around.subtract == [
        (D(2026, 11, 1), D(2026, 11, 1)),
        (TODAY, TODAY),
        (D(2026, 11, 30), D(2026, 11, 30)),
    ]
    only_today = rollup_plan(Period(TODAY, TODAY), TODAY)
    assert (only_today.months, only_today.add, only_today.subtract) == ([], [], [])


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def history(user_a: Any, user_b: Any) -> tuple[Any, Any]:
    """Rows on the edges every plan cuts at: month ends, the days just outside each period, today."""
    days = [
        D(2026, 1, 1), D(2026, 8, 31), D(2026, 9, 19), D(2026, 9, 20), D(2026, 9, 30), D(2026, 10, 1),
        D(2026, 10, 29), D(2026, 10, 30), D(2026, 10, 31), D(2026, 11, 1), D(2026, 11, 2), D(2026, 11, 27),
    ]  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        for n, day in enumerate(days):
            for user, scale in ((user_a, 1), (user_b, 1000)):
                AIUsageLogFactory(
                    user=user, created_at=_at(day), cost_usd=Decimal("0.0013") * (n + 1) * scale
                )
                AIUsageLogFactory(
                    user=user,
                    created_at=_at(day, 23),
                    model="anthropic/claude-3.5-haiku",
                    provider="system" if n % 3 == 0 else "openrouter",
                    status="error" if n % 4 == 0 else "success",
                    cost_usd=None if n % 5 == 0 else Decimal("0.02") * scale,
                    latency_ms=100 + n,
                )
        # Sync adjustments (spend without calls) on month edges, inside and outside the periods,
        # and today (read from the ledger); a model only ever seen in an adjustment.
        for n, day in enumerate((D(2026, 9, 30), D(2026, 10, 1), D(2026, 10, 30), D(2026, 11, 27), TODAY)):
            for user, scale in ((user_a, 1), (user_b, 1000)):
                usage_adjustments_write(
                    user=user,
                    day=day,
                    adjustments={
                        "openai/gpt-4o-mini": Adjustment(
                            Decimal("0.5") * (n + 1) * scale, TokenCounts(prompt=100 + n, completion=7)
                        ),
                        "outside/only": Adjustment(
                            Decimal("0.25") * scale, TokenCounts(prompt=3, completion=1)
                        ),
                    },
                )
        AIUsageLogFactory(user=user_a, created_at=_at(TODAY, 9), cost_usd=Decimal("0.04"))
        AIUsageLog.objects.create(
            user=user_a, provider="openrouter", model="x", use_case="chat", created_at=NOW
        )
    return user_a, user_b


def _ledger(user: Any, period: Period) -> list[AIUsageLog]:
    return [
        r
        for r in AIUsageLog.objects.filter(user=user).exclude(status="pending")
        if r.created_at.astimezone(dt.UTC).date() in period
    ]


PERIODS = [
    Period(D(2026, 11, 1), TODAY),  # this month: the month less today and the future, + today's ledger
    Period(D(2026, 1, 1), TODAY),  # this year
    Period(D(2026, 11, 22), TODAY),  # 7 days
    Period(D(2026, 10, 30), TODAY),  # 30 days
    Period(D(2026, 10, 1), D(2026, 10, 31)),  # last month, whole
    Period(D(2026, 9, 20), D(2026, 10, 29)),  # days of September + October less two days
    Period(D(2026, 11, 2), D(2026, 11, 29)),  # today inside, a future day after it
    Period(D(2026, 9, 1), D(2026, 9, 30)),
    Period(TODAY, TODAY),
]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p.start}..{p.end}")
@pytest.mark.parametrize("who", [0, 1])
def test_every_period_is_the_ledgers_sum(history: tuple[Any, Any], period: Period, who: int) -> None:
    user = history[who]
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        summary = usage_summary(user=user, period=period)
    assert len(queries) <= 2
    rows = _ledger(user, period)
    # A call is a gateway row; sync adjustments add tokens and cost only.
    calls = [r for r in rows if r.source == "gateway"]
    synced = [r for r in rows if r.source == "activity_sync"]
    totals = summary.totals
    assert totals.calls == len(calls)
    assert totals.successful == sum(r.status == "success" for r in calls)
    assert totals.errors == sum(r.status != "success" for r in calls)
    assert totals.unpriced == sum(r.cost_usd is None for r in calls)
    assert totals.fallbacks == sum(bool(r.is_fallback) for r in calls)
    assert totals.total_tokens == sum(r.total_tokens for r in rows)
    assert totals.latency_ms_sum == sum(r.latency_ms or 0 for r in calls)
    assert totals.latency_count == sum(r.latency_ms is not None for r in calls)
    places = Decimal("1e-9")

    def usd(of: list[AIUsageLog]) -> Decimal:
        return sum((r.cost_usd or Decimal(0) for r in of), Decimal(0)).quantize(places)

    assert totals.cost_usd.quantize(places) == usd(rows)
    assert totals.synced_cost_usd.quantize(places) == usd(synced)
    assert totals.gateway_cost_usd.quantize(places) == usd(calls)
    if calls:
        assert (totals.average_cost_usd * len(calls)).quantize(places) == usd(calls)
    by_model: dict[str, tuple[int, Decimal]] = {}
    for r in rows:
        n, cost = by_model.get(r.model, (0, Decimal(0)))
        by_model[r.model] = (n + (r.source == "gateway"), cost + (r.cost_usd or 0))
    # Every model with cost is listed, also one with no call (only synced spend).
    assert {m["model"]: (m["calls"], m["cost_usd"].quantize(places)) for m in summary.by_model} == {
        m: (n, cost.quantize(places)) for m, (n, cost) in by_model.items()
    }
    by_use_case: dict[str, int] = {}
    for r in rows:
        key = SYNCED_USE_CASE if r.source == "activity_sync" else r.use_case
        by_use_case[key] = by_use_case.get(key, 0) + (r.source == "gateway")
    assert {u["use_case"]: u["calls"] for u in summary.by_use_case} == by_use_case
    for provider in ("openrouter", "system"):
        part = summary.for_provider(provider).totals
        assert part.calls == sum(r.provider == provider for r in calls)
    by_day: dict[dt.date, int] = {}
    for r in rows:
        day = r.created_at.astimezone(dt.UTC).date()
        by_day[day] = by_day.get(day, 0) + (r.source == "gateway")
    assert {d["day"]: d["calls"] for d in summary.by_day} == by_day
    assert not [row for row in summary.by_model if row["calls"] < 0]


@pytest.mark.parametrize("who", [0, 1])
def test_the_roi_cost_per_day_is_the_ledgers(history: tuple[Any, Any], who: int) -> None:
    """ROI's AI cost per day reads the per-day-and-provider level: the ledger's SEK per day."""
    from apps.usage.selectors import usage_cost_by_day

    user = history[who]
    period = Period(D(2026, 1, 1), TODAY)
    with time_machine.travel(NOW, tick=False):
        costs = usage_cost_by_day(user=user, period=period)
    expected: dict[dt.date, list[Any]] = {}
    for r in _ledger(user, period):
        day = expected.setdefault(r.created_at.astimezone(dt.UTC).date(), [Decimal(0), Decimal(0), 0])
        day[0] += r.cost_sek or Decimal(0)
        day[1] += (r.cost_sek or Decimal(0)) if r.provider == "openrouter" else Decimal(0)
        day[2] += r.cost_usd is None
    places = Decimal("1e-9")
    assert {
        d: [c.total_sek.quantize(places), c.openrouter_sek.quantize(places), c.unpriced]
        for d, c in costs.items()
    } == {d: [v[0].quantize(places), v[1].quantize(places), v[2]] for d, v in expected.items()}
