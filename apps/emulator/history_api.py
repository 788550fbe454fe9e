"""``/activity`` (daily usage by model, completed UTC days) and ``/generation`` (one
generation, eventually consistent)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import errors
from .core import Core
from .state import ZERO, GenerationRecord, UsageEvent
from .timefmt import iso
from .wsgi import Request, Response

WINDOW_DAYS = 30
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def handle_activity(core: Core, request: Request) -> Response:
    manager = core.authenticate_management(request)
    if isinstance(manager, Response):
        return manager
    today = core.now().date()
    first, last = today - timedelta(days=WINDOW_DAYS), today - timedelta(days=1)
    day = _requested_day(request.query.get("date"), first, last)
    if isinstance(day, Response):
        return day
    key_filter = request.query.get("api_key_hash")
    with core.state.lock:
        events = [
            e
            for e in manager.account.events
            if first <= e.day <= last and (day is None or e.day == day) and key_filter in (None, e.key_hash)
        ]
    return Response.json(
        200, {"data": [row.json(core.config.activity_date_format) for row in _aggregate(events)]}
    )


def _requested_day(text: str | None, first: date, last: date) -> date | Response | None:
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        return errors.bad_request("Invalid date format. Expected YYYY-MM-DD")
    if not first <= day <= last:
        return errors.bad_request(f"Date must be within the last {WINDOW_DAYS} completed UTC days")
    return day


@dataclass
class _Row:
    day: date
    model: str
    model_permaslug: str
    endpoint_id: str
    provider_name: str
    usage: Decimal = ZERO
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0

    def add(self, event: UsageEvent) -> None:
        self.usage += event.usage
        self.requests += event.requests
        self.prompt_tokens += event.prompt_tokens
        self.completion_tokens += event.completion_tokens
        self.reasoning_tokens += event.reasoning_tokens
        self.cached_tokens += event.cached_tokens

    def json(self, date_format: str) -> dict[str, Any]:
        # Live rows say "2026-08-30 00:00:00" although the docs show "2026-08-30".
        day = self.day.isoformat()
        return {
            "date": f"{day} 00:00:00" if date_format == "timestamp" else day,
            "model": self.model,
            "model_permaslug": self.model_permaslug,
            "endpoint_id": self.endpoint_id,
            "provider_name": self.provider_name,
            "usage": self.usage,
            "byok_usage_inference": ZERO,
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cached_tokens": self.cached_tokens,
        }


def _aggregate(events: Iterable[UsageEvent]) -> list[_Row]:
    """One row per UTC day x model x endpoint, newest day first."""
    rows: dict[tuple[date, str, str], _Row] = {}
    for e in events:
        group = (e.day, e.model, e.endpoint_id)
        if group not in rows:
            rows[group] = _Row(e.day, e.model, e.model_permaslug, e.endpoint_id, e.provider_name)
        rows[group].add(e)
    return sorted(rows.values(), key=lambda r: (-r.day.toordinal(), r.model, r.endpoint_id))


# --- /generation ------------------------------------------------------------------------------


def handle_generation(core: Core, request: Request) -> Response:
    key = core.authenticate(request)
    if isinstance(key, Response):
        return key
    if key.is_management:
        return errors.user_not_found()
    generation_id = request.query.get("id")
    if not generation_id:
        return errors.bad_request("Missing required parameter: id")
    with core.state.lock:
        record = core.state.generations.get(generation_id)
        now = core.now()
    if record is None or record.user_id != key.account.user_id or not _available(core, record, now):
        return errors.error_response(404, errors.GENERATION_NOT_FOUND)
    return Response.json(200, {"data": generation_json(record)})


def _available(core: Core, record: GenerationRecord, now: datetime) -> bool:
    """Generations show up only some time after they finish (eventual consistency)."""
    finished = record.completed_at or record.created_at
    return now >= finished + timedelta(seconds=core.config.generation_delay_seconds)


def generation_json(g: GenerationRecord) -> dict[str, Any]:
    """Every field of ``examples/generation.json``, in its order."""
    return {
        "id": g.id,
        "upstream_id": g.upstream_id,
        "total_cost": g.cost,
        "cache_discount": None,
        # Zero for non-BYOK here, although the chat response reported it equal to the cost.
        "upstream_inference_cost": ZERO,
        "created_at": iso(g.created_at),
        "model": g.model_permaslug,
        "app_id": None,
        "streamed": g.streamed,
        "cancelled": g.cancelled,
        "provider_name": g.provider_name,
        "latency": g.latency_ms,
        "moderation_latency": None,
        "generation_time": g.generation_time_ms,
        "finish_reason": g.finish_reason,
        "native_finish_reason": g.native_finish_reason,
        "tokens_prompt": g.prompt_tokens,
        "tokens_completion": g.completion_tokens,
        "native_tokens_prompt": g.prompt_tokens,
        "native_tokens_completion": g.completion_tokens,
        "native_tokens_completion_images": 0,
        "native_tokens_reasoning": g.reasoning_tokens,
        "native_tokens_cached": g.cached_tokens,
        "num_media_prompt": None,
        "num_input_audio_prompt": None,
        "num_media_completion": 0,
        "num_search_results": None,
        "num_fetches": None,
        "origin": g.origin,
        "usage": g.cost,
        "is_byok": False,
        "external_user": g.external_user,
        "api_type": "completions",
        "http_referer": g.http_referer,
        "user_agent": g.user_agent,
        "router": None,
        "preset_id": None,
        "session_id": g.session_id,
        "request_id": g.request_id,
        "response_cache_source_id": None,
        "service_tier": g.service_tier,
        "web_search_engine": None,
        "data_region": "global",
        "workspace_id": None,
        "provider_responses": list(g.provider_responses),
    }
