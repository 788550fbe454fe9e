"""Writing a call's outcome to the ledger: tokens, cost and its provenance, status."""

from __future__ import annotations

import time

from django.db import transaction

from apps.integrations.openrouter import Usage
from apps.usage.cost import cost_at_call, cost_is_settled, cost_of_failure
from apps.usage.models import AIUsageLog, UsageStatus
from apps.usage.services import TokenCounts, usage_finish

from . import errors
from .calls import Failed
from .routing import Route


def tokens_of(usage: Usage | None) -> TokenCounts | None:
    if usage is None:
        return None
    return TokenCounts(
        prompt=usage.prompt_tokens,
        completion=usage.completion_tokens,
        reasoning=usage.reasoning_tokens,
        cached=usage.cached_tokens,
    )


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _settle_later(log: AIUsageLog) -> None:
    """Queue the ``/generation`` look-up once the row is committed (it needs the row)."""
    from apps.usage.tasks import settle_cost

    log_id = log.pk
    transaction.on_commit(lambda: settle_cost.delay(log_id=log_id))


def record_success(
    log: AIUsageLog,
    *,
    route: Route,
    usage: Usage | None,
    model: str | None,
    generation_id: str | None,
    attempts: int,
    is_fallback: bool,
    started: float,
    status: UsageStatus = UsageStatus.SUCCESS,
    error_code: str = "",
    error_message: str = "",
    write_after_response: bool = False,
) -> AIUsageLog:
    """Finalise ``log`` as served; see ``usage_finish`` for ``write_after_response``."""
    served_by = model or route.model
    cost = cost_at_call(provider=route.provider, model=served_by, usage=usage)
    needs_settling = bool(generation_id) and not cost_is_settled(usd=cost.usd, source=cost.source)
    usage_finish(
        log=log,
        status=status,
        tokens=tokens_of(usage),
        cost=cost,
        generation_id=generation_id,
        model=served_by,
        provider=route.provider,
        is_fallback=is_fallback,
        attempts=attempts,
        latency_ms=elapsed_ms(started),
        error_code=error_code,
        error_message=error_message,
        write_after_response=write_after_response,
        # Run once the row is written, wherever it is: the look-up must find the finished row.
        after_write=(lambda: _settle_later(log)) if needs_settling else None,
    )
    return log


def record_failure(
    log: AIUsageLog, failure: Failed, started: float, *, generation_id: str | None = None
) -> errors.GatewayError:
    """Record a failed call. A billed failure keeps the generation id OpenRouter gave before it
    failed (a truncated body's header, a stream's first chunk), so ``/generation`` settles it."""
    error = failure.error
    usage = error.usage
    cost = cost_of_failure(
        provider=failure.route.provider,
        model=failure.route.model,
        usage=usage,
        may_be_billed=error.may_be_billed,
    )
    usage_finish(
        log=log,
        status=errors.ledger_status_for(error),
        tokens=tokens_of(usage),
        cost=cost,
        generation_id=generation_id or error.generation_id,
        model=failure.route.model,
        provider=failure.route.provider,
        is_fallback=failure.is_fallback,
        attempts=failure.attempts,
        latency_ms=elapsed_ms(started),
        error_code=error.code.value,
        error_message=errors.user_message_for(error, platform_key=failure.route.platform_key),
    )
    if log.generation_id and not cost_is_settled(usd=cost.usd, source=cost.source):
        _settle_later(log)
    return errors.gateway_error_from(error, log_id=log.pk, platform_key=failure.route.platform_key)
