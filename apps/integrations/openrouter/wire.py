"""Reading OpenRouter error bodies and rate-limit headers (pure helpers for :mod:`.errors`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from apps.core.logging import redact

from .fields import load_json
from .schemas import Usage

UPSTREAM_MESSAGE_LIMIT = 500


def clean_message(text: str) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= UPSTREAM_MESSAGE_LIMIT else text[: UPSTREAM_MESSAGE_LIMIT - 1] + "…"


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date. Never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def parse_reset(value: Any) -> dt.datetime | None:
    """``X-RateLimit-Reset`` (Unix epoch in milliseconds; seconds tolerated) → aware UTC datetime."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    millis = number if number >= 10**11 else number * 1000  # 10**11 ms is 1973; as seconds, year 5138
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=millis)


def decode_error_body(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """The ``error`` object (or None) and a loggable message from an error body."""
    try:
        data = load_json(body)
    except (ValueError, UnicodeDecodeError):
        return None, non_json_snippet(body)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        message = str(error.get("message") or "")
        raw = as_dict(error.get("metadata")).get("raw")
        return error, f"{message} (raw: {raw})" if raw else message
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return {"message": data["error"]}, data["error"]
    return None, non_json_snippet(body)


def non_json_snippet(body: bytes) -> str:
    text = body[:300].decode("utf-8", errors="replace")
    if "<" in text and ">" in text:
        return f"non-JSON body ({len(body)} bytes, looks like HTML)"
    return f"non-JSON body ({len(body)} bytes): {text[:120]}"


def usage_from_body(body: bytes) -> Usage | None:
    try:
        data = load_json(body)
    except (ValueError, UnicodeDecodeError):
        return None
    raw = data.get("usage") if isinstance(data, dict) else None
    try:
        return Usage.model_validate(raw) if isinstance(raw, dict) else None
    except ValueError:
        return None
