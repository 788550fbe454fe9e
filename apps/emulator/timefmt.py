"""Timestamp formats as OpenRouter prints them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def iso(moment: datetime | None) -> str | None:
    """``2026-08-22T15:40:11.902211+00:00``: key and generation timestamps."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def iso_millis_z(day: date | None) -> str | None:
    """``2026-12-01T00:00:00.000Z``: budget reset moments (always a UTC midnight)."""
    if day is None:
        return None
    return datetime.combine(day, time(), tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(value: str) -> datetime:
    """An ISO-8601 timestamp in UTC; other offsets are rejected, as OpenRouter does for ``expires_at``."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() != UTC.utcoffset(None):
        raise ValueError("only UTC timestamps are accepted")
    return moment.astimezone(UTC)
