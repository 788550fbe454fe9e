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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.integrations.openrouter import ChatResult
from apps.usage.models import AIUsageLog
from apps.usage.services import LedgerUnavailableError, TokenCounts, usage_start

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
    request_id: uuid.UUID | None = None,
    **params: Any,
) -> Completion | GatewayStream:
    """Run one AI call for ``user`` and record it. Raises ``GatewayError`` with a clear cause.

    With ``stream=True`` returns a :class:`GatewayStream` to iterate (and close, to cancel).
    """
    try:
        clean_messages = validate_messages(messages)
        clean_params = validate_params(params)
    except RequestRejected as exc:
        raise errors.GatewayError(str(exc), code="invalid_request", status_code=400) from None
    try:
        route = route_resolve(user=user, use_case=use_case, model=model)
    except RequestRejected as exc:
        raise errors.GatewayError(str(exc), code="invalid_request", status_code=400) from None
    body = {"model": route.model, "messages": clean_messages, **clean_params}
    try:
        log = usage_start(
            user=user,
            use_case=use_case,
            model=route.model,
            provider=route.provider,
            streamed=stream,
            request_id=request_id,
        )
    except LedgerUnavailableError:
        raise errors.ledger_unavailable() from None
    if stream:
        return _open_stream(log, route, body)
    return _complete_once(log, route, body)


def _complete_once(log: AIUsageLog, route: Route, body: dict[str, Any]) -> Completion:
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


def _open_stream(log: AIUsageLog, route: Route, body: dict[str, Any]) -> GatewayStream:
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
    )
