"""Scripted faults: what a test can make the emulator do wrong, and when.

A fault is queued with :meth:`FaultQueue.add` and consumed FIFO: each matching request takes one
use of the oldest matching fault. A fault matches on the API path (``/chat/completions``), the key
(``None`` matches any key) and, on chat, optionally the ``model`` being tried, so a ``models[]``
fallback can be scripted to fail on the first model only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .admission import FREE_PER_MINUTE
from .wsgi import Body, Response

CHAT_PATH = "/chat/completions"

# Errors returned before any byte is sent; OpenRouter tries the next model on most of them
# (a moderation refusal too: the next model may use a provider without that moderation).
ERROR_KINDS = {"rate_limit", "status", "moderation"}
# OpenRouter's own refusals before any provider is tried (as if its admission checks had failed):
# 402 out of credits, 403 key over its limit, 429 free-model cap (with Retry-After).
ADMISSION_KINDS = {"insufficient_credits", "key_limit", "free_rate_limit"}
# Faults that only have a meaning for a chat completion.
CHAT_ONLY_KINDS = {"midstream_error", "stream_no_usage", "missing_usage", "moderation"} | ADMISSION_KINDS
# Faults after which the provider has done the work, so the generation is billed.
BILLED_KINDS = {
    "read_timeout",
    "slow_trickle",
    "truncated",
    "midstream_error",
    "stream_no_usage",
    "missing_usage",
}
KINDS = ERROR_KINDS | CHAT_ONLY_KINDS | BILLED_KINDS | {"non_json", "html", "error_200"}
# Faults taken while a model is tried (everything but OpenRouter's own admission refusals).
SERVING_KINDS = KINDS - ADMISSION_KINDS
STATUS_CODES = {400, 404, 408, 502, 503}
# Off the chat path a scripted status may also be OpenRouter's own 403 (e.g. a key-management
# call the account may not make) or a plain 500, as key management answers them.
ACCOUNT_STATUS_CODES = STATUS_CODES | {403, 500}
LIMIT_WINDOWS = {"total", "daily", "weekly", "monthly"}


@dataclass
class Fault:
    kind: str
    remaining: int
    path: str = CHAT_PATH
    key_hash: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def matches(
        self, path: str, key_hash: str | None, model: str | None, kinds: Iterable[str] | None = None
    ) -> bool:
        wanted_model = self.params.get("model")
        return (
            self.remaining > 0
            and (kinds is None or self.kind in kinds)
            and self.path == path
            and (self.key_hash is None or self.key_hash == key_hash)
            and (wanted_model is None or model is None or wanted_model == model)
        )

    @property
    def falls_back(self) -> bool:
        """True when OpenRouter would try the next model (not for an invalid-model 400)."""
        return self.kind in ("rate_limit", "moderation") or (self.kind == "status" and self.status != 400)

    @property
    def status(self) -> int:
        return int(self.params.get("status", 502))

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "times": self.remaining,
            "path": self.path,
            "key_hash": self.key_hash,
            **self.params,
        }


def validate(kind: str, path: str, times: int, params: dict[str, Any]) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
    if times < 1:
        raise ValueError("times must be at least 1")
    if kind in CHAT_ONLY_KINDS and path != CHAT_PATH:
        raise ValueError(f"{kind} only applies to {CHAT_PATH}")
    allowed = STATUS_CODES if path == CHAT_PATH else ACCOUNT_STATUS_CODES
    if kind == "status" and int(params.get("status", 0)) not in allowed:
        raise ValueError(f"status must be one of {sorted(allowed)}")
    if kind == "key_limit" and params.get("window", "monthly") not in LIMIT_WINDOWS:
        raise ValueError(f"window must be one of {sorted(LIMIT_WINDOWS)}")
    if kind == "free_rate_limit" and params.get("scope", "minute") not in ("minute", "day"):
        raise ValueError("scope must be minute or day")


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(
        self,
        path: str,
        key_hash: str | None,
        model: str | None = None,
        kinds: Iterable[str] | None = None,
    ) -> Fault | None:
        """Consume one use of the oldest fault that matches this request (and is one of ``kinds``)."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, key_hash, model, kinds):
                    fault.remaining -= 1
                    self._faults = [f for f in self._faults if f.remaining > 0]
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]


# --- Responses for faults that replace the answer -------------------------------------------


def upstream_error(
    fault: Fault, slug: str, provider: str, user_id: str | None, flagged_input: str = ""
) -> Response:
    """An upstream-style failure for a chat attempt (the bodies of the real error examples)."""
    if fault.kind == "rate_limit":
        return _rate_limited(fault, slug, provider, user_id)
    if fault.kind == "moderation":
        return _moderated(fault, slug, provider, user_id, flagged_input)
    status = fault.status
    headers = _retry_after(fault)
    if status == 400:
        return errors.error_response(400, errors.INVALID_MODEL.format(slug=slug), user_id=user_id)
    if status == 404:
        return errors.error_response(404, errors.NO_ENDPOINTS_POLICY, headers=headers)
    if status == 408:
        return errors.error_response(408, errors.TIMEOUT, headers=headers)
    if status == 503:
        return errors.error_response(503, errors.NO_PROVIDERS, headers=headers)
    metadata = {"raw": errors.UPSTREAM_CONNECT_RAW, "provider_name": provider, "is_byok": False}
    return errors.error_response(
        status, errors.PROVIDER_ERROR, metadata=metadata, user_id=user_id, headers=headers
    )


