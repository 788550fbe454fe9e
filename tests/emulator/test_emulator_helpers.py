"""Shared helpers for the emulator tests (no tests here): shape comparison, SSE parsing, clients."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from apps.emulator import Emulator

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "openrouter" / "examples"
BASE_URL = "http://openrouter.test/api/v1"
START = datetime(2026, 8, 22, 15, 24, 43, 517392, tzinfo=UTC)


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


MISSING_AUTH = {"error": {"message": "Missing Authentication header", "code": 401}}
USER_NOT_FOUND = {"error": {"message": "User not found.", "code": 401}}
MANAGEMENT_ONLY = {"error": {"code": 403, "message": "Only management keys can perform this operation"}}
PRICES = {m["id"]: {k: Decimal(v) for k, v in m["pricing"].items()} for m in example("models.json")["data"]}


def expected_cost(model: str, usage: dict[str, Any]) -> Decimal:
    """OpenRouter's cost arithmetic computed independently from the catalogue file and a response's
    usage: uncached prompt, cache reads and cache writes at their prices, completion (reasoning
    included) at the completion price."""
    prices = PRICES[model]
    details = usage["prompt_tokens_details"]
    cached, written = details["cached_tokens"], details["cache_write_tokens"]
    uncached = usage["prompt_tokens"] - cached - written
    return (
        uncached * prices["prompt"]
        + cached * prices.get("input_cache_read", Decimal(0))
        + written * prices.get("input_cache_write", Decimal(0))
        + usage["completion_tokens"] * prices["completion"]
    )


def example_text(name: str) -> str:
    return (EXAMPLES / name).read_text()


def example_events(name: str) -> list[str]:
    """The SSE events of an example stream, as raw text blocks (comments included)."""
    return sse_events(example_text(name))


@dataclass
class FakeClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def key_usage(emulator: Emulator, key: str) -> Decimal:
    """The all-time spend the emulator has charged to ``key``."""
    registered = emulator.key(key)
    assert registered is not None
    return registered.usage


def client(emulator: Emulator, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(transport=emulator.transport(), base_url=BASE_URL, headers=headers)


def chat_body(content: str = "What is the capital of France?", **extra: Any) -> dict[str, Any]:
    return {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def json_decimal(response: httpx.Response) -> Any:
    """The body with numbers as ``Decimal``, so money compares exactly."""
    return json.loads(response.text, parse_float=Decimal, parse_int=Decimal)


def sse_events(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if block.strip()]


def sse_data(text: str) -> list[Any]:
    """Parsed ``data:`` payloads of a stream; ``[DONE]`` stays a string."""
    payloads: list[Any] = []
    for block in sse_events(text):
        if block.startswith("data: "):
            data = block.removeprefix("data: ")
            payloads.append(data if data == "[DONE]" else json.loads(data))
    return payloads


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def assert_same_shape(
    actual: Any,
    expected: Any,
    *,
    nullable: frozenset[str] | set[str] = frozenset(),
    extra: frozenset[str] | set[str] = frozenset(),
    path: str = "$",
) -> None:
    """``actual`` has exactly ``expected``'s keys, in the same order, with the same JSON types.

    ``null`` is accepted where the example has ``null`` (the field is nullable) or where ``path`` is
    listed in ``nullable``; paths in ``extra`` may appear in ``actual`` only. List items are compared
    with the example's first item. Paths look like ``$.choices[].message.content``.
    """
    if expected is None or (actual is None and path in nullable):
        return
    assert _kind(actual) == _kind(expected), f"{path}: {_kind(actual)} != {_kind(expected)}"
    if isinstance(expected, dict):
        keys = [k for k in actual if f"{path}.{k}" not in extra]
        assert keys == list(expected), f"{path}: keys {keys} != {list(expected)}"
        for key in expected:
            assert_same_shape(
                actual[key], expected[key], nullable=nullable, extra=extra, path=f"{path}.{key}"
            )
    elif isinstance(expected, list) and expected:
        for item in actual:
            assert_same_shape(item, expected[0], nullable=nullable, extra=extra, path=f"{path}[]")
