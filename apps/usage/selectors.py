"""Reads of the usage ledger, always scoped to one tenant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from apps.core.periods import Period
from apps.integrations.models import Provider

from .models import AIUsageLog, DailyProviderUsage, DailyUsage, MonthlyUsage, UsageSource, UsageStatus
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

    def as_dict(self) -> dict[str, Any]:
        """The sums by name (``dataclasses.asdict`` deep-copies; a year's days made it show up in profiles)."""
        return {name: getattr(self, name) for name in SUM_COLUMNS}

    def __neg__(self) -> Totals:
        values: dict[str, Any] = {f: -getattr(self, f) for f in SUM_COLUMNS}
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
    return [{name: value, **totals.as_dict(), "totals": totals} for value, totals in pairs if totals.calls]


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
        return [{"day": day, **summed[day].as_dict(), "totals": summed[day]} for day in sorted(summed)]


_GROUP_FIELDS = ("model", "use_case", "provider", "cost_source")


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


DayRange = tuple[dt.date, dt.date]


def _day_ranges(days: list[dt.date]) -> list[DayRange]:
    """Sorted days as inclusive runs of consecutive days."""
    runs: list[DayRange] = []
    for day in sorted(days):
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


@dataclass(frozen=True)
class RollupPlan:
    """Which rollup rows sum to a period's days (today excepted, it is read from the ledger).

    ``months``: whole ``MonthlyUsage`` rows; ``add``: ``DailyUsage`` days to add; ``subtract``:
    ``DailyUsage`` days to take off the months they belong to (a month minus its few days outside
    the period reads fewer rows than the days inside it). Exact because a month's row is the sum
    of its days' rows (``apps.usage.rollups``).
    """

    months: list[dt.date]
    add: list[DayRange]
    subtract: list[DayRange]


def rollup_plan(period: Period, today: dt.date) -> RollupPlan:
    months: list[dt.date] = []
    add: list[dt.date] = []
    subtract: list[dt.date] = []
    for first, _covered, days_in_month in period.month_parts():
        month_days = [first + dt.timedelta(days=n) for n in range(days_in_month)]
        inside = [d for d in month_days if d in period and d != today]
        outside = [d for d in month_days if d not in inside]
        if not inside:
            continue
        if len(outside) < len(inside):
            months.append(first)
            subtract += outside
        else:
            add += inside
    return RollupPlan(months, _day_ranges(add), _day_ranges(subtract))


def _in_ranges(ranges: list[DayRange], field_name: str = "day") -> Q:
    q = Q()
    for first, last in ranges:
        q |= Q(**{f"{field_name}__gte": first, f"{field_name}__lte": last})
    return q


_PART = "part"  # which member of the union a row comes from


def _rollup_part(rows: QuerySet[Any], part: str) -> QuerySet[Any]:
    sums = {f"n_{name}": Sum(name) for name in SUM_COLUMNS}
    return rows.order_by().values(*_GROUP_FIELDS).annotate(**{_PART: Value(part)}, **sums)


def usage_summary(
    *, user: Any, period: Period, today: dt.date | None = None, with_days: bool = True
) -> UsageSummary:
    """Usage of ``period`` (UTC days): rollups for every day but today, the ledger for today.

    The groups are one query whatever the period: whole months from ``MonthlyUsage`` (less the
    few days of a month outside the period), other days from ``DailyUsage``, and today's finished
    ledger rows, in one ``UNION ALL`` (one snapshot, so the parts agree). The per-day series
    (``with_days``) is a second query over ``DailyProviderUsage``, two rows a day. Narrow it to one
    provider with ``.for_provider(...)``.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    plan = rollup_plan(period, today)
    parts: list[QuerySet[Any]] = []
    if plan.months:
        parts.append(_rollup_part(MonthlyUsage.objects.for_user(user).filter(month__in=plan.months), "month"))
    if plan.add:
        parts.append(_rollup_part(DailyUsage.objects.for_user(user).filter(_in_ranges(plan.add)), "add"))
    if plan.subtract:
        rows = DailyUsage.objects.for_user(user).filter(_in_ranges(plan.subtract))
        parts.append(_rollup_part(rows, "subtract"))
    if today in period:
        live = (
            AIUsageLog.objects.for_user(user)
            .filter(
                created_at__gte=utc_midnight(today), created_at__lt=utc_midnight(today + dt.timedelta(days=1))
            )
            .exclude(status=UsageStatus.PENDING)
            .order_by()
            .values(*_GROUP_FIELDS)
            # The same columns in the same order as the rollup parts (a union is positional).
            .annotate(
                **{_PART: Value("ledger")}, **{f"n_{name}": _LEDGER_SUMS[f"n_{name}"] for name in SUM_COLUMNS}
            )
        )
        parts.append(live)
    merged: dict[tuple[str, str, str, str], Totals] = {}
    days: list[tuple[tuple[dt.date, str], Totals]] = []
    if parts:
        union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for row in union:
            key: Any = tuple(row[f] for f in _GROUP_FIELDS)
            totals = _totals(row, "n_")
            if row[_PART] == "subtract":
                totals = -totals
            elif row[_PART] == "ledger":
                days.append(((today, row["provider"]), totals))
            merged[key] = merged.get(key, Totals()) + totals
    if with_days:
        rolled_days = DailyProviderUsage.objects.for_user(user).filter(
            day__gte=period.start, day__lte=period.end
        )
        for row in rolled_days.exclude(day=today).order_by().values("day", "provider", *SUM_COLUMNS):
            days.append(((row["day"], row["provider"]), _totals(row)))
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

    One aggregate query over the per-day-and-provider rollups (at most two rows a day; kept equal
    to the ledger on every write, so the sums are the ledger's exact Decimals); finished rows
    only, as a pending call has no cost yet.
    """
    rolled = DailyProviderUsage.objects.for_user(user).filter(day__gte=period.start, day__lte=period.end)
    # Any: the stubs cannot follow annotations passed as **kwargs.
    rows: Any = rolled.values("day").annotate(**_rollup_costs()).order_by("day")
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
