"""What the dashboards show, read from the usage selectors (rollups + today's ledger), per tenant.

Every figure is derived from one ``UsageSummary`` per page so the widgets agree with each other;
the page's query count does not grow with the number of ledger rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from apps.core.periods import Period
from apps.core.templatetags.money import sek
from apps.integrations.models import CreditSnapshot, Provider
from apps.integrations.selectors import credit_snapshots_list
from apps.roi.selectors import roi_fixed_costs
from apps.usage.models import CostSource
from apps.usage.selectors import (
    Totals,
    UsageSummary,
    usage_last_call_at,
    usage_pending_count,
    usage_summary,
    use_case_label,
)
from apps.usage.sync_selectors import reconciliation_gaps, sync_last_run

REALTIME_WINDOW = dt.timedelta(minutes=1)
BURN_DAYS = 7
# A forecast further out than this says "more than a year": a date centuries ahead from a few
# cents of spend is not a forecast anyone can use.
RUNWAY_HORIZON_DAYS = 365
SPARKLINE_DAYS = 30
SHARE_PLACES = Decimal("0.001")  # a tenth of a percent


def share(part: Decimal, whole: Decimal) -> Decimal:
    """``part`` as a ratio 0..1 of ``whole``, to a tenth of a percent (0 when the whole is 0)."""
    if not whole:
        return Decimal(0)
    return (part / whole).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def _exact(amount: Decimal) -> str:
    """The exact amount without the column's padding zeros (``0.000031``, not ``0.000031000000``)."""
    return format(amount.normalize(), "f")


def _series(labels: list[str], amounts: list[Totals], **extra: Any) -> dict[str, Any]:
    """A chart series in SEK (what the chart draws) with USD and the share for the tooltip."""
    whole = sum((t.cost_sek for t in amounts), Decimal(0))
    return {
        "labels": labels,
        # Exact decimal strings: the tables and tooltips round them by the one money rule.
        "sek": [_exact(t.cost_sek) for t in amounts],
        "usd": [_exact(t.cost_usd) for t in amounts],
        "share": [str(share(t.cost_sek, whole)) for t in amounts],
        **extra,
    }


def chart_data(summary: UsageSummary) -> dict[str, Any]:
    """The JSON the charts draw: cost per model, per use case and per day (every day of the period)."""
    per_day = {row["day"]: row["totals"] for row in summary.by_day}
    days = list(summary.period.each_day())
    return {
        "by_model": _series([r["model"] for r in summary.by_model], [r["totals"] for r in summary.by_model]),
        "by_use_case": _series(
            [use_case_label(r["use_case"]) for r in summary.by_use_case],
            [r["totals"] for r in summary.by_use_case],
        ),
        "by_day": _series([d.isoformat() for d in days], [per_day.get(d, Totals()) for d in days]),
    }


@dataclass(frozen=True)
class SourceShare:
    source: str
    label: str
    cost_usd: Decimal
    calls: int
    share: Decimal


def data_quality(summary: UsageSummary) -> list[SourceShare]:
    """How much of the cost is reported, looked up, computed, estimated, and how many calls are unpriced."""
    by_source = {row["cost_source"]: row["totals"] for row in summary.by_cost_source}
    whole = summary.totals.cost_usd
    return [
        SourceShare(
            source=source.value,
            label=str(source.label),
            cost_usd=by_source.get(source.value, Totals()).cost_usd,
            calls=by_source.get(source.value, Totals()).calls,
            share=share(by_source.get(source.value, Totals()).cost_usd, whole),
        )
        for source in CostSource
    ]


@dataclass(frozen=True)
class Tracking:
    last_call_at: dt.datetime | None
    realtime: bool
    pending: int


def tracking_get(*, user: Any, now: dt.datetime) -> Tracking:
    last = usage_last_call_at(user=user)
    return Tracking(
        last_call_at=last,
        realtime=last is not None and now - last <= REALTIME_WINDOW,
        pending=usage_pending_count(user=user),
    )


@dataclass(frozen=True)
class Runway:
    """When the credits run out at the last ``BURN_DAYS`` days' average OpenRouter spend."""

    remaining_usd: Decimal | None
    burn_per_day_usd: Decimal
    days: int | None
    runs_out_on: dt.date | None
    beyond_horizon: bool = False


def runway_get(*, user: Any, remaining_usd: Decimal | None, today: dt.date) -> Runway:
    period = Period(today - dt.timedelta(days=BURN_DAYS - 1), today)
    summary = usage_summary(user=user, period=period, today=today, with_days=False)
    spent = summary.for_provider(Provider.OPENROUTER).totals
    burn = (spent.cost_usd / BURN_DAYS).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    if remaining_usd is None or burn <= 0:
        return Runway(remaining_usd, burn, None, None)
    days = max(0, int(remaining_usd / burn))
    if days > RUNWAY_HORIZON_DAYS:
        return Runway(remaining_usd, burn, None, None, beyond_horizon=True)
    return Runway(remaining_usd, burn, days, today + dt.timedelta(days=days))


