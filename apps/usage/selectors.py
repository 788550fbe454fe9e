"""Reads of the usage ledger, always scoped to one tenant."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from apps.core.periods import Period
from apps.integrations.models import Provider

from .models import AIUsageLog, DailyUsage, UsageSource, UsageStatus
from .rollups import SUM_COLUMNS

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=30, decimal_places=18))


def utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def usage_recent(*, user: Any, limit: int = 20) -> list[AIUsageLog]:
    return list(AIUsageLog.objects.for_user(user).order_by("-created_at", "-id")[:limit])


def usage_logs(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[AIUsageLog]:
    """The tenant's ledger rows, newest first, narrowed by ``filters`` (already validated).

    ``period`` (a ``Period`` of UTC days) bounds ``created_at``; the rest match columns exactly.
    """
    rows = AIUsageLog.objects.for_user(user)
    filters = filters or {}
    period: Period | None = filters.get("period")
    if period is not None:
        rows = rows.filter(created_at__gte=period.start_at, created_at__lt=period.end_before)
    for name in ("model", "use_case", "provider", "status", "source"):
        if filters.get(name):
            rows = rows.filter(**{name: filters[name]})
    return rows.order_by("-created_at", "-id")


@dataclass(frozen=True)
class Totals:
    """Sums over finished calls (``pending`` rows are in flight and not counted yet)."""

    calls: int = 0
    successful: int = 0
    errors: int = 0
    fallbacks: int = 0
    unpriced: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    cost_sek: Decimal = Decimal(0)
    latency_ms_sum: int = 0
    latency_count: int = 0

    def __add__(self, other: Totals) -> Totals:
        values: dict[str, Any] = {f: getattr(self, f) + getattr(other, f) for f in SUM_COLUMNS}
        return Totals(**values)

    @property
    def average_cost_usd(self) -> Decimal:
        return self.cost_usd / self.calls if self.calls else Decimal(0)

    @property
    def average_cost_sek(self) -> Decimal:
        return self.cost_sek / self.calls if self.calls else Decimal(0)

    @property
    def error_rate(self) -> Decimal:
        """Failed calls (error, timeout, cancelled, rate limited) as a share 0..1 of finished calls."""
        return Decimal(self.errors) / self.calls if self.calls else Decimal(0)

    @property
    def fallback_rate(self) -> Decimal:
        return Decimal(self.fallbacks) / self.calls if self.calls else Decimal(0)

    @property
    def average_latency_ms(self) -> int | None:
        return round(self.latency_ms_sum / self.latency_count) if self.latency_count else None


def _sum_by(groups: list[tuple[tuple[Any, ...], Totals]], index: int) -> list[tuple[Any, Totals]]:
    """Groups summed over key part ``index``, largest cost first (ties by name)."""
    summed: dict[Any, Totals] = {}
    for key, totals in groups:
        summed[key[index]] = summed.get(key[index], Totals()) + totals
    return sorted(summed.items(), key=lambda item: (-item[1].cost_usd, str(item[0])))


def _rows(pairs: list[tuple[Any, Totals]], name: str) -> list[dict[str, Any]]:
    return [{name: value, **asdict(totals), "totals": totals} for value, totals in pairs if totals.calls]


@dataclass(frozen=True)
class UsageSummary:
    """A period's usage: totals and breakdowns, all derived from the same grouped rows.

    ``groups`` holds sums per (model, use case, provider, cost source); ``days`` per (day,
    provider). ``for_provider`` narrows both without another query. The derived views are computed
    once per instance (templates read them many times).
    """

    start: dt.date
    end: dt.date
    groups: list[tuple[tuple[str, str, str, str], Totals]] = field(default_factory=list)
    days: list[tuple[tuple[dt.date, str], Totals]] = field(default_factory=list)

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    def for_provider(self, provider: str | None) -> UsageSummary:
        if provider is None:
            return self
        return UsageSummary(
            start=self.start,
            end=self.end,
            groups=[(k, t) for k, t in self.groups if k[2] == provider],
            days=[(k, t) for k, t in self.days if k[1] == provider],
        )

    @cached_property
    def totals(self) -> Totals:
        return sum((t for _, t in self.groups), Totals())

    @cached_property
    def by_model(self) -> list[dict[str, Any]]:
        return _rows(_sum_by(self.groups, 0), "model")

    @cached_property
    def by_use_case(self) -> list[dict[str, Any]]:
        return _rows(_sum_by(self.groups, 1), "use_case")

    @cached_property
    def by_provider(self) -> list[dict[str, Any]]:
        return _rows(_sum_by(self.groups, 2), "provider")

    @cached_property
    def by_cost_source(self) -> list[dict[str, Any]]:
        return _rows(_sum_by(self.groups, 3), "cost_source")

    @cached_property
    def by_day(self) -> list[dict[str, Any]]:
        """Days with finished calls, oldest first."""
        summed = dict(_sum_by(list(self.days), 0))
        return [{"day": day, **asdict(summed[day]), "totals": summed[day]} for day in sorted(summed)]


_GROUP_FIELDS = ("model", "use_case", "provider", "cost_source")


def _rollup_sums() -> dict[str, Any]:
    return {name: Sum(name) for name in SUM_COLUMNS}


# The ledger's rows summed the way the rollups sum them (see apps.usage.rollups.ledger_facts).
_LEDGER_SUMS: dict[str, Any] = {
    "n_unpriced": Count("id", filter=Q(cost_usd__isnull=True)),
    "n_calls": Count("id"),
    "n_successful": Count("id", filter=Q(status=UsageStatus.SUCCESS)),
    "n_errors": Count("id", filter=~Q(status=UsageStatus.SUCCESS)),
    "n_fallbacks": Count("id", filter=Q(is_fallback=True)),
    "n_prompt_tokens": Coalesce(Sum("prompt_tokens"), 0),
    "n_completion_tokens": Coalesce(Sum("completion_tokens"), 0),
    "n_total_tokens": Coalesce(Sum("total_tokens"), 0),
    "n_cost_usd": Coalesce(Sum("cost_usd"), ZERO),
    "n_cost_sek": Coalesce(Sum("cost_sek"), ZERO),
    "n_latency_ms_sum": Coalesce(Sum("latency_ms"), 0),
    "n_latency_count": Count("latency_ms"),
}


def _totals(row: Any, prefix: str = "") -> Totals:
    values: dict[str, Any] = {name: row[prefix + name] or 0 for name in SUM_COLUMNS}
    return Totals(**values)


def usage_summary(*, user: Any, period: Period, today: dt.date | None = None) -> UsageSummary:
    """Usage of ``period`` (UTC days): rollups for every day but today, the ledger for today.

    Two queries for a period in the past, three when it includes today, whatever the number of
    rows. Narrow it to one provider with ``.for_provider(...)``.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    rolled = DailyUsage.objects.for_user(user).filter(day__gte=period.start, day__lte=period.end)
    rolled = rolled.exclude(day=today).order_by()
    groups = [
        (tuple(row[f] for f in _GROUP_FIELDS), _totals(row))
        for row in rolled.values(*_GROUP_FIELDS).annotate(**_rollup_sums())
    ]
    days = [
        ((row["day"], row["provider"]), _totals(row))
        for row in rolled.values("day", "provider").annotate(**_rollup_sums())
    ]
    if today in period:
        live = (
            AIUsageLog.objects.for_user(user)
            .filter(
                created_at__gte=utc_midnight(today), created_at__lt=utc_midnight(today + dt.timedelta(days=1))
            )
            .exclude(status=UsageStatus.PENDING)
            .order_by()
            .values(*_GROUP_FIELDS)
            .annotate(**_LEDGER_SUMS)
        )
        for row in live:
            totals = _totals(row, "n_")
            groups.append((tuple(row[f] for f in _GROUP_FIELDS), totals))
            days.append(((today, row["provider"]), totals))
    merged: dict[tuple[str, str, str, str], Totals] = {}
    for key, totals in groups:
        merged[key] = merged.get(key, Totals()) + totals  # type: ignore[index]
    return UsageSummary(start=period.start, end=period.end, groups=list(merged.items()), days=days)


