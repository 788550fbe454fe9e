"""Storing one UTC day of OpenRouter's ``/activity`` and reconciling the ledger with it.

Per (user, UTC day, model) OpenRouter's billed ``usage`` is compared with the ledger's
OpenRouter cost, then:

* rows the gateway could not price are settled: a single unpriced row for the one unexplained
  request takes the unexplained spend exactly (``activity``); when OpenRouter billed nothing
  beyond what is known they cost nothing (``not_billed``); several candidates get 0 with the
  spend in the adjustment row (``activity``), so none stays unknown and nothing counts twice;
* one ``activity_sync`` ledger row holds what OpenRouter billed that the gateway did not
  record (calls outside the product, billed failures that could not be matched);
* a negative difference (the gateway recorded more) is kept as a discrepancy, never as
  negative spend.

Afterwards the ledger's total for the day and model equals OpenRouter's exactly; running it
again with the same activity changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.integrations.models import Provider
from apps.integrations.openrouter import ActivityRow

from .models import ActivityRecord, AIUsageLog, CostSource, Reconciliation, UsageSource, UsageStatus
from .services import Adjustment, TokenCounts, usage_adjustments_write, usage_settle_unpriced

ZERO = Decimal(0)
_NATURAL_KEY = ("model_permaslug", "endpoint_id", "provider_name")


def _record_from(user: Any, day: dt.date, row: ActivityRow) -> ActivityRecord:
    return ActivityRecord(
        user=user,
        date=day,
        model=row.model,
        # Raw values in the key: a missing one is stored as "" so the unique constraint holds.
        model_permaslug=row.model_permaslug or row.model,
        endpoint_id=row.endpoint_id or "",
        provider_name=row.provider_name or "",
        usage=row.usage,
        byok_usage_inference=row.byok_usage_inference,
        requests=row.requests,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        reasoning_tokens=row.reasoning_tokens,
        cached_tokens=row.cached_tokens,
    )


def activity_day_store(*, user: Any, day: dt.date, rows: Iterable[ActivityRow]) -> int:
    """Replace the user's stored records of ``day`` with ``rows`` (call inside a transaction).

    Rows sharing a natural key are summed (OpenRouter may split one endpoint's day). Returns the
    number of records stored.
    """
    merged: dict[tuple[str, str, str], ActivityRecord] = {}
    for row in rows:
        record = _record_from(user, day, row)
        key = tuple(getattr(record, name) for name in _NATURAL_KEY)
        if key in merged:
            _add(merged[key], record)
        else:
            merged[key] = record  # type: ignore[index]
    ActivityRecord.objects.filter(user=user, date=day).delete()
    ActivityRecord.objects.bulk_create(merged.values())
    return len(merged)


def _add(into: ActivityRecord, other: ActivityRecord) -> None:
    into.model = other.model
    for name in ("usage", "byok_usage_inference", "requests", "prompt_tokens", "completion_tokens"):
        setattr(into, name, getattr(into, name) + getattr(other, name))
    into.reasoning_tokens += other.reasoning_tokens
    into.cached_tokens += other.cached_tokens


@dataclass
class _Billed:
    usd: Decimal = ZERO
    requests: int = 0
    tokens: list[int] = field(default_factory=lambda: [0, 0, 0, 0])


@dataclass
class _Recorded:
    known_usd: Decimal = ZERO
    billed_calls: int = 0
    calls: int = 0
    tokens: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    candidates: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class DayOutcome:
    adjustments: int
    settled: int


def _billed_by_model(user: Any, day: dt.date) -> dict[str, _Billed]:
    billed: dict[str, _Billed] = defaultdict(_Billed)
    for record in ActivityRecord.objects.filter(user=user, date=day):
        entry = billed[record.model]
        entry.usd += record.usage
        entry.requests += record.requests
        counts = (
            record.prompt_tokens,
            record.completion_tokens,
            record.reasoning_tokens,
            record.cached_tokens,
        )
        entry.tokens = [a + b for a, b in zip(entry.tokens, counts, strict=True)]
    return billed


def _recorded_by_model(user: Any, day: dt.date) -> dict[str, _Recorded]:
    """The gateway's OpenRouter rows of the UTC day, per model (pending calls are not finished)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    rows = (
        AIUsageLog.objects.filter(
            user=user,
            source=UsageSource.GATEWAY,
            provider=Provider.OPENROUTER,
            created_at__gte=start,
            created_at__lt=start + dt.timedelta(days=1),
        )
        .exclude(status=UsageStatus.PENDING)
        .values_list(
            "id",
            "model",
            "cost_usd",
            "cost_source",
            "prompt_tokens",
            "completion_tokens",
            "reasoning_tokens",
            "cached_tokens",
        )
    )
    recorded: dict[str, _Recorded] = defaultdict(_Recorded)
    for pk, model, cost, source, *tokens in rows:
        entry = recorded[model]
        entry.calls += 1
        if cost is None:
            entry.candidates.append(pk)
            continue
        entry.known_usd += cost
        entry.tokens = [a + b for a, b in zip(entry.tokens, tokens, strict=True)]
        # A known zero for a failure, or a row whose spend sits in the adjustment, is no request
        # OpenRouter counted for it.
        if source != CostSource.NOT_BILLED and not (source == CostSource.ACTIVITY and cost == 0):
            entry.billed_calls += 1
    return recorded


