"""Billing a served chat request exactly once and recording it for ``/generation``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .billing import Cost, TokenUsage, charge, compute_cost
from .chat_body import Served
from .completion import text_tokens
from .core import Core
from .ids import request_id, upstream_id
from .state import GenerationRecord


def bill_full(core: Core, served: Served) -> tuple[TokenUsage, Cost]:
    completion = served.completion
    return bill(core, served, completion.completion_tokens, completion.finish_reason, cancelled=False)


def bill_partial(
    core: Core, served: Served, delivered: str, finish_reason: str | None, *, cancelled: bool
) -> tuple[TokenUsage, Cost]:
    """Bill what was produced before a failure or a disconnect: the prompt and the text sent so far."""
    tokens = served.completion.reasoning_tokens + text_tokens(delivered)
    return bill(core, served, tokens, finish_reason, cancelled=cancelled)


def bill(
    core: Core, served: Served, completion_tokens: int, finish_reason: str | None, *, cancelled: bool
) -> tuple[TokenUsage, Cost]:
    """Charge the account and key and store the generation; later calls return the first result."""
    with core.state.lock:
        if served.billed is not None:
            return served.billed
        usage = TokenUsage(
            prompt_tokens=served.prompt_tokens,
            completion_tokens=completion_tokens,
            reasoning_tokens=min(served.completion.reasoning_tokens, completion_tokens),
            cached_tokens=served.cached_tokens,
            cache_write_tokens=served.cache_write_tokens,
        )
        cost = compute_cost(served.model, usage)
        key = core.state.keys[served.key_hash]
        now = core.now()
        charge(key.account, key, served.model, usage, cost.total, now)
        record = _record(served, usage, cost, finish_reason, cancelled=cancelled, completed_at=now)
        core.state.ledger.append(record)
        core.state.generations[record.id] = record
        served.billed = (usage, cost)
        return served.billed


def _record(
    served: Served,
    usage: TokenUsage,
    cost: Cost,
    finish_reason: str | None,
    *,
    cancelled: bool,
    completed_at: datetime,
) -> GenerationRecord:
    model = served.model
    # Simulated timings, chosen so the example request reproduces generation.json (388 ms, 412 ms).
    generation_time = 100 + 32 * usage.completion_tokens
    upstream = upstream_id(served.id, model.provider)
    return GenerationRecord(
        id=served.id,
        key_hash=served.key_hash,
        model=model.id,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cached_tokens=usage.cached_tokens,
        cost=cost.total,
        streamed=served.streamed,
        cancelled=cancelled,
        finish_reason=finish_reason,
        created_at=served.started_at,
        completed_at=completed_at,
        user_id=served.user_id,
        cache_write_tokens=usage.cache_write_tokens,
        prompt_cost=cost.prompt + cost.request,
        completion_cost=cost.completion,
        provider_name=model.provider,
        model_permaslug=model.canonical_slug,
        endpoint_id=model.endpoint_id,
        native_finish_reason=None if finish_reason == "error" else model.native_finish(finish_reason),
        latency_ms=generation_time + 24,
        generation_time_ms=generation_time,
        upstream_id=upstream,
        request_id=request_id(served.started_at),
        external_user=_optional_str(served.request.get("user")),
        http_referer=served.headers.get("http-referer"),
        # /generation's origin is always a string: the caller's HTTP-Referer, "" when none was sent.
        origin=served.headers.get("http-referer") or "",
        user_agent=served.headers.get("user-agent"),
        session_id=_optional_str(served.request.get("session_id")) or served.headers.get("x-session-id"),
        service_tier=model.service_tier,
        provider_responses=(*served.failed_attempts, _attempt(served, upstream, 200, generation_time + 24)),
    )


def _attempt(served: Served, upstream: str | None, status: int, latency: int) -> dict[str, Any]:
    model = served.model
    return {
        "endpoint_id": model.endpoint_id,
        "id": upstream,
        "is_byok": False,
        "latency": latency,
        "model_permaslug": model.canonical_slug,
        "provider_name": model.provider,
        "status": status,
    }


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