def usage_pending_count(*, user: Any) -> int:
    """Calls still in flight (or not yet expired): not in any total until they finish."""
    return AIUsageLog.objects.for_user(user).filter(status=UsageStatus.PENDING).count()


def usage_last_call_at(*, user: Any) -> dt.datetime | None:
    """When the tenant's latest call through the gateway started."""
    return (
        AIUsageLog.objects.for_user(user)
        .filter(source=UsageSource.GATEWAY)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


# --- AI cost reads for ROI (engineer roi) -------------------------------------------------------
# ROI counts every ledger row's ``cost_sek`` (all providers; OpenRouter also on its own) by the UTC
# day of ``created_at``. NULL costs are unknown, not zero: they are counted as ``unpriced``.
# Keep these signatures stable (engineer dash's analytics reads them too).


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


def _rollup_costs() -> dict[str, Any]:
    return {
        "total_sek": Coalesce(Sum("cost_sek"), ZERO),
        "openrouter_sek": Coalesce(Sum("cost_sek", filter=Q(provider=Provider.OPENROUTER)), ZERO),
        "unpriced_calls": Coalesce(Sum("unpriced"), 0),
    }


def _period_rollups(*, user: Any, period: Any) -> QuerySet[DailyUsage]:
    return DailyUsage.objects.for_user(user).filter(day__gte=period.start, day__lte=period.end)


def usage_cost_by_day(*, user: Any, period: Any) -> dict[dt.date, DayCost]:
    """AI cost in SEK per UTC day of ``period`` (an ``apps.core.periods.Period``); days without rows are absent.

    One aggregate query over the daily rollups (kept equal to the ledger on every write, so the
    sums are the ledger's exact Decimals); finished rows only, as a pending call has no cost yet.
    """
    # Any: the stubs cannot follow annotations passed as **kwargs.
    rows: Any = (
        _period_rollups(user=user, period=period).values("day").annotate(**_rollup_costs()).order_by("day")
    )
    return {
        row["day"]: DayCost(
            total_sek=row["total_sek"], openrouter_sek=row["openrouter_sek"], unpriced=row["unpriced_calls"]
        )
        for row in rows
    }


def usage_cost_by_use_case(*, user: Any, period: Any) -> list[UseCaseCost]:
    """AI cost in SEK per use case over ``period``, most expensive first. One aggregate query (rollups)."""
    rows: Any = (
        _period_rollups(user=user, period=period)
        .values("use_case")
        .annotate(n_calls=Coalesce(Sum("calls"), 0), **_rollup_costs())
        .order_by("use_case")
    )
    costs = [
        UseCaseCost(
            use_case=row["use_case"],
            total_sek=row["total_sek"],
            calls=row["n_calls"],
            unpriced=row["unpriced_calls"],
        )
        for row in rows
    ]
    return sorted(costs, key=lambda cost: -cost.total_sek)


# --- end of AI cost reads for ROI -------------------------------------------------------------
