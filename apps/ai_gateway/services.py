"""The AI gateway: every AI call in the product goes through :func:`complete`.

One logical call is one ledger row: the row is committed ``pending`` before any provider is
called (no row, no call), then finalised exactly once, whatever retries (inside the client) and
fallbacks (here) it took. 400, 401, 402 and 403 are never retried, nor is a read timeout (the call
may have been billed: the row is ``timeout`` and settled later); a 200 that carries ``error`` is a
failure. Falling back to the system provider happens only when the tenant allowed it, only for
a rate limit, a provider error or outage, or a connection failure before the request was sent
(never to hide a bad key or dodge a budget), and fills the same row with ``is_fallback`` and the
system provider's cost.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.integrations.openrouter import ChatResult
from apps.usage.alerts import budget_alerts_queue
from apps.usage.budgets import Decision, budget_check, month_of, reservation_settle
from apps.usage.cost import Cost
from apps.usage.models import AIUsageLog, BudgetAction, CostSource, UsageStatus
from apps.usage.services import LedgerUnavailableError, TokenCounts, usage_finish, usage_start

from . import errors
from .calls import Failed, chat_with_fallback, stream_with_fallback
from .recording import record_failure, record_success, tokens_of
from .routing import Route, route_resolve
from .streaming import GatewayStream
from .validation import RequestRejected, validate_messages, validate_params


@dataclass(frozen=True)
class Completion:
    content: str
    model: str
    provider: str
    tokens: TokenCounts
    cost_usd: Decimal | None
    cost_source: str
    generation_id: str | None
    finish_reason: str | None
    is_fallback: bool
    attempts: int
    log_id: int
    request_id: uuid.UUID
    result: ChatResult


def complete(
    *,
    user: Any,
    use_case: str,
    messages: list[dict[str, Any]],
    model: str | None = None,
    stream: bool = False,
    options: Mapping[str, Any] | None = None,
    finish_after_response: bool = False,
    **params: Any,
) -> Completion | GatewayStream:
    """Run one AI call for ``user`` and record it. Raises ``GatewayError`` with a clear cause.

    With ``stream=True`` returns a :class:`GatewayStream` to iterate (and close, to cancel).
    ``options`` carries a caller's request fields (e.g. a partner's body) in their own namespace,
    so a field named ``user`` or ``use_case`` is validated as a request field and can never bind
    to this function's own arguments. The ledger row's id is always generated here.
    ``finish_after_response``: a successful call's final ledger write waits until the HTTP
    response was sent (for callers that read nothing back from the row in this request); for a
    stream, until its last event was sent.
    """
    try:
        clean_messages = validate_messages(messages)
        clean_params = validate_params({**params, **(options or {})})
    except RequestRejected as exc:
        raise errors.GatewayError(str(exc), code="invalid_request", status_code=400) from None
    try:
        route = route_resolve(user=user, use_case=use_case, model=model)
    except RequestRejected as exc:
        raise errors.GatewayError(str(exc), code="invalid_request", status_code=400) from None
    decision = budget_check(
        user_id=user.pk,
        use_case=use_case,
        provider=route.provider,
        model=route.model,
        messages=clean_messages,
        params=clean_params,
    )
    if decision is not None:
        if decision.crossed:
            budget_alerts_queue(user_id=user.pk, events=decision.crossed)
        if decision.action == BudgetAction.BLOCKED:
            raise _blocked(user=user, use_case=use_case, route=route, decision=decision, stream=stream)
        if decision.action == BudgetAction.DEGRADED:
            route = replace(route, model=decision.model)
    body = {"model": route.model, "messages": clean_messages, **clean_params}
    try:
        log = usage_start(
            user=user,
            use_case=use_case,
            model=route.model,
            provider=route.provider,
            streamed=stream,
            requested_model=decision.requested_model if decision else "",
            budget_action=decision.action if decision else "",
        )
    except LedgerUnavailableError:
        reservation_settle(decision.reservation if decision else None, cost_sek=None)
        raise errors.ledger_unavailable() from None
    # Settled by usage_finish when the row is finalised, whatever the outcome.
    log.budget_reservation = decision.reservation if decision else None  # type: ignore[attr-defined]
    if stream:
        return _open_stream(log, route, body, finish_after_response=finish_after_response)
    return _complete_once(log, route, body, finish_after_response=finish_after_response)


def _blocked(
    *, user: Any, use_case: str, route: Route, decision: Decision, stream: bool
) -> errors.GatewayError:
    """A call the budget refused: one ``error`` row with code ``budget_exceeded``, no provider
    called (and no fallback: a fallback must not dodge a budget)."""
    # A blocked decision always carries its figures; the defaults only satisfy the types.
    error = errors.budget_exceeded(
        limit_sek=decision.limit_sek or Decimal(0),
        spent_sek=decision.spent_sek or Decimal(0),
        resets_at=decision.resets_at or month_of(timezone.now())[1],
        log_id=None,
    )
    try:
        log = usage_start(
            user=user,
            use_case=use_case,
            model=route.model,
            provider=route.provider,
            streamed=stream,
            requested_model=decision.requested_model,
            budget_action=BudgetAction.BLOCKED,
        )
    except LedgerUnavailableError:
        return errors.ledger_unavailable()
    usage_finish(
        log=log,
        status=UsageStatus.ERROR,
        cost=Cost(Decimal(0), CostSource.NOT_BILLED),
        attempts=0,
        latency_ms=0,
        error_code=errors.BUDGET_EXCEEDED,
        error_message=error.message,
    )
    error.log_id = log.pk
    return error


def _complete_once(
    log: AIUsageLog, route: Route, body: dict[str, Any], *, finish_after_response: bool = False
) -> Completion:
    started = time.monotonic()
    try:
        result, served, attempts, is_fallback = chat_with_fallback(route, body)
    except Failed as failure:
        raise record_failure(log, failure, started) from None
    record_success(
        log,
        route=served,
        usage=result.usage,
        model=result.model,
        generation_id=result.generation_id,
        attempts=attempts,
        is_fallback=is_fallback,
        started=started,
        write_after_response=finish_after_response,
    )
    return Completion(
        content=result.content,
        model=log.model,
        provider=log.provider,
        tokens=tokens_of(result.usage) or TokenCounts(),
        cost_usd=log.cost_usd,
        cost_source=log.cost_source,
        generation_id=log.generation_id,
        finish_reason=result.finish_reason,
        is_fallback=is_fallback,
        attempts=attempts,
        log_id=log.pk,
        request_id=log.request_id,
        result=result,
    )


def _open_stream(
    log: AIUsageLog, route: Route, body: dict[str, Any], *, finish_after_response: bool = False
) -> GatewayStream:
    started = time.monotonic()
    try:
        upstream, client, served, attempts, is_fallback = stream_with_fallback(route, body)
    except Failed as failure:
        raise record_failure(log, failure, started) from None
    return GatewayStream(
        log=log,
        upstream=upstream,
        client=client,
        route=served,
        attempts=attempts,
        is_fallback=is_fallback,
        started=started,
        finish_after_response=finish_after_response,
    )
