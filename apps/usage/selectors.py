"""Reads of the usage ledger, always scoped to one tenant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from apps.core.periods import Period
from apps.integrations.models import Provider, UseCase

from .models import (
    AIUsageLog,
    DailyProviderUsage,
    DailyUsage,
    MonthlyUsage,
    UsageSource,
    UsageStatus,
)
from .rollups import SUM_COLUMNS

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=30, decimal_places=18))


def utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def usage_recent(*, user: Any, limit: int = 20) -> list[AIUsageLog]:
    """The latest calls through the gateway (sync adjustments are spend, not calls: not listed)."""
    rows = AIUsageLog.objects.for_user(user).filter(source=UsageSource.GATEWAY)
    return list(rows.order_by("-created_at", "-id")[:limit])


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


# The part of a group's cost that sync adjustments hold (spend OpenRouter billed outside the
# gateway): not a rollup column, it is the cost of the rows whose ``source`` is ``activity_sync``.
SYNCED_COLUMNS = ("synced_cost_usd", "synced_cost_sek")
TOTAL_FIELDS = (*SUM_COLUMNS, *SYNCED_COLUMNS)

# The key a summary files sync adjustments under instead of their stored use case (``generic``):
# they are spend outside the gateway, no use case of the product (labelled by ``use_case_label``).
SYNCED_USE_CASE = UsageSource.ACTIVITY_SYNC.value


def use_case_label(use_case: str) -> str:
    """The display name of a summary's use-case key (``SYNCED_USE_CASE`` included)."""
    if use_case == SYNCED_USE_CASE:
        return str(_("Synced from OpenRouter (outside the gateway)"))
    return str(dict(UseCase.choices).get(use_case, use_case))


@dataclass(frozen=True)
class Totals:
    """Sums over finished rows (``pending`` rows are in flight and not counted yet).

    The counts (``calls``, ``successful``, ``errors``, ``fallbacks``, ``unpriced``, latency) are of
    gateway calls only; tokens and cost include sync adjustments, whose share of the cost is
    ``synced_cost_usd``/``synced_cost_sek``. Averages and rates divide gateway figures by gateway
    calls: spend outside the product is never spread over the product's calls.
    """

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
    synced_cost_usd: Decimal = Decimal(0)
    synced_cost_sek: Decimal = Decimal(0)

    def __add__(self, other: Totals) -> Totals:
        values: dict[str, Any] = {f: getattr(self, f) + getattr(other, f) for f in TOTAL_FIELDS}
        return Totals(**values)

    def as_dict(self) -> dict[str, Any]:
        """The sums by name (``dataclasses.asdict`` deep-copies; a year's days made it show up in profiles)."""
        return {name: getattr(self, name) for name in SUM_COLUMNS}

    def __neg__(self) -> Totals:
        values: dict[str, Any] = {f: -getattr(self, f) for f in TOTAL_FIELDS}
        return Totals(**values)

    @property
    def has_usage(self) -> bool:
        """Anything to show: a gateway call, or tokens or cost (a sync adjustment has no calls)."""
        return bool(self.calls or self.total_tokens or self.cost_usd or self.cost_sek)

    @property
    def gateway_cost_usd(self) -> Decimal:
        return self.cost_usd - self.synced_cost_usd

    @property
    def gateway_cost_sek(self) -> Decimal:
        return self.cost_sek - self.synced_cost_sek

    @property
    def average_cost_usd(self) -> Decimal:
        """Gateway cost per gateway call (sync adjustments are neither)."""
        return self.gateway_cost_usd / self.calls if self.calls else Decimal(0)

    @property
    def average_cost_sek(self) -> Decimal:
        """Gateway cost per gateway call (sync adjustments are neither)."""
        return self.gateway_cost_sek / self.calls if self.calls else Decimal(0)

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


def _sum_by(
    groups: list[tuple[tuple[Any, ...], Totals]], index: int | Callable[[tuple[Any, ...]], Any]
) -> list[tuple[Any, Totals]]:
    """Groups summed over key part ``index`` (or a function of the key), largest cost first (ties by name)."""
    part = index if callable(index) else itemgetter(index)
    summed: dict[Any, Totals] = {}
    for key, totals in groups:
        summed[part(key)] = summed.get(part(key), Totals()) + totals
    return sorted(summed.items(), key=lambda item: (-item[1].cost_usd, str(item[0])))


def _use_case_of(key: tuple[Any, ...]) -> str:
    """A group's use case as summaries show it: sync adjustments under ``SYNCED_USE_CASE``."""
    return SYNCED_USE_CASE if key[4] == UsageSource.ACTIVITY_SYNC else str(key[1])


