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

from django.db.models import Q
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


_RECORD_FIELDS = (
    "model",
    "model_permaslug",
    "endpoint_id",
    "provider_name",
    "usage",
    "byok_usage_inference",
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "cached_tokens",
)


def _key(record: ActivityRecord) -> tuple[str, ...]:
    return tuple(getattr(record, name) for name in _NATURAL_KEY)


def _values(record: ActivityRecord) -> tuple[Any, ...]:
    return tuple(getattr(record, name) for name in _RECORD_FIELDS)


def activity_day_store(
    *, user: Any, day: dt.date, rows: Iterable[ActivityRow], stored: list[ActivityRecord] | None = None
) -> list[ActivityRecord]:
    """Make the user's stored records of ``day`` exactly ``rows`` (call inside a transaction).

    Rows sharing a natural key are summed (OpenRouter may split one endpoint's day). Only rows
    that changed are written; a day that did not change is not written at all. ``stored`` is the day's records when the caller already
    read them (the sync holds the user's lock, so nothing else writes them). Returns the day's
    records.
    """
    merged: dict[tuple[str, ...], ActivityRecord] = {}
    for row in rows:
        record = _record_from(user, day, row)
        key = _key(record)
        if key in merged:
            _add(merged[key], record)
        else:
            merged[key] = record
    if stored is None:
        stored = list(ActivityRecord.objects.filter(user=user, date=day))
    before = {_key(record): record for record in stored}
    # Only what changed is written: rows OpenRouter no longer reports are deleted, new and
    # revised rows are upserted on the natural key in one statement (a revised day usually
    # changes a few rows of many).
    gone = [record.pk for key, record in before.items() if key not in merged]
    written = [
        record
        for key, record in merged.items()
        if key not in before or _values(before[key]) != _values(record)
    ]
    if gone:
        ActivityRecord.objects.filter(pk__in=gone).delete()
    if written:
        ActivityRecord.objects.bulk_create(
            written,
            update_conflicts=True,
            unique_fields=["user", "date", *_NATURAL_KEY],
            update_fields=[name for name in _RECORD_FIELDS if name not in _NATURAL_KEY] + ["updated_at"],
        )
    return stored if not gone and not written else list(merged.values())


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


def _billed_by_model(records: Iterable[ActivityRecord]) -> dict[str, _Billed]:
    billed: dict[str, _Billed] = defaultdict(_Billed)
    for record in records:
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


