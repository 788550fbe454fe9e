"""Scripted faults: every kind, on chat and elsewhere, and how they are matched and billed."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from apps.emulator import Account, Emulator

from .test_emulator_helpers import FakeClock, chat_body, client, example, key_usage, sse_data, sse_events


def _account_of(emulator: Emulator, key: str) -> Account:
    registered = emulator.key(key)
    assert registered is not None
    return registered.account


STORY = chat_body("Tell me a story about a bakery in Malmo", model="deepseek/deepseek-chat-v3.1")


def test_rate_limit_fault_is_an_upstream_429_with_retry_after(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("rate_limit", retry_after=7)

    response = api.post("/chat/completions", json=chat_body(model="openai/gpt-oss-120b:free"))

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert not any(name.startswith("x-ratelimit") for name in response.headers)
    assert response.json() == {
        "error": {
            "message": "Provider returned error",
            "code": 429,
            "metadata": {
                "raw": "openai/gpt-oss-120b:free is temporarily rate-limited upstream. Please retry shortly, or add "
                "your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations",
                "provider_name": "Chutes",
                "is_byok": False,
            },
        },
        "user_id": "user_2zR8xQy7LmNpVb3KdWfT1hGcJsE",
    }
    assert emulator.generations == []
    assert len(emulator.requests) == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "openai/gpt-4o-mini is not a valid model ID"),
        (
            404,
            "No endpoints found matching your data policy (Zero data retention). Configure: https://openrouter.ai/settings/privacy",
        ),
        (408, "Operation timed out. Please try again later."),
        (502, "Provider returned error"),
        (503, "No allowed providers are available for the selected model."),
    ],
)
def test_status_faults_return_the_real_error_and_bill_nothing(
    emulator: Emulator, api: httpx.Client, key: str, status: int, message: str
) -> None:
    emulator.inject("status", status=status)

    response = api.post("/chat/completions", json=chat_body())

    assert response.status_code == status
    assert response.json()["error"]["message"] == message
    assert emulator.generations == []
    assert key_usage(emulator, key) == 0
    assert api.post("/chat/completions", json=chat_body()).status_code == 200  # used up after one request


def test_read_timeout_reaches_the_server_bills_and_raises(
    emulator: Emulator, api: httpx.Client, key: str
) -> None:
    emulator.inject("read_timeout")

    with pytest.raises(httpx.ReadTimeout):
        api.post("/chat/completions", json=chat_body())

    assert [r.path for r in emulator.requests] == ["/chat/completions"]
    [generation] = emulator.generations
    assert generation.cancelled is False
    assert generation.finish_reason == "stop"
    assert key_usage(emulator, key) == generation.cost > 0


def test_read_timeout_on_a_stream_raises_before_any_byte(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("read_timeout")

    with (
        pytest.raises(httpx.ReadTimeout),
        api.stream("POST", "/chat/completions", json=chat_body(stream=True)),
    ):
        pass

    assert emulator.generations[0].streamed is True


def test_slow_trickle_spaces_stream_chunks(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("slow_trickle", delay=0.02)
    started = time.monotonic()

    response = api.post("/chat/completions", json=chat_body(stream=True))

    payloads = sse_data(response.text)
    assert time.monotonic() - started >= 0.02 * (len(payloads) - 1)
    assert payloads[-1] == "[DONE]"
    assert len(emulator.generations) == 1


def test_slow_trickle_sends_a_plain_body_in_pieces(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("slow_trickle", delay=0.01)

    with api.stream("POST", "/chat/completions", json=chat_body()) as response:
        pieces = list(response.iter_raw())

    assert len(pieces) > 4
    assert (
        json.loads(b"".join(pieces))["choices"][0]["message"]["content"] == "The capital of France is Paris."
    )


def test_non_json_fault(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("non_json")

    response = api.post("/chat/completions", json=chat_body())

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert emulator.generations == []


def test_truncated_plain_body_is_invalid_json_but_billed(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("truncated")

    response = api.post("/chat/completions", json=chat_body())

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert response.text.startswith('{"id":"gen-')
    assert len(emulator.generations) == 1


def test_truncated_stream_stops_inside_a_chunk(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("truncated")

    response = api.post("/chat/completions", json={**STORY, "stream": True})

    events = sse_events(response.text)
    assert "data: [DONE]" not in events
    assert events[-1].startswith("data: {")
    assert not events[-1].endswith("}")
    assert emulator.generations[0].finish_reason == "stop"


@pytest.mark.parametrize(("params", "status"), [({}, 502), ({"status": 503}, 503)])
def test_html_fault_is_an_edge_error_page(
    emulator: Emulator, api: httpx.Client, params: dict[str, Any], status: int
) -> None:
    emulator.inject("html", **params)

    response = api.post("/chat/completions", json=chat_body())

    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
    assert emulator.generations == []


def test_error_200_is_a_200_with_only_an_error(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("error_200")

    response = api.post("/chat/completions", json=chat_body())

    assert response.status_code == 200
    assert list(response.json()) == ["error", "user_id"]
    assert response.json()["error"]["code"] == 502
    assert emulator.generations == []


def test_midstream_error_bills_the_partial_stream(emulator: Emulator, api: httpx.Client, key: str) -> None:
    full = api.post("/chat/completions", json=STORY).json()["usage"]
    emulator.inject("midstream_error", after=3)

    payloads = sse_data(api.post("/chat/completions", json={**STORY, "stream": True}).text)

    assert [p["choices"][0]["delta"]["content"] for p in payloads[:3]] == ["Here", " is", " a"]
    assert payloads[3]["choices"][0]["finish_reason"] == "error"
    assert payloads[3]["error"]["message"] == "Provider disconnected unexpectedly"
    assert payloads[4] == "[DONE]"
    partial = emulator.generations[1]
    assert (partial.finish_reason, partial.cancelled) == ("error", False)
    assert partial.completion_tokens == 3  # ceil(len("Here is a") / 4)
    assert partial.prompt_tokens == full["prompt_tokens"]
    assert key_usage(emulator, key) == emulator.generations[0].cost + partial.cost


def test_midstream_error_without_stream_is_a_200_with_an_error_choice(
    emulator: Emulator, api: httpx.Client
) -> None:
    emulator.inject("midstream_error")

    body = api.post("/chat/completions", json=STORY).json()

    assert body["error"]["code"] == 502
    assert body["choices"][0]["finish_reason"] == "error"
    assert body["usage"]["completion_tokens"] == emulator.generations[0].completion_tokens
    assert emulator.generations[0].finish_reason == "error"


def test_stream_no_usage_ends_after_the_content(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("stream_no_usage")

    payloads = sse_data(api.post("/chat/completions", json=chat_body(stream=True)).text)

    assert "[DONE]" not in payloads
    assert all("usage" not in p and p["choices"][0]["finish_reason"] is None for p in payloads)
    assert emulator.generations[0].completion_tokens == 9  # served and billed in full


def test_missing_usage_leaves_usage_out_but_bills(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("missing_usage", times=2)

    plain = api.post("/chat/completions", json=chat_body()).json()
    streamed = sse_data(api.post("/chat/completions", json=chat_body(stream=True)).text)

    assert "usage" not in plain
    assert plain["choices"][0]["finish_reason"] == "stop"
    assert streamed[-1] == "[DONE]"
    assert streamed[-2]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in p for p in streamed[:-1])
    assert len(emulator.generations) == 2


# --- matching ------------------------------------------------------------------------------------


def test_faults_match_their_key_and_are_used_up_in_order(emulator: Emulator, key: str) -> None:
    other = emulator.add_key(emulator.add_account())
    emulator.inject("status", status=503, key=key, times=2)
    emulator.inject("status", status=408)

    other_first = client(emulator, other).post("/chat/completions", json=chat_body())
    statuses = [
        client(emulator, key).post("/chat/completions", json=chat_body()).status_code for _ in range(3)
    ]

    assert other_first.status_code == 408  # the key-bound fault skipped it; the next one matched
    assert statuses == [503, 503, 200]


def test_faults_on_other_endpoints(emulator: Emulator, key: str) -> None:
    admin = client(emulator, emulator.add_key(_account_of(emulator, key), kind="management"))
    emulator.inject("status", status=503, path="/credits")
    emulator.inject("html", path="/api/v1/key")
    emulator.inject("rate_limit", path="/models", retry_after=2)
    emulator.inject("truncated", path="/models")

    assert admin.get("/credits").status_code == 503
    assert admin.get("/key").headers["content-type"].startswith("text/html")
    limited = client(emulator).get("/models")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    with pytest.raises(json.JSONDecodeError):
        client(emulator).get("/models").json()
    assert client(emulator).get("/models").status_code == 200


def test_read_timeout_on_key_creation_still_creates_the_key(emulator: Emulator, key: str) -> None:
    admin = client(emulator, emulator.add_key(_account_of(emulator, key), kind="management"))
    emulator.inject("read_timeout", path="/keys")

    with pytest.raises(httpx.ReadTimeout):
        admin.post("/keys", json={"name": "lost-response"})

    assert [k["name"] for k in admin.get("/keys").json()["data"]] == ["lost-response", "app"]


def test_insufficient_credits_fault_is_the_real_402_and_bills_nothing(
    emulator: Emulator, api: httpx.Client, key: str
) -> None:
    emulator.inject("insufficient_credits")

    response = api.post("/chat/completions", json=chat_body())

    assert response.status_code == 402
    assert response.json() == example("error_402.json")
    assert (emulator.generations, key_usage(emulator, key)) == ([], 0)
    assert api.post("/chat/completions", json=chat_body()).status_code == 200  # used up after one request


def test_key_limit_fault_is_the_real_403_with_the_window_word(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("key_limit", window="monthly")
    emulator.inject("key_limit")  # a key without a limit window reads "total"

    monthly = api.post("/chat/completions", json=chat_body())
    total = api.post("/chat/completions", json=chat_body(stream=True))

    assert (monthly.status_code, total.status_code) == (403, 403)
    assert monthly.json() == example("error_403_key_limit.json")
    assert total.json() == {
        "error": {
            "message": "Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys",
            "code": 403,
        }
    }
    assert emulator.generations == []


def test_moderation_fault_is_a_403_with_the_moderation_metadata(
    emulator: Emulator, api: httpx.Client
) -> None:
    flagged = "Skriv ett hotbrev till grannen " + "x" * 120
    emulator.inject("moderation", reasons=["harassment", "violence"])

    response = api.post("/chat/completions", json=chat_body(flagged))

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "message": 'openai/gpt-4o-mini requires moderation on OpenAI. Your input was flagged for "harassment, '
            'violence". No credits were charged.',
            "code": 403,
            "metadata": {
                "reasons": ["harassment", "violence"],
                "flagged_input": flagged[:100],
                "provider_name": "OpenAI",
                "model_slug": "openai/gpt-4o-mini",
            },
        },
        "user_id": "user_2zR8xQy7LmNpVb3KdWfT1hGcJsE",
    }
    assert emulator.generations == []


def test_moderation_on_the_first_model_falls_back_to_the_next(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("moderation", model="openai/gpt-4o-mini")

    response = api.post(
        "/chat/completions",
        json=chat_body(models=["deepseek/deepseek-chat-v3.1"], model="openai/gpt-4o-mini"),
    )

    assert response.status_code == 200
    assert response.json()["model"] == "deepseek/deepseek-chat-v3.1"
    assert [g.model for g in emulator.generations] == ["deepseek/deepseek-chat-v3.1"]


@pytest.mark.parametrize(
    ("scope", "limit", "reset_ms", "retry_after", "message"),
    [
        ("minute", "20", "1787412300000", "17", "Rate limit exceeded: free-models-per-min. "),
        (
            "day",
            "50",
            "1787443200000",
            "30917",
            "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day",
        ),
    ],
)
def test_free_rate_limit_fault_is_openrouters_429_with_retry_after(
    emulator: Emulator,
    api: httpx.Client,
    clock: FakeClock,
    scope: str,
    limit: str,
    reset_ms: str,
    retry_after: str,
    message: str,
) -> None:
    emulator.inject("free_rate_limit", scope=scope)

    response = api.post("/chat/completions", json=chat_body(model="openai/gpt-oss-120b:free"))

    # The clock reads 15:24:43.517 UTC: the minute resets at 15:25:00, the day at 00:00 UTC.
    assert response.status_code == 429
    headers = {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset_ms}
    assert {name: response.headers[name] for name in headers} == headers
    assert response.headers["Retry-After"] == retry_after
    assert response.json() == {
        "error": {"message": message, "code": 429, "metadata": {"headers": headers, "provider_name": None}},
        "user_id": "user_2zR8xQy7LmNpVb3KdWfT1hGcJsE",
    }
    assert emulator.generations == []


def test_free_model_caps_send_retry_after_until_the_reset(emulator: Emulator, api: httpx.Client) -> None:
    for _ in range(20):
        assert (
            api.post("/chat/completions", json=chat_body(model="openai/gpt-oss-120b:free")).status_code == 200
        )

    capped = api.post("/chat/completions", json=chat_body(model="openai/gpt-oss-120b:free"))

    assert capped.status_code == 429
    assert capped.json()["error"]["message"] == "Rate limit exceeded: free-models-per-min. "
    assert capped.headers["X-RateLimit-Reset"] == "1787412300000"
    assert capped.headers["Retry-After"] == "17"


def test_admission_faults_are_scriptable_through_the_control_endpoint() -> None:
    emulator = Emulator(control_endpoints=True)
    control = httpx.Client(transport=emulator.transport(), base_url="http://openrouter.test")
    created = control.post("/_emulator/faults", json={"kind": "key_limit", "window": "daily"})
    refused = control.post("/_emulator/faults", json={"kind": "key_limit", "window": "hourly"})

    assert created.status_code == 201
    assert created.json()["fault"]["kind"] == "key_limit"
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("explode", {}),
        ("status", {"status": 500}),
        ("status", {}),
        ("midstream_error", {"path": "/credits"}),
        ("insufficient_credits", {"path": "/credits"}),
        ("key_limit", {"window": "hourly"}),
        ("free_rate_limit", {"scope": "week"}),
    ],
)
def test_invalid_faults_are_refused(emulator: Emulator, kind: str, params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        emulator.inject(kind, **params)


def test_zero_times_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="times"):
        emulator.inject("non_json", times=0)
