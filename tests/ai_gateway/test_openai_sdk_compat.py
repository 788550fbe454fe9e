"""Compatibility suite: the official ``openai`` SDK (sync and async) and LangChain's ChatOpenAI
drive the app in-process, as a partner's code would, against the OpenRouter emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connections

from apps.accounts.services import api_token_create
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import chat_requests

pytestmark = pytest.mark.django_db

MODEL = "openai/gpt-4o-mini"
HELLO = [{"role": "user", "content": "Hej! Har ni öppet på lördag?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class _AsyncOverWSGI(httpx.AsyncBaseTransport):
    """The WSGI transport behind an async client: each request runs in a worker thread, as an
    async server would run a sync app. The body is read there too (the ledger is finalised while
    a stream is read), then handed to the async client."""

    def __init__(self, app: Any) -> None:
        self._sync = httpx.WSGITransport(app=app)

    def _call(self, request: httpx.Request) -> httpx.Response:
        response = self._sync.handle_request(request)
        try:
            content = b"".join(response.stream)
        finally:
            response.close()  # as a server does after the last byte: runs the after-response writes
            connections.close_all()  # this worker thread's own connection, as a server thread's
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        sync_request = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        return await asyncio.to_thread(self._call, sync_request)


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """Like Django's test client, keep the request cycle from closing the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def token(user_a: Any, configured_a: Any) -> str:
    return api_token_create(user=user_a, name="partner").plaintext


@pytest.fixture
def http_client(wsgi_app: Any) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as client:
        yield client


@pytest.fixture
def client(token: str, http_client: httpx.Client) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/api/v1", api_key=token, http_client=http_client)


@pytest.fixture
def async_client(token: str) -> openai.AsyncOpenAI:
    """Requests run in worker threads (own connections): tests using it commit (transaction=True)."""
    wsgi_app = get_wsgi_application()
    http = httpx.AsyncClient(transport=_AsyncOverWSGI(wsgi_app))
    return openai.AsyncOpenAI(base_url="http://testserver/api/v1", api_key=token, http_client=http)


def test_sync_completion_with_user(client: openai.OpenAI, emulator: Any) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=HELLO, user="customer-17")
    generation = emulator.generations[0]
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.id == generation.id
    assert chat_requests(emulator)[0].body["user"] == "customer-17"
    row = AIUsageLog.objects.get()
    assert (row.status, row.cost_usd) == ("success", generation.cost)


def test_sync_stream_with_usage(client: openai.OpenAI, emulator: Any) -> None:
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    generation = emulator.generations[0]
    assert text
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == generation.completion_tokens
    assert Decimal(str(chunks[-1].usage.model_extra["cost"])) == generation.cost
    assert AIUsageLog.objects.get().status == "success"


def test_sync_tools(client: openai.OpenAI, emulator: Any) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Vad blir vädret i Lund?"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
    )
    call = completion.choices[0].message.tool_calls[0]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert set(json.loads(call.function.arguments)) == {"city"}
    assert chat_requests(emulator)[0].body["tools"] == [WEATHER_TOOL]


def test_sync_stream_tools_accumulate(client: openai.OpenAI, emulator: Any) -> None:
    with client.chat.completions.stream(
        model=MODEL,
        messages=[{"role": "user", "content": "Vad blir vädret i Lund?"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    ) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert set(json.loads(call.function.arguments)) == {"city"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_sync_idempotency_key(client: openai.OpenAI, emulator: Any) -> None:
    headers = {"Idempotency-Key": "order-7"}
    first = client.chat.completions.create(model=MODEL, messages=HELLO, extra_headers=headers)
    second = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=HELLO, extra_headers=headers
    )
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.parse().model_dump() == first.model_dump()
    assert len(chat_requests(emulator)) == 1


def test_sync_retries_a_rate_limit_then_succeeds(client: openai.OpenAI, emulator: Any) -> None:
    # Exhaust the gateway's own retries once (4 upstream 429s): the SDK retries the 429 itself.
    emulator.inject("rate_limit", times=4, retry_after=0)
    completion = client.with_options(max_retries=1).chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.choices[0].message.content
    assert list(AIUsageLog.objects.order_by("id").values_list("status", flat=True)) == [
        "rate_limited",
        "success",
    ]


def test_sync_never_retries_a_maybe_billed_outcome(client: openai.OpenAI, emulator: Any) -> None:
    emulator.inject("truncated")
    with pytest.raises(openai.APIStatusError) as caught:
        client.with_options(max_retries=3).chat.completions.create(model=MODEL, messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body["code"] == "maybe_billed"
    assert len(chat_requests(emulator)) == 1
    assert len(emulator.generations) == 1  # billed once, never twice


def test_sync_models_list(client: openai.OpenAI, emulator: Any) -> None:
    ids = [m.id for m in client.models.list()]
    assert MODEL in ids
    assert ids == sorted(ids)


@pytest.mark.django_db(transaction=True)
def test_async_completion_and_stream(async_client: openai.AsyncOpenAI, emulator: Any) -> None:
    async def run() -> tuple[Any, list[Any]]:
        completion = await async_client.chat.completions.create(model=MODEL, messages=HELLO, user="u-1")
        stream = await async_client.chat.completions.create(
            model=MODEL,
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
        )
        return completion, [chunk async for chunk in stream]

    completion, chunks = asyncio.run(run())
    assert completion.choices[0].message.content
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage.completion_tokens == emulator.generations[1].completion_tokens
    assert [r.body.get("user") for r in chat_requests(emulator)] == ["u-1", None]
    assert list(AIUsageLog.objects.values_list("status", flat=True)) == ["success", "success"]


@pytest.mark.django_db(transaction=True)
def test_async_stream_with_tools(async_client: openai.AsyncOpenAI, emulator: Any) -> None:
    async def run() -> list[Any]:
        stream = await async_client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Vad blir vädret i Lund?"}],
            tools=[WEATHER_TOOL],
            tool_choice="required",
            stream=True,
        )
        return [chunk async for chunk in stream]

    chunks = asyncio.run(run())
    calls = [t for c in chunks if c.choices for t in (c.choices[0].delta.tool_calls or [])]
    assert [c.function.name for c in calls if c.function and c.function.name] == ["get_weather"]


def test_langchain_bind_tools_stream(token: str, http_client: httpx.Client, emulator: Any) -> None:
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    @tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return "sol"

    llm = ChatOpenAI(
        model=MODEL,
        base_url="http://testserver/api/v1",
        api_key=token,
        http_client=http_client,
        max_retries=0,
    )
    chunks = list(llm.bind_tools([get_weather], tool_choice="get_weather").stream("Vädret i Lund?"))
    message = chunks[0]
    for chunk in chunks[1:]:
        message = message + chunk
    assert [call["name"] for call in message.tool_calls] == ["get_weather"]
    assert set(message.tool_calls[0]["args"]) == {"city"}
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert AIUsageLog.objects.get().status == "success"


def test_langchain_plain_stream(token: str, http_client: httpx.Client, emulator: Any) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        model=MODEL,
        base_url="http://testserver/api/v1",
        api_key=token,
        http_client=http_client,
        max_retries=0,
        stream_usage=True,
    )
    chunks = list(llm.stream("Säg hej"))
    message = chunks[0]
    for chunk in chunks[1:]:
        message = message + chunk
    assert message.content
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.usage_metadata["output_tokens"] == emulator.generations[0].completion_tokens