def _rows(pairs: list[tuple[Any, Totals]], name: str) -> list[dict[str, Any]]:
    """One row per group with anything in it: a group of sync adjustments has cost but no calls."""
    return [
        {name: value, **totals.as_dict(), "totals": totals} for value, totals in pairs if totals.has_usage
    ]


@dataclass(frozen=True)
class UsageSummary:
    """A period's usage: totals and breakdowns, all derived from the same grouped rows.

    ``groups`` holds sums per (model, use case, provider, cost source, source); ``days`` per
    (day, provider). ``by_use_case`` files sync adjustments under ``SYNCED_USE_CASE``. ``for_provider`` narrows both without another query. The derived views are computed
    once per instance (templates read them many times).
    """

    start: dt.date
    end: dt.date
    groups: list[tuple[tuple[str, str, str, str, str], Totals]] = field(default_factory=list)
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
        return _rows(_sum_by(self.groups, _use_case_of), "use_case")

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


_GROUP_FIELDS = ("model", "use_case", "provider", "cost_source", "source")

_CALL = Q(source=UsageSource.GATEWAY)

# The ledger's rows summed the way the rollups sum them (apps.usage.rollups.ledger_facts): only
# gateway rows are calls; sync adjustments add tokens and cost.
_LEDGER_SUMS: dict[str, Any] = {
    "n_unpriced": Count("id", filter=_CALL & Q(cost_usd__isnull=True)),
    "n_calls": Count("id", filter=_CALL),
    "n_successful": Count("id", filter=_CALL & Q(status=UsageStatus.SUCCESS)),
    "n_errors": Count("id", filter=_CALL & ~Q(status=UsageStatus.SUCCESS)),
    "n_fallbacks": Count("id", filter=_CALL & Q(is_fallback=True)),
    "n_prompt_tokens": Coalesce(Sum("prompt_tokens"), 0),
    "n_completion_tokens": Coalesce(Sum("completion_tokens"), 0),
    "n_total_tokens": Coalesce(Sum("total_tokens"), 0),
    "n_cost_usd": Coalesce(Sum("cost_usd"), ZERO),
    "n_cost_sek": Coalesce(Sum("cost_sek"), ZERO),
    "n_latency_ms_sum": Coalesce(Sum("latency_ms", filter=_CALL), 0),
    "n_latency_count": Count("latency_ms", filter=_CALL),
}


def _totals(row: Any, prefix: str = "", *, synced: bool = False) -> Totals:
    """A row's sums; ``synced`` when they are sync adjustments (their cost is outside the gateway)."""
    values: dict[str, Any] = {name: row[prefix + name] or 0 for name in SUM_COLUMNS}
    if synced:
        values["synced_cost_usd"] = values["cost_usd"]
        values["synced_cost_sek"] = values["cost_sek"]
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
    merged: dict[tuple[str, str, str, str, str], Totals] = {}
    days: list[tuple[tuple[dt.date, str], Totals]] = []
    if parts:
        union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for row in union:
            key: Any = tuple(row[f] for f in _GROUP_FIELDS)
            totals = _totals(row, "n_", synced=row["source"] == UsageSource.ACTIVITY_SYNC)
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
    """AI cost in SEK per use case over ``period``, most expensive first. One aggregate query (rollups).

    ``calls`` are gateway calls; sync adjustments (spend outside the gateway, no calls) are their
    own entry under ``SYNCED_USE_CASE``, not the use case they are stored with. A use case whose
    rows sum to nothing (an adjustment set back to zero) is left out.
    """
    rows: Any = (
        _period_rollups(user=user, period=period)
        .values("use_case", "source")
        .annotate(n_calls=Coalesce(Sum("calls"), 0), **_rollup_costs())
        .order_by("use_case", "source")
    )
    summed: dict[str, UseCaseCost] = {}
    for row in rows:
        key = SYNCED_USE_CASE if row["source"] == UsageSource.ACTIVITY_SYNC else row["use_case"]
        before = summed.get(key, UseCaseCost(use_case=key, total_sek=Decimal(0), calls=0, unpriced=0))
        summed[key] = UseCaseCost(
            use_case=key,
            total_sek=before.total_sek + row["total_sek"],
            calls=before.calls + row["n_calls"],
            unpriced=before.unpriced + row["unpriced_calls"],
        )
    costs = [cost for cost in summed.values() if cost.calls or cost.total_sek]
    return sorted(costs, key=lambda cost: (-cost.total_sek, cost.use_case))


# --- end of AI cost reads for ROI -------------------------------------------------------------
