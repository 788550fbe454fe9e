"""Reads of the usage ledger, always scoped to one tenant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from apps.integrations.models import Provider

from .models import AIUsageLog, UsageStatus

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=30, decimal_places=18))


def utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def usage_recent(*, user: Any, limit: int = 20) -> list[AIUsageLog]:
    return list(AIUsageLog.objects.for_user(user).order_by("-created_at", "-id")[:limit])


def usage_logs(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[AIUsageLog]:
    """The tenant's ledger rows, newest first, narrowed by ``filters`` (already validated).

    ``start``/``end`` are UTC dates (inclusive); the rest match columns exactly.
    """
    rows = AIUsageLog.objects.for_user(user)
    filters = filters or {}
    # Days are UTC days (OpenRouter's), whatever the display time zone.
    if filters.get("start"):
        rows = rows.filter(created_at__gte=utc_midnight(filters["start"]))
    if filters.get("end"):
        rows = rows.filter(created_at__lt=utc_midnight(filters["end"] + dt.timedelta(days=1)))
    for name in ("model", "use_case", "provider", "status", "source"):
        if filters.get(name):
            rows = rows.filter(**{name: filters[name]})
    return rows.order_by("-created_at", "-id")


@dataclass(frozen=True)
class Totals:
    calls: int = 0
    successful: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    cost_sek: Decimal = Decimal(0)
    unpriced: int = 0

    @property
    def average_cost_usd(self) -> Decimal:
        return self.cost_usd / self.calls if self.calls else Decimal(0)


@dataclass(frozen=True)
class UsageSummary:
    start: dt.date
    end: dt.date
    totals: Totals
    by_model: list[dict[str, Any]] = field(default_factory=list)
    by_use_case: list[dict[str, Any]] = field(default_factory=list)
    by_day: list[dict[str, Any]] = field(default_factory=list)


# "unpriced" comes first: it filters on the cost_usd column, which the "cost_usd" sum shadows.
_AGGREGATES = {
    "unpriced": Count("id", filter=Q(cost_usd__isnull=True) & ~Q(status=UsageStatus.PENDING)),
    "calls": Count("id"),
    "successful": Count("id", filter=Q(status=UsageStatus.SUCCESS)),
    "prompt_tokens": Coalesce(Sum("prompt_tokens"), 0),
    "completion_tokens": Coalesce(Sum("completion_tokens"), 0),
    "total_tokens": Coalesce(Sum("total_tokens"), 0),
    "cost_usd": Coalesce(Sum("cost_usd"), ZERO),
    "cost_sek": Coalesce(Sum("cost_sek"), ZERO),
}


def _groups(rows: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


def usage_summary(*, user: Any, start: dt.date, end: dt.date, provider: str | None = None) -> UsageSummary:
    """Totals for ``start``..``end`` (UTC days, inclusive), per model, per use case and per day.

    Four aggregate queries whatever the number of rows; sums are exact Decimals.
    """
    rows = usage_logs(user=user, filters={"start": start, "end": end, "provider": provider})
    totals = Totals(**rows.aggregate(**_AGGREGATES))
    by_model = _groups(rows.values("model").annotate(**_AGGREGATES).order_by("-cost_usd", "model"))
    by_use_case = _groups(rows.values("use_case").annotate(**_AGGREGATES).order_by("-cost_usd", "use_case"))
    by_day = _groups(
        rows.annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(**_AGGREGATES)
        .order_by("day")
    )
    return UsageSummary(
        start=start, end=end, totals=totals, by_model=by_model, by_use_case=by_use_case, by_day=by_day
    )


# --- AI cost reads for ROI (engineer roi) -------------------------------------------------------
# ROI counts every ledger row's ``cost_sek`` (all providers; OpenRouter also on its own) by the UTC
# day of ``created_at``. NULL costs are unknown, not zero: they are counted as ``unpriced``.
# Keep these signatures stable: their bodies may move to the daily rollups.


@dataclass(frozen=True)
class DayCost:
    total_sek: Decimal = Decimal(0)
    openrouter_sek: Decimal = Decimal(0)
    unpriced: int = 0


@dataclass(frozen=True)
class UseCaseCost:
    use_case: str
    total_sek: Decimal
    calls: int
    unpriced: int


_COST_AGGREGATES = {
    "unpriced": Count("id", filter=Q(cost_sek__isnull=True) & ~Q(status=UsageStatus.PENDING)),
    "total_sek": Coalesce(Sum("cost_sek"), ZERO),
    "openrouter_sek": Coalesce(Sum("cost_sek", filter=Q(provider=Provider.OPENROUTER)), ZERO),
}


def _period_rows(*, user: Any, period: Any) -> QuerySet[AIUsageLog]:
    return AIUsageLog.objects.for_user(user).filter(
        created_at__gte=period.start_at, created_at__lt=period.end_before
    )


def usage_cost_by_day(*, user: Any, period: Any) -> dict[dt.date, DayCost]:
    """AI cost in SEK per UTC day of ``period`` (an ``apps.core.periods.Period``); days without rows are absent.

    One aggregate query; sums are exact Decimals.
    """
    # Any: the stubs cannot follow annotations passed as **kwargs.
    rows: Any = (
        _period_rows(user=user, period=period)
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(**_COST_AGGREGATES)
        .order_by("day")
    )
    return {
        row["day"]: DayCost(
            total_sek=row["total_sek"], openrouter_sek=row["openrouter_sek"], unpriced=row["unpriced"]
        )
        for row in rows
    }


def usage_cost_by_use_case(*, user: Any, period: Any) -> list[UseCaseCost]:
    """AI cost in SEK per use case over ``period``, most expensive first. One aggregate query."""
    rows: Any = (
        _period_rows(user=user, period=period)
        .values("use_case")
        .annotate(calls=Count("id"), **_COST_AGGREGATES)
        .order_by("use_case")
    )
    costs = [
        UseCaseCost(
            use_case=row["use_case"], total_sek=row["total_sek"], calls=row["calls"], unpriced=row["unpriced"]
        )
        for row in rows
    ]
    return sorted(costs, key=lambda cost: -cost.total_sek)


# --- end of AI cost reads for ROI -------------------------------------------------------------