def _ledger_of_day(user: Any, day: dt.date) -> tuple[dict[str, _Recorded], dict[str, Adjustment]]:
    """The gateway's finished OpenRouter rows of the UTC day per model, and the day's adjustment
    rows per model, in one query (pending calls have not finished yet)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    gateway_rows = Q(
        source=UsageSource.GATEWAY,
        provider=Provider.OPENROUTER,
        created_at__gte=start,
        created_at__lt=start + dt.timedelta(days=1),
    ) & ~Q(status=UsageStatus.PENDING)
    rows = AIUsageLog.objects.filter(
        gateway_rows | Q(source=UsageSource.ACTIVITY_SYNC, activity_date=day), user=user
    ).values_list(
        "id",
        "source",
        "model",
        "cost_usd",
        "cost_source",
        "prompt_tokens",
        "completion_tokens",
        "reasoning_tokens",
        "cached_tokens",
    )
    recorded: dict[str, _Recorded] = defaultdict(_Recorded)
    adjusted: dict[str, Adjustment] = {}
    for pk, source, model, cost, cost_source, *tokens in rows:
        if source == UsageSource.ACTIVITY_SYNC:
            adjusted[model] = Adjustment(cost_usd=cost or ZERO, tokens=TokenCounts(*tokens))
            continue
        entry = recorded[model]
        entry.calls += 1
        if cost is None:
            entry.candidates.append(pk)
            continue
        entry.known_usd += cost
        entry.tokens = [a + b for a, b in zip(entry.tokens, tokens, strict=True)]
        # A known zero for a failure, or a row whose spend sits in the adjustment, is no request
        # OpenRouter counted for it.
        if cost_source != CostSource.NOT_BILLED and not (cost_source == CostSource.ACTIVITY and cost == 0):
            entry.billed_calls += 1
    return recorded, adjusted


def _settle(billed: _Billed, recorded: _Recorded) -> tuple[Decimal, int]:
    """Settle the unpriced rows of one day and model; returns (spend given to them, rows changed).

    The one row that explains the day's one unexplained request takes its tokens as well as its
    spend (the tokens OpenRouter billed beyond the priced rows'), and they count as recorded, so
    the day's ledger tokens equal OpenRouter's too, as its cost does.
    """
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
        counts = [max(b - r, 0) for b, r in zip(billed.tokens, recorded.tokens, strict=True)]
        changed = usage_settle_unpriced(
            log_ids=candidates,
            cost_usd=unexplained,
            cost_source=CostSource.ACTIVITY,
            tokens=TokenCounts(*counts),
        )
        if changed:
            recorded.tokens = [r + c for r, c in zip(recorded.tokens, counts, strict=True)]
        return unexplained, changed
    # Ambiguous: which of them OpenRouter billed is unknowable from daily totals.
    return ZERO, usage_settle_unpriced(log_ids=candidates, cost_usd=ZERO, cost_source=CostSource.ACTIVITY)


def reconcile_day(
    *,
    user: Any,
    day: dt.date,
    records: Iterable[ActivityRecord],
    previous: list[Reconciliation] | None = None,
) -> DayOutcome:
    """Reconcile the ledger with ``records``, the stored activity of ``day`` (call inside the
    day's transaction). Writes only what changed, so a repeated sync writes nothing.

    ``previous`` is the day's reconciliations when the caller already read them (under the
    user's sync lock); the ledger itself is always read here, inside the transaction.
    """
    billed = _billed_by_model(records)
    recorded, adjusted = _ledger_of_day(user, day)
    if previous is None:
        previous = list(Reconciliation.objects.filter(user=user, date=day))
    existing = {r.model: r for r in previous}
    changes: dict[str, Adjustment] = {}
    settled = 0
    results: list[Reconciliation] = []
    for model in sorted(set(billed) | set(recorded) | set(adjusted) | set(existing)):
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
        wanted = Adjustment(cost_usd=adjustment, tokens=TokenCounts(*tokens))
        current = adjusted.get(model)
        if (current is None and adjustment) or (current is not None and current != wanted):
            changes[model] = wanted
        results.append(
            _result(existing.get(model), user, day, model, bill, record, gateway_usd, adjustment, difference)
        )
    written = (
        usage_adjustments_write(user=user, day=day, adjustments=changes, existing_models=set(adjusted))
        if changes
        else 0
    )
    _save_results(results)
    return DayOutcome(adjustments=written, settled=settled)


_RESULT_FIELDS = (
    "billed_usd",
    "billed_requests",
    "gateway_usd",
    "gateway_calls",
    "adjustment_usd",
    "discrepancy_usd",
)


def _result(
    result: Reconciliation | None,
    user: Any,
    day: dt.date,
    model: str,
    bill: _Billed,
    record: _Recorded,
    gateway_usd: Decimal,
    adjustment: Decimal,
    difference: Decimal,
) -> Reconciliation:
    values = (bill.usd, bill.requests, gateway_usd, record.calls, adjustment, max(-difference, ZERO))
    if result is None:
        return Reconciliation(
            user=user, date=day, model=model, **dict(zip(_RESULT_FIELDS, values, strict=True))
        )
    if tuple(getattr(result, name) for name in _RESULT_FIELDS) != values:
        for name, value in zip(_RESULT_FIELDS, values, strict=True):
            setattr(result, name, value)
        result.updated_at = timezone.now()
        result._changed = True  # type: ignore[attr-defined]
    return result


def _save_results(results: list[Reconciliation]) -> None:
    new = [r for r in results if r.pk is None]
    changed = [r for r in results if getattr(r, "_changed", False)]
    if new:
        Reconciliation.objects.bulk_create(new)
    if changed:
        Reconciliation.objects.bulk_update(changed, [*_RESULT_FIELDS, "updated_at"])
