"""Streaming (SSE) and the openai SDK against the emulator."""

from __future__ import annotations

import httpx
import openai
import pytest

from apps.emulator import Emulator

from .test_emulator_helpers import (
    BASE_URL,
    FakeClock,
    chat_body,
    client,
    key_usage,
    sse_data,
    sse_events,
)


def test_stream_ends_with_finish_chunk_one_usage_chunk_and_done(
    emulator: Emulator, api: httpx.Client
) -> None:
    response = api.post("/chat/completions", json=chat_body(stream=True))

    payloads = sse_data(response.text)
    assert payloads[-1] == "[DONE]"
    usage_chunks = [p for p in payloads[:-1] if "usage" in p]
    assert len(usage_chunks) == 1
    assert usage_chunks[0] is payloads[-2]
    assert payloads[-3]["choices"][0]["finish_reason"] == "stop"
    assert payloads[-2]["choices"][0]["finish_reason"] == "stop"  # the 2026 form repeats it
    assert all(p["choices"][0]["delta"]["role"] == "assistant" for p in payloads[:-1])
    text = "".join(p["choices"][0]["delta"]["content"] for p in payloads[:-1])
    assert text == "The capital of France is Paris."
    assert emulator.generations[-1].streamed is True


def test_legacy_usage_chunk_has_empty_choices(clock: FakeClock) -> None:
    emulator = Emulator(clock=clock, usage_chunk_style="legacy")
    api = client(emulator, emulator.add_key(emulator.add_account()))

    payloads = sse_data(api.post("/chat/completions", json=chat_body(stream=True)).text)

    assert payloads[-2]["choices"] == []
    assert payloads[-2]["usage"]["completion_tokens"] == 9


def test_processing_comment_can_appear_midstream(clock: FakeClock) -> None:
    emulator = Emulator(clock=clock, processing_comment_midstream=True)
    api = client(emulator, emulator.add_key(emulator.add_account()))

    events = sse_events(api.post("/chat/completions", json=chat_body(stream=True)).text)

    comments = [i for i, e in enumerate(events) if e == ": OPENROUTER PROCESSING"]
    assert comments[:2] == [0, 1]
    assert len(comments) == 3
    assert comments[2] > 2


def test_client_disconnect_records_a_cancelled_generation_with_partial_usage(
    emulator: Emulator, api: httpx.Client, key: str
) -> None:
    body = chat_body("How do I grow my bakery business?", stream=True)
    with api.stream("POST", "/chat/completions", json=body) as response:
        lines = response.iter_lines()
        received = [next(lines) for _ in range(8)]  # two comments and two chunks, with blank lines
    full = api.post("/chat/completions", json={**body, "stream": False}).json()["usage"]

    assert received[4].startswith("data: ")
    cancelled = emulator.generations[0]
    assert cancelled.cancelled is True
    assert cancelled.finish_reason is None
    assert cancelled.prompt_tokens == full["prompt_tokens"]
    assert 0 < cancelled.completion_tokens < full["completion_tokens"]
    assert key_usage(emulator, key) == cancelled.cost + emulator.generations[1].cost


def test_stream_with_reasoning_and_tool_calls_sends_them_before_content(api: httpx.Client) -> None:
    tool = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
    }
    body = chat_body(
        "Find it",
        model="openai/gpt-5-mini",
        reasoning={"effort": "low"},
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": "lookup"}},
        stream=True,
    )

    payloads = sse_data(api.post("/chat/completions", json=body).text)

    assert payloads[0]["choices"][0]["delta"]["reasoning"]
    assert payloads[1]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] == "lookup"
    assert payloads[-2]["choices"][0]["finish_reason"] == "tool_calls"


# --- the openai SDK ----------------------------------------------------------------------------------


def test_openai_sdk_can_call_the_emulator(emulator: Emulator, key: str) -> None:
    sdk = openai.OpenAI(
        base_url=BASE_URL, api_key=key, http_client=httpx.Client(transport=emulator.transport())
    )

    result = sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "What is the capital of France?"}]
    )
    stream = sdk.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True,
    )
    chunks = list(stream)

    assert result.choices[0].message.content == "The capital of France is Paris."
    assert result.usage is not None
    assert result.usage.total_tokens == 21
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == result.choices[0].message.content
    )
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 9
    assert len(emulator.generations) == 2


def test_openai_sdk_sees_emulator_errors_as_api_errors(emulator: Emulator) -> None:
    sdk = openai.OpenAI(
        base_url=BASE_URL,
        api_key="sk-or-v1-" + "1" * 64,
        http_client=httpx.Client(transport=emulator.transport()),
    )

    with pytest.raises(openai.AuthenticationError):
        sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