def _settle(billed: _Billed, recorded: _Recorded) -> tuple[Decimal, int]:
    """Settle the unpriced rows of one day and model; returns (spend given to them, rows changed)."""
    candidates = recorded.candidates
    if not candidates:
        return ZERO, 0
    unexplained = billed.usd - recorded.known_usd
    extra_requests = billed.requests - recorded.billed_calls
    if unexplained <= 0 or extra_requests <= 0:
        return ZERO, usage_settle_unpriced(
            log_ids=candidates, cost_usd=ZERO, cost_source=CostSource.NOT_BILLED
        )
    if len(candidates) == 1 and extra_requests == 1:
        changed = usage_settle_unpriced(
            log_ids=candidates, cost_usd=unexplained, cost_source=CostSource.ACTIVITY
        )
        return unexplained, changed
    # Ambiguous: which of them OpenRouter billed is unknowable from daily totals.
    return ZERO, usage_settle_unpriced(log_ids=candidates, cost_usd=ZERO, cost_source=CostSource.ACTIVITY)


def reconcile_day(*, user: Any, day: dt.date) -> DayOutcome:
    """Reconcile the ledger with the stored activity of ``day`` (call inside the day's transaction)."""
    billed = _billed_by_model(user, day)
    recorded = _recorded_by_model(user, day)
    adjusted = set(
        AIUsageLog.objects.filter(user=user, source=UsageSource.ACTIVITY_SYNC, activity_date=day).values_list(
            "model", flat=True
        )
    )
    existing = {r.model: r for r in Reconciliation.objects.filter(user=user, date=day)}
    adjustments: dict[str, Adjustment] = {}
    settled = 0
    results: list[Reconciliation] = []
    for model in sorted(set(billed) | set(recorded) | adjusted | set(existing)):
        bill, record = billed.get(model, _Billed()), recorded.get(model, _Recorded())
        assigned, changed = _settle(bill, record)
        settled += changed
        gateway_usd = record.known_usd + assigned
        difference = bill.usd - gateway_usd
        adjustment = max(difference, ZERO)
        tokens = (
            [max(b - r, 0) for b, r in zip(bill.tokens, record.tokens, strict=True)]
            if adjustment
            else [0] * 4
        )
        adjustments[model] = Adjustment(cost_usd=adjustment, tokens=TokenCounts(*tokens))
        result = existing.get(model) or Reconciliation(user=user, date=day, model=model)
        result.billed_usd, result.billed_requests = bill.usd, bill.requests
        result.gateway_usd, result.gateway_calls = gateway_usd, record.calls
        result.adjustment_usd, result.discrepancy_usd = adjustment, max(-difference, ZERO)
        results.append(result)
    written = usage_adjustments_write(user=user, day=day, adjustments=adjustments)
    _save_results(results)
    return DayOutcome(adjustments=written, settled=settled)


def _save_results(results: list[Reconciliation]) -> None:
    fields = [
        "billed_usd",
        "billed_requests",
        "gateway_usd",
        "gateway_calls",
        "adjustment_usd",
        "discrepancy_usd",
    ]
    now = timezone.now()
    for result in results:
        result.updated_at = now
    Reconciliation.objects.bulk_create([r for r in results if r.pk is None])
    Reconciliation.objects.bulk_update([r for r in results if r.pk is not None], [*fields, "updated_at"])
