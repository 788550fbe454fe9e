"""Chat completion bodies and stream chunks, field for field in the live key order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .billing import Cost, TokenUsage
from .catalogue import Model
from .completion import Completion

MIDSTREAM_ERROR = {
    "code": 502,
    "message": "Provider disconnected unexpectedly",
    "metadata": {"error_type": "provider_unavailable", "provider_code": "ECONNRESET"},
}


@dataclass
class Served:
    """One chat request that a model is answering; billed once, when it ends."""

    id: str
    started_at: datetime
    model: Model
    user_id: str
    key_hash: str
    request: dict[str, Any]
    headers: dict[str, str]
    completion: Completion
    prompt_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    streamed: bool
    failed_attempts: list[dict[str, Any]] = field(default_factory=list)
    billed: tuple[TokenUsage, Cost] | None = None

    @property
    def created(self) -> int:
        return int(self.started_at.timestamp())

    def head(self) -> dict[str, Any]:
        """The fields every body and chunk starts with."""
        return {
            "id": self.id,
            "object": "chat.completion.chunk" if self.streamed else "chat.completion",
            "created": self.created,
            "model": self.model.id,
            "provider": self.model.provider,
            "system_fingerprint": self.model.system_fingerprint,
        }


def usage_json(usage: TokenUsage, cost: Cost) -> dict[str, Any]:
    prompt_cost = cost.prompt + cost.request
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "cost": cost.total,
        "is_byok": False,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "audio_tokens": 0,
            "video_tokens": 0,
        },
        # Live non-BYOK responses report upstream_inference_cost == cost.
        "cost_details": {
            "upstream_inference_cost": cost.total,
            "upstream_inference_prompt_cost": prompt_cost,
            "upstream_inference_completions_cost": cost.completion,
        },
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "image_tokens": 0,
            "audio_tokens": 0,
        },
    }


def message_json(completion: Completion, content: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": None,
        "reasoning": completion.reasoning,
    }
    if completion.reasoning:
        message["reasoning_details"] = [
            {"type": "reasoning.text", "text": completion.reasoning, "format": "unknown", "index": 0}
        ]
    if completion.tool_calls:
        message["tool_calls"] = completion.tool_calls
    return message


def completion_json(
    served: Served,
    billed: tuple[TokenUsage, Cost] | None,
    *,
    content: str,
    finish_reason: str,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The non-streaming body; ``billed=None`` leaves out ``usage`` (the missing-usage fault)."""
    body = served.head()
    body["service_tier"] = served.model.service_tier
    if error is not None:
        body["error"] = error
    native = None if finish_reason == "error" else served.model.native_finish(finish_reason)
    body["choices"] = [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": finish_reason,
            "native_finish_reason": native,
            "message": message_json(served.completion, content),
        }
    ]
    if billed is not None:
        body["usage"] = usage_json(*billed)
    return body


def chunk_json(served: Served, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    body = served.head()
    body["choices"] = [
        {
            "index": 0,
            "delta": {"role": "assistant", **delta},
            "finish_reason": finish_reason,
            "native_finish_reason": served.model.native_finish(finish_reason),
            "logprobs": None,
        }
    ]
    return body


def usage_chunk_json(served: Served, billed: tuple[TokenUsage, Cost], *, legacy: bool) -> dict[str, Any]:
    """The one usage chunk: 2026 style repeats the finish choice, legacy style has ``choices: []``."""
    finish = served.completion.finish_reason
    body = served.head() if legacy else chunk_json(served, {"content": ""}, finish)
    if legacy:
        body["choices"] = []
    body["usage"] = usage_json(*billed)
    return body


def error_chunk_json(served: Served) -> dict[str, Any]:
    """The chunk a provider failure mid-stream becomes (``chat_stream_midstream_error.txt``)."""
    body = served.head()
    body["error"] = MIDSTREAM_ERROR
    body["choices"] = [
        {"index": 0, "delta": {"content": ""}, "finish_reason": "error", "native_finish_reason": None}
    ]
    return body