def sparkline(snapshots: list[CreditSnapshot], *, width: int = 240, height: int = 48) -> str:
    """SVG polyline points for the remaining balance over time (oldest left), or ``""``."""
    values = [(s.taken_at, s.remaining) for s in snapshots if s.remaining is not None]
    if len(values) < 2:
        return ""
    low = min(v for _, v in values)
    high = max(v for _, v in values)
    first, last = values[0][0], values[-1][0]
    span = (last - first).total_seconds() or 1.0
    spread = (high - low) or Decimal(1)
    points = []
    for at, value in values:
        x = (at - first).total_seconds() / span * width
        y = height - float((value - low) / spread) * (height - 4) - 2
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


def credit_history(*, user: Any, now: dt.datetime) -> list[CreditSnapshot]:
    return credit_snapshots_list(user=user, since=now - dt.timedelta(days=SPARKLINE_DAYS), limit=500)


@dataclass(frozen=True)
class Slice:
    key: str
    label: str
    cost_sek: Decimal
    share: Decimal
    note: str = ""


@dataclass(frozen=True)
class Distribution:
    slices: list[Slice]
    total_sek: Decimal
    fixed_costs_set: bool
    chart: dict[str, Any] = field(default_factory=dict)


_FIXED = ("telephony", "sms", "email", "support", "integration")


def _fixed_costs(user: Any, period: Period) -> dict[str, Decimal]:
    costs = roi_fixed_costs(user=user, period=period)
    return {key: getattr(costs, key) for key in _FIXED}


def cost_distribution(*, user: Any, summary: UsageSummary) -> Distribution:
    """The period's costs by category: all AI (system fallback noted separately) beside the fixed costs.

    Fixed monthly costs come from the ROI settings, prorated to the period's days in each month.
    """
    ai = summary.totals
    system = summary.for_provider(Provider.SYSTEM).totals
    fixed = _fixed_costs(user, summary.period)
    labels = {
        "telephony": _("Telephony"),
        "sms": _("SMS"),
        "email": _("E-mail"),
        "support": _("Support"),
        "integration": _("Integration"),
    }
    amounts = [("ai", _("AI & Models (OpenRouter)"), ai.cost_sek)]
    # The one-time integration cost only appears in a period that contains its start date.
    amounts += [
        (key, labels[key], fixed.get(key, Decimal(0)))
        for key in _FIXED
        if key != "integration" or fixed.get(key)
    ]
    total = sum((amount for _k, _l, amount in amounts), Decimal(0))
    note = (
        _("of which %(amount)s from the system AI provider") % {"amount": sek(system.cost_sek)}
        if system.calls
        else ""
    )
    slices = [
        Slice(key, str(label), amount, share(amount, total), note if key == "ai" else "")
        for key, label, amount in amounts
    ]
    chart = {
        "labels": [s.label for s in slices if s.cost_sek],
        "sek": [_exact(s.cost_sek) for s in slices if s.cost_sek],
        "share": [str(s.share) for s in slices if s.cost_sek],
        "notes": [s.note for s in slices if s.cost_sek],
    }
    return Distribution(slices=slices, total_sek=total, fixed_costs_set=any(fixed.values()), chart=chart)


def top_models(summary: UsageSummary, n: int) -> list[dict[str, Any]]:
    """The ``n`` costliest models with their share of the summary's cost."""
    whole = summary.totals.cost_sek
    return [{**row, "share": share(row["cost_sek"], whole)} for row in summary.by_model[:n]]


@dataclass(frozen=True)
class SyncStatus:
    """The activity sync as the data-quality panel shows it (``available`` is False without the sync)."""

    available: bool
    last_run: Any = None
    gap_usd: Decimal = Decimal(0)
    gap_days: int = 0


def sync_status_get(*, user: Any, period: Period) -> SyncStatus:
    """The last sync run and the spend OpenRouter billed that the gateway did not record in ``period``."""
    gaps = reconciliation_gaps(user=user, period=period)
    return SyncStatus(
        available=True,
        last_run=sync_last_run(user=user),
        gap_usd=sum((g.adjustment_usd for g in gaps), Decimal(0)),
        gap_days=len({g.date for g in gaps}),
    )


def last_sync_get(*, user: Any) -> Any:
    """The tenant's latest activity sync run, or ``None`` (also before the sync exists)."""
    return sync_last_run(user=user)
