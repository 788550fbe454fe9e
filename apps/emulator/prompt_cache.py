"""Prompt caching, driven by explicit ``cache_control`` breakpoints (Anthropic style).

Only requests that mark a breakpoint use the cache, so a plain request always gets the same token
counts. The first request writes the cached prefix (billed at ``input_cache_write`` where the model
has that price); a repeat within five minutes reads it (billed at ``input_cache_read``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from .catalogue import Model
from .completion import MESSAGE_OVERHEAD, text_tokens
from .content import message_text
from .core import Core
from .state import Account

TTL = timedelta(minutes=5)


def cache_usage(
    core: Core, account: Account, model: Model, body: dict[str, Any], now: datetime
) -> tuple[int, int]:
    """``(cached_tokens, cache_write_tokens)`` for this request; the caller holds the state lock."""
    if "input_cache_read" not in model.prices:
        return 0, 0
    prefix = _cached_prefix([m for m in body.get("messages") or [] if isinstance(m, dict)])
    if prefix is None:
        return 0, 0
    tokens, material = prefix
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
    entry = (account.user_id, model.id, digest)
    cache = core.state.prompt_cache
    hit = cache.get(entry, now) > now
    cache[entry] = now + TTL
    if hit:
        return tokens, 0
    return 0, tokens if "input_cache_write" in model.prices else 0


def _cached_prefix(messages: list[dict[str, Any]]) -> tuple[int, list[Any]] | None:
    """Tokens and content up to the last ``cache_control`` breakpoint, or ``None`` without one."""
    last = _last_breakpoint(messages)
    if last is None:
        return None
    index, part_index = last
    tokens = sum(text_tokens(message_text(m)) + MESSAGE_OVERHEAD for m in messages[:index])
    material: list[Any] = [m.get("content") for m in messages[:index]]
    content = messages[index].get("content")
    if part_index is None or not isinstance(content, list):
        tokens += text_tokens(message_text(messages[index])) + MESSAGE_OVERHEAD
        return tokens, [*material, content]
    parts = content[: part_index + 1]
    tokens += text_tokens(message_text({"content": parts})) + MESSAGE_OVERHEAD
    return tokens, [*material, parts]


def _last_breakpoint(messages: list[dict[str, Any]]) -> tuple[int, int | None] | None:
    found: tuple[int, int | None] | None = None
    for index, message in enumerate(messages):
        if message.get("cache_control"):
            found = (index, None)
        content = message.get("content")
        for part_index, part in enumerate(content if isinstance(content, list) else []):
            if isinstance(part, dict) and part.get("cache_control"):
                found = (index, part_index)
    return found
