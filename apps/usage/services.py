"""Writes to the usage ledger. Only these functions create or change ``AIUsageLog`` rows.

The gateway calls :func:`usage_start` before it calls a provider (committed, so a crash still
leaves a trace) and :func:`usage_finish` once the call has ended, whatever happened. Each logical
call is one row, however many retries or fallbacks it took.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.after_response import after_response
from apps.core.money import usd_sek_rate, usd_to_sek
from apps.integrations.models import Provider, UseCase

from .budgets import reservation_settle
from .cost import UNPRICED, Cost, cost_improves, cost_sek
from .models import AIUsageLog, CostSource, UsageSource, UsageStatus
from .rollups import LedgerFacts, ledger_facts, rollup_apply, rollup_apply_many
from .statements import FINISH_FIELDS, ledger_row_insert, ledger_rows_finish

logger = logging.getLogger(__name__)

STALE_PENDING_AFTER = dt.timedelta(minutes=15)
EXPIRE_BATCH = 500


class LedgerUnavailableError(Exception):
    """The ledger row could not be written, so the provider must not be called."""


@dataclass(frozen=True)
class TokenCounts:
    prompt: int = 0
    completion: int = 0
    reasoning: int = 0
    cached: int = 0

    @property
    def total(self) -> int:
        return self.prompt + self.completion


_TOKEN_FIELDS = ["prompt_tokens", "completion_tokens", "reasoning_tokens", "cached_tokens", "total_tokens"]


def _set_tokens(log: AIUsageLog, tokens: TokenCounts) -> None:
    log.prompt_tokens, log.completion_tokens = tokens.prompt, tokens.completion
    log.reasoning_tokens, log.cached_tokens, log.total_tokens = tokens.reasoning, tokens.cached, tokens.total


def _single_statement() -> AbstractContextManager[object]:
    """A savepoint inside an outer transaction; nothing extra in autocommit.

    Each ledger write is one statement, which autocommit already makes atomic and durable on
    its own, so the hot path pays no BEGIN/COMMIT round trips. Inside a caller's transaction a
    savepoint keeps a failed write from poisoning it.
    """
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def usage_start(
    *,
    user: Any,
    use_case: str,
    model: str,
    provider: str,
    streamed: bool,
    request_id: uuid.UUID | None = None,
    requested_model: str = "",
    budget_action: str = "",
) -> AIUsageLog:
    """Create and commit the ``pending`` row for a call about to be made.

    The same row ``AIUsageLog.objects.create`` would write (the model's defaults are applied when
    the instance is built), inserted with one constant statement instead of the ORM's save path.
    Raises ``LedgerUnavailableError`` when the database refuses the write.
    """
    log = AIUsageLog(
        user=user,
        request_id=request_id or uuid.uuid4(),
        source=UsageSource.GATEWAY,
        provider=provider,
        model=model,
        use_case=use_case,
        streamed=streamed,
        status=UsageStatus.PENDING,
        requested_model=requested_model,
        budget_action=budget_action,
    )
    try:
        with _single_statement():
            ledger_row_insert(log)
    except DatabaseError as exc:
        logger.error("usage ledger unavailable: %s", type(exc).__name__)
        raise LedgerUnavailableError from exc
    return log


def usage_finish(
    *,
    log: AIUsageLog,
    status: UsageStatus,
    tokens: TokenCounts | None = None,
    cost: Cost = UNPRICED,
    generation_id: str | None = None,
    model: str | None = None,
    provider: str | None = None,
    is_fallback: bool = False,
    attempts: int = 1,
    latency_ms: int | None = None,
    error_code: str = "",
    error_message: str = "",
    write_after_response: bool = False,
    after_write: Callable[[], None] | None = None,
) -> AIUsageLog:
    """Finalise ``log`` with the call's outcome; ``cost`` is decided by :mod:`apps.usage.cost`.

    ``log`` holds the outcome on return. With ``write_after_response`` (for a caller that reads
    nothing back from the row), the write is not the caller's to wait for: inside a request it
    runs once the HTTP response was sent, handed to the process's ledger writer
    (:mod:`apps.usage.writer`) when ``LEDGER_WRITE_BEHIND`` is on, else written there and then.
    The row was committed ``pending`` before the call, so a crash in between leaves a pending row
    for the stale-pending sweep and reconciliation, never no row. ``after_write`` (e.g. queueing
    a look-up that needs the finished row) runs once the row is written, wherever that happens.
    """
    log.status = status
    _set_tokens(log, tokens or TokenCounts())
    log.cost_usd, log.cost_source = cost.usd, cost.source
    log.cost_sek, log.fx_rate = cost_sek(cost.usd, created_at=log.created_at, rate=log.fx_rate)
    log.generation_id = generation_id or None
    log.model = model or log.model
    log.provider = provider or log.provider
    log.is_fallback, log.attempts, log.latency_ms = is_fallback, attempts, latency_ms
    log.error_code, log.error_message = error_code[:40], error_message[:300]
    log.completed_at = timezone.now()
    # The row is final: its budget reservation (if any) becomes its cost, whatever the outcome.
    reservation_settle(getattr(log, "budget_reservation", None), cost_sek=log.cost_sek)
    if not (write_after_response and after_response(lambda: _finish_after_response(log, after_write))):
        usage_finish_write(log=log, after_write=after_write)
    return log


def _finish_after_response(log: AIUsageLog, after_write: Callable[[], None] | None) -> None:
    from .writer import ledger_writer_submit  # the writer builds on this module

    if not (settings.LEDGER_WRITE_BEHIND and ledger_writer_submit(log=log, after_write=after_write)):
        usage_finish_write(log=log, after_write=after_write)


def usage_finish_write(*, log: AIUsageLog, after_write: Callable[[], None] | None = None) -> None:
    """Write a row ``usage_finish`` has finalised (and its rollups), then call ``after_write``."""
    _finish_save(log)
    if after_write is not None:
        after_write()


def _finish_save(log: AIUsageLog) -> None:
    try:
        _finish_write(log)
    except IntegrityError:
        # The same generation id on two rows would double count it: keep the first, flag this one.
        logger.warning("duplicate generation id on usage row %s", log.pk)
        log.generation_id = None
        log.error_code = log.error_code or "duplicate_generation"
        _finish_write(log)


def _finish_write(log: AIUsageLog) -> None:
    """Write the finished row and its rollup difference in one transaction.

    A ``pending`` row is not in the rollups, so the common case adds the finished row alone; the
    update is conditional on the row still being ``pending``. When something else finished it
    first (the stale-pending expiry), the stored row is locked and read so the difference is
    taken from what the rollups actually hold.
    """
    with transaction.atomic():
        if ledger_rows_finish([log]):
            rollup_apply(before=None, after=ledger_facts(log))
            return
        stored = AIUsageLog.objects.select_for_update().filter(pk=log.pk).first()
        if stored is None:
            return
        before = ledger_facts(stored)
        for name in FINISH_FIELDS:
            setattr(stored, name, getattr(log, name))
        stored.save(update_fields=FINISH_FIELDS)
        rollup_apply(before=before, after=ledger_facts(stored))


def usage_set_cost(*, log_id: int, cost: Cost, tokens: TokenCounts | None = None) -> bool:
    """Upgrade a row's cost when ``cost`` is a better figure than the one it has.

    ``tokens``, when given, are the counts that came with the better figure (``/generation``
    reports both) and replace the row's together with its cost. Idempotent: the same figure twice
    changes nothing the second time. Returns whether it changed.
    """
    if cost.usd is None:
        return False
    with transaction.atomic():
        log = AIUsageLog.objects.select_for_update().filter(pk=log_id).first()
        if log is None or not cost_improves(
            current_usd=log.cost_usd, current_source=log.cost_source, new=cost
        ):
            return False
        before = ledger_facts(log)
        log.cost_usd, log.cost_source = cost.usd, cost.source
        log.cost_sek, log.fx_rate = cost_sek(cost.usd, created_at=log.created_at, rate=log.fx_rate)
        fields = ["cost_usd", "cost_source", "cost_sek", "fx_rate"]
        if tokens is not None:
            _set_tokens(log, tokens)
            fields += _TOKEN_FIELDS
        log.save(update_fields=fields)
        rollup_apply(before=before, after=ledger_facts(log))
    return True


def usage_expire_stale_pending(*, older_than: dt.timedelta = STALE_PENDING_AFTER) -> int:
    """Turn rows stuck in ``pending`` (a crashed worker, a lost connection) into ``timeout``.

    They are left for reconciliation with OpenRouter's activity. Idempotent and safe to overlap.
    """
    cutoff = timezone.now() - older_than
    expired = 0
    while True:
        with transaction.atomic():
            # cross-tenant: a maintenance job over every tenant's stuck rows. Rows a finishing
            # call holds are skipped (it is about to finish them); the next run sees the rest.
            rows = list(
                AIUsageLog.objects.select_for_update(skip_locked=True).filter(
                    status=UsageStatus.PENDING, created_at__lt=cutoff
                )[:EXPIRE_BATCH]
            )
            now = timezone.now()
            for row in rows:
                row.status, row.error_code, row.completed_at = UsageStatus.TIMEOUT, "stale_pending", now
                row.error_message = "The call never reported back; it will be settled by reconciliation."
            AIUsageLog.objects.bulk_update(rows, ["status", "error_code", "error_message", "completed_at"])
            rollup_apply_many((None, ledger_facts(row)) for row in rows)
        expired += len(rows)
        if len(rows) < EXPIRE_BATCH:
            return expired


def usage_mark_error(*, log_id: int, error_code: str, error_message: str) -> None:
    """Turn a finished call into an ``error`` (e.g. the model's output failed validation).

    Tokens and cost stay: the provider billed the call even though its answer was unusable.
    """
    with transaction.atomic():
        log = AIUsageLog.objects.select_for_update().filter(pk=log_id).first()
        if log is None:
            return
        before = ledger_facts(log)
        log.status, log.error_code, log.error_message = (
            UsageStatus.ERROR,
            error_code[:40],
            error_message[:300],
        )
        log.save(update_fields=["status", "error_code", "error_message"])
        rollup_apply(before=before, after=ledger_facts(log))


# ------------------------------------------------------------------ activity reconciliation


def usage_settle_unpriced(
    *,
    log_ids: list[int],
    cost_usd: Decimal,
    cost_source: CostSource,
    tokens: TokenCounts | None = None,
) -> int:
    """Give still-unpriced rows a known cost (``not_billed`` zero, or a figure from the activity).

    ``tokens``, when given (one row taking a day's unexplained usage), replace the row's counts
    together with its cost. Rows that gained a cost meanwhile are left alone, so this is
    idempotent. Returns rows changed.
    """
    changes: list[tuple[LedgerFacts | None, LedgerFacts | None]] = []
    fields = ["cost_usd", "cost_source", "cost_sek", "fx_rate"] + (_TOKEN_FIELDS if tokens else [])
    with transaction.atomic():
        for log in AIUsageLog.objects.filter(pk__in=log_ids, cost_usd__isnull=True).select_for_update():
            before = ledger_facts(log)
            log.cost_usd, log.cost_source = cost_usd, cost_source
            log.cost_sek, log.fx_rate = cost_sek(cost_usd, created_at=log.created_at, rate=log.fx_rate)
            if tokens is not None:
                _set_tokens(log, tokens)
            log.save(update_fields=fields)
            changes.append((before, ledger_facts(log)))
        rollup_apply_many(changes)
    return len(changes)


@dataclass(frozen=True)
class Adjustment:
    """What OpenRouter billed for one (UTC day, model) that the gateway did not record."""

    cost_usd: Decimal
    tokens: TokenCounts


def usage_adjustments_write(
    *,
    user: Any,
    day: dt.date,
    adjustments: dict[str, Adjustment],
    existing_models: Collection[str] | None = None,
) -> int:
    """Write or update the one ``activity_sync`` row per (user, UTC day, model) in ``adjustments``.

    Never negative; a zero figure updates an existing row to zero (its history stays) and creates
    none. Rows of models absent from ``adjustments`` are left as they are. Call inside the day's
    transaction. Idempotent: the same figures again change nothing. Returns the rows written.
    ``existing_models``, when the caller has just read them in this transaction, names the models
    that already have a row, so new rows need no look-up first.
    """
    wanted = (
        list(adjustments) if existing_models is None else [m for m in adjustments if m in existing_models]
    )
    existing = (
        {
            row.model: row
            for row in AIUsageLog.objects.select_for_update()
            .filter(user=user, source=UsageSource.ACTIVITY_SYNC, activity_date=day, model__in=wanted)
            .order_by("-id")
        }
        if wanted
        else {}
    )
    rate = usd_sek_rate(day)
    created: list[AIUsageLog] = []
    changes: list[tuple[LedgerFacts | None, LedgerFacts | None]] = []
    written = 0
    for model, adjustment in adjustments.items():
        cost = max(adjustment.cost_usd, Decimal(0))
        row = existing.get(model)
        if row is None and cost == 0:
            continue
        if row is None:
            row = AIUsageLog(
                user=user,
                source=UsageSource.ACTIVITY_SYNC,
                provider=Provider.OPENROUTER,
                model=model,
                use_case=UseCase.GENERIC,
                status=UsageStatus.SUCCESS,
                activity_date=day,
                # The row belongs to its UTC day wherever days are summed by created_at.
                created_at=dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC),
            )
        elif row.cost_usd == cost and _tokens_of(row) == adjustment.tokens:
            continue
        before = ledger_facts(row) if row.pk is not None else None
        tokens = adjustment.tokens
        row.prompt_tokens, row.completion_tokens = tokens.prompt, tokens.completion
        row.reasoning_tokens, row.cached_tokens, row.total_tokens = (
            tokens.reasoning,
            tokens.cached,
            tokens.total,
        )
        row.cost_usd, row.cost_source = cost, CostSource.PROVIDER_REPORTED
        row.cost_sek, row.fx_rate = usd_to_sek(cost, rate), rate
        row.completed_at = timezone.now()
        written += 1
        if row.pk is None:
            created.append(row)
        else:
            row.save()
        changes.append((before, ledger_facts(row)))
    AIUsageLog.objects.bulk_create(created)
    # The rollups move in the same transaction as the ledger rows they sum.
    rollup_apply_many(changes)
    return written


def _tokens_of(row: AIUsageLog) -> TokenCounts:
    return TokenCounts(
        prompt=row.prompt_tokens,
        completion=row.completion_tokens,
        reasoning=row.reasoning_tokens,
        cached=row.cached_tokens,
    )
