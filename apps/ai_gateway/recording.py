"""Writing a call's outcome to the ledger: tokens, cost and its provenance, status."""

from __future__ import annotations

import time
from decimal import Decimal

from django.db import transaction

from apps.integrations.models import Provider
from apps.integrations.openrouter import Usage
from apps.integrations.pricing import cost_from_prices
from apps.usage.models import AIUsageLog, CostSource, UsageStatus
from apps.usage.services import TokenCounts, usage_finish

from . import errors
from .calls import Failed
from .routing import Route, system_cost


def tokens_of(usage: Usage | None) -> TokenCounts | None:
    if usage is None:
        return None
    return TokenCounts(
        prompt=usage.prompt_tokens,
        completion=usage.completion_tokens,
        reasoning=usage.reasoning_tokens,
        cached=usage.cached_tokens,
    )


def _cost(route: Route, usage: Usage | None, model: str) -> tuple[Decimal | None, CostSource]:
    if usage is None:
        return None, CostSource.UNPRICED
    if route.provider == Provider.SYSTEM:
        return system_cost(usage.prompt_tokens, usage.completion_tokens), CostSource.COMPUTED
    if usage.cost is not None:
        return usage.cost, CostSource.PROVIDER_REPORTED
    estimate = cost_from_prices(
        model_id=model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
    )
    return (estimate, CostSource.ESTIMATED) if estimate is not None else (None, CostSource.UNPRICED)


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
) -> AIUsageLog:
    served_by = model or route.model
    cost, source = _cost(route, usage, served_by)
    usage_finish(
        log=log,
        status=status,
        tokens=tokens_of(usage),
        cost_usd=cost,
        cost_source=source,
        generation_id=generation_id,
        model=served_by,
        provider=route.provider,
        is_fallback=is_fallback,
        attempts=attempts,
        latency_ms=elapsed_ms(started),
        error_code=error_code,
        error_message=error_message,
    )
    if source in (CostSource.ESTIMATED, CostSource.UNPRICED) and generation_id:
        _settle_later(log)
    return log


def _failure_cost(failure: Failed, usage: Usage | None) -> tuple[Decimal | None, CostSource]:
    if usage is not None:
        return _cost(failure.route, usage, failure.route.model)
    # A failure the provider cannot have billed (refused before any work) is a known zero, so
    # "calls without a known cost" counts only calls whose cost is truly unknown.
    if not failure.error.may_be_billed:
        return Decimal(0), CostSource.NOT_BILLED
    return None, CostSource.UNPRICED


def record_failure(
    log: AIUsageLog, failure: Failed, started: float, *, generation_id: str | None = None
) -> errors.GatewayError:
    """Record a failed call. A billed failure keeps the generation id OpenRouter gave before it
    failed (a truncated body's header, a stream's first chunk), so ``/generation`` settles it."""
    error = failure.error
    usage = error.usage
    cost, source = _failure_cost(failure, usage)
    generation_id = generation_id or error.generation_id
    usage_finish(
        log=log,
        status=errors.ledger_status_for(error),
        tokens=tokens_of(usage),
        cost_usd=cost,
        cost_source=source,
        generation_id=generation_id,
        model=failure.route.model,
        provider=failure.route.provider,
        is_fallback=failure.is_fallback,
        attempts=failure.attempts,
        latency_ms=elapsed_ms(started),
        error_code=error.code.value,
        error_message=str(error.user_message),
    )
    if source in (CostSource.ESTIMATED, CostSource.UNPRICED) and log.generation_id:
        _settle_later(log)
    return errors.gateway_error_from(error, log_id=log.pk)