def _rate_limited(fault: Fault, slug: str, provider: str, user_id: str | None) -> Response:
    raw = errors.UPSTREAM_RATE_LIMIT_RAW.format(slug=slug)
    metadata = {"raw": raw, "provider_name": provider, "is_byok": False}
    return errors.error_response(
        429, errors.PROVIDER_ERROR, metadata=metadata, user_id=user_id, headers=_retry_after(fault)
    )


def _moderated(fault: Fault, slug: str, provider: str, user_id: str | None, flagged_input: str) -> Response:
    """403 moderation: metadata ``{reasons[], flagged_input (at most 100 characters), provider_name,
    model_slug}``; the message says why the request was blocked."""
    reasons = fault.params.get("reasons") or ["violence"]
    metadata = {
        "reasons": [str(reason) for reason in reasons],
        "flagged_input": flagged_input[:100],
        "provider_name": provider,
        "model_slug": slug,
    }
    flagged_for = ", ".join(metadata["reasons"])
    default = errors.MODERATION.format(slug=slug, provider=provider, reasons=flagged_for)
    message = str(fault.params.get("message", default))
    return errors.error_response(403, message, metadata=metadata, user_id=user_id)


def admission_error(fault: Fault, key_limit_reset: str | None, user_id: str, now_ms: int) -> Response:
    """OpenRouter's own refusal before any provider is tried, with the live bodies: 402 out of
    credits, 403 key limit (window word total/daily/weekly/monthly), 429 free-model cap."""
    if fault.kind == "insufficient_credits":
        return errors.error_response(402, errors.INSUFFICIENT_CREDITS)
    if fault.kind == "key_limit":
        window = str(fault.params.get("window") or key_limit_reset or "total")
        return errors.error_response(403, errors.KEY_LIMIT.format(window=window))
    if fault.params.get("scope", "minute") == "day":
        day_ms = 86_400_000
        return errors.free_model_limited(
            errors.FREE_PER_DAY_LOW, 50, (now_ms // day_ms + 1) * day_ms, now_ms, user_id
        )
    return errors.free_model_limited(
        errors.FREE_PER_MIN, FREE_PER_MINUTE, (now_ms // 60_000 + 1) * 60_000, now_ms, user_id
    )


def _retry_after(fault: Fault) -> list[tuple[str, str]]:
    seconds = fault.params.get("retry_after")
    return [("Retry-After", str(seconds))] if seconds is not None else []


def generic_error(fault: Fault) -> Response:
    """``rate_limit``/``status`` on an endpoint other than chat: a plain error envelope."""
    if fault.kind == "rate_limit":
        return errors.error_response(429, "Rate limit exceeded", headers=_retry_after(fault))
    messages = {
        400: "Bad Request",
        403: errors.MANAGEMENT_ONLY,
        404: "Not Found",
        408: errors.TIMEOUT,
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    message = messages.get(fault.status, errors.NO_PROVIDERS)
    return errors.error_response(fault.status, message, headers=_retry_after(fault))


def html_page(fault: Fault) -> Response:
    """An edge proxy's HTML error page instead of JSON (Cloudflare style)."""
    status = int(fault.params.get("status", 502))
    title = {
        502: "Bad gateway",
        503: "Service unavailable",
        504: "Gateway time-out",
        524: "A timeout occurred",
    }
    name = title.get(status, "Error")
    page = (
        f"<!DOCTYPE html>\n<html><head><title>openrouter.ai | {status}: {name}</title></head>"
        f"<body><h1>Error {status}</h1><p>{name}</p><p>Cloudflare Ray ID: 8c1f2e3d4a5b6c7d</p></body></html>\n"
    )
    return Response.html(status, page)


def non_json(fault: Fault) -> Response:
    status = int(fault.params.get("status", 200))
    content_type = str(fault.params.get("content_type", "application/json"))
    body = str(fault.params.get("body", "upstream returned an invalid response\n"))
    return Response(status, body.encode("utf-8"), [("Content-Type", content_type)])


def error_200(fault: Fault, provider: str | None, user_id: str | None) -> Response:
    """HTTP 200 whose body is only an error: the provider failed after headers were committed."""
    code = int(fault.params.get("code", 502))
    message = str(fault.params.get("message", errors.PROVIDER_ERROR))
    metadata = {"raw": errors.UPSTREAM_CONNECT_RAW, "provider_name": provider, "is_byok": False}
    return Response.json(200, errors.error_body(code, message, metadata=metadata, user_id=user_id))


# --- Transformations of an answer that was served -------------------------------------------


def trickle(body: Body, delay: float, pieces: int = 8) -> Iterator[bytes]:
    """Send ``body`` slowly: a pause before every piece after the first."""
    inner = iter(_split(body, pieces))
    try:
        for index, part in enumerate(inner):
            if index:
                time.sleep(delay)
            yield part
    finally:
        _close(body)


def truncate(body: Body) -> Iterator[bytes]:
    """A bytes body cut in half (a stream is cut inside this module's caller)."""
    data = body if isinstance(body, bytes) else b"".join(body)
    yield data[: max(len(data) // 2, 1)]


def _split(body: Body, pieces: int) -> Iterable[bytes]:
    if not isinstance(body, bytes):
        return body
    size = max(len(body) // pieces, 1)
    return [body[i : i + size] for i in range(0, len(body), size)]


def _close(body: Body) -> None:
    close = getattr(body, "close", None)
    if callable(close):
        close()
