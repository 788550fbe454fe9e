"""Reads of synced OpenRouter activity, sync runs and reconciliation results, scoped to one tenant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from apps.core.money import usd_sek_rate, usd_to_sek
from apps.core.periods import Period

from .models import ActivityRecord, Reconciliation, SyncRun, SyncState


def activity_records(
    *, user: Any, start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[ActivityRecord]:
    """Stored ``/activity`` rows, newest day first, then by spend (largest first), then model."""
    rows = ActivityRecord.objects.for_user(user)
    if start:
        rows = rows.filter(date__gte=start)
    if end:
        rows = rows.filter(date__lte=end)
    return rows.order_by("-date", "-usage", "model", "endpoint_id")


def sync_last_run(*, user: Any, succeeded: bool = False) -> SyncRun | None:
    """The user's latest sync run (the latest successful one with ``succeeded``)."""
    runs = SyncRun.objects.for_user(user)
    if succeeded:
        runs = runs.filter(state=SyncState.SUCCEEDED)
    return runs.order_by("-created_at", "-id").first()


def sync_run_get(*, user: Any, run_id: int) -> SyncRun | None:
    return SyncRun.objects.for_user(user).filter(pk=run_id).first()


def reconciliation_gaps(*, user: Any, period: Period) -> list[Reconciliation]:
    """(UTC day, model) pairs of ``period`` where the ledger needed OpenRouter's figures:
    an adjustment row (spend the gateway did not record) or a discrepancy (the gateway recorded
    more than OpenRouter billed). Newest day first."""
    rows = Reconciliation.objects.for_user(user).filter(date__gte=period.start, date__lte=period.end)
    return list(rows.exclude(adjustment_usd=0, discrepancy_usd=0).order_by("-date", "model"))


@dataclass(frozen=True)
class HistoryRow:
    """One (UTC day, model) of the activity history: OpenRouter's figures beside the ledger's."""

    date: dt.date
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    billed_usd: Decimal
    billed_sek: Decimal
    ledger_usd: Decimal | None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def matches(self) -> bool:
        return self.ledger_usd == self.billed_usd


def activity_history(*, user: Any, period: Period) -> list[HistoryRow]:
    """Stored activity per (UTC day, model) in ``period``, newest day first, largest spend first.

    ``ledger_usd`` is the ledger's OpenRouter total for the day and model after the last sync
    (gateway rows plus the adjustment row), None when that day was never reconciled. Two queries.
    """
    grouped = (
        ActivityRecord.objects.for_user(user)
        .filter(date__gte=period.start, date__lte=period.end)
        .values("date", "model")
        .annotate(
            usd=Sum("usage"),
            requests_sum=Sum("requests"),
            prompt=Sum("prompt_tokens"),
            completion=Sum("completion_tokens"),
        )
        .order_by("-date", "-usd", "model")
    )
    ledger = {
        (r.date, r.model): r.gateway_usd + r.adjustment_usd
        for r in Reconciliation.objects.for_user(user).filter(date__gte=period.start, date__lte=period.end)
    }
    return [
        HistoryRow(
            date=row["date"],
            model=row["model"],
            requests=row["requests_sum"] or 0,
            prompt_tokens=row["prompt"] or 0,
            completion_tokens=row["completion"] or 0,
            billed_usd=row["usd"],
            billed_sek=usd_to_sek(row["usd"], usd_sek_rate(row["date"])),
            ledger_usd=ledger.get((row["date"], row["model"])),
        )
        for row in grouped
    ]


@dataclass(frozen=True)
class HistoryDay:
    """One UTC day of the activity history, its (day, model) rows folded: OpenRouter's figures
    summed beside the ledger's. ``ledger_usd`` sums the reconciled models only (None when none
    was reconciled); ``unreconciled`` counts the models without a reconciliation."""

    date: dt.date
    models: int
    requests: int
    tokens: int
    billed_usd: Decimal
    billed_sek: Decimal
    ledger_usd: Decimal | None
    unreconciled: int
    differs: bool


def activity_history_days(rows: list[HistoryRow]) -> list[HistoryDay]:
    """``activity_history`` rows folded per UTC day, newest first (no query; the rows are in hand).

    A day "differs" when a reconciled model's ledger figure is not OpenRouter's; a model that was
    never reconciled is counted in ``unreconciled`` and never compared (its ledger figure is unknown).
    """
    per_day: dict[dt.date, list[HistoryRow]] = {}
    for row in rows:
        per_day.setdefault(row.date, []).append(row)
    days = []
    for date in sorted(per_day, reverse=True):
        group = per_day[date]
        reconciled = [r.ledger_usd for r in group if r.ledger_usd is not None]
        days.append(
            HistoryDay(
                date=date,
                models=len(group),
                requests=sum(r.requests for r in group),
                tokens=sum(r.tokens for r in group),
                billed_usd=sum((r.billed_usd for r in group), Decimal(0)),
                billed_sek=sum((r.billed_sek for r in group), Decimal(0)),
                ledger_usd=sum(reconciled, Decimal(0)) if reconciled else None,
                unreconciled=len(group) - len(reconciled),
                differs=any(r.ledger_usd is not None and not r.matches for r in group),
            )
        )
    return days
