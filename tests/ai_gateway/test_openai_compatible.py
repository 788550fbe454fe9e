"""POST /api/v1/chat/completions with a standard OpenAI client library and a per-user token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from django.core.wsgi import get_wsgi_application
from rest_framework.test import APIClient

from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import chat_requests
from tests.factories import AISettingsFactory, APITokenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_a(user_a: Any) -> str:
    return APITokenFactory(user=user_a, name="partner").plaintext


@pytest.fixture
def sdk(token_a: str) -> Iterator[openai.OpenAI]:
    """The OpenAI SDK talking to our Django app in-process (WSGI), like a partner would.

    As Django's own test client does, keep the request cycle from closing the test's connection.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    http_client = httpx.Client(transport=httpx.WSGITransport(app=get_wsgi_application()))
    try:
        yield openai.OpenAI(
            base_url="http://testserver/api/v1", api_key=token_a, http_client=http_client, max_retries=0
        )
    finally:
        http_client.close()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_openai_sdk_non_streaming(sdk: openai.OpenAI, configured_a: Any, emulator: Any) -> None:
    completion = sdk.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "Säg hej"}],
        extra_headers={"X-Use-Case": "message_generation"},
    )
    generation = emulator.generations[0]
    assert completion.choices[0].message.content
    assert completion.id == generation.id
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (
        generation.prompt_tokens,
        generation.completion_tokens,
    )
    row = AIUsageLog.objects.get()
    assert (row.use_case, row.status, row.cost_usd) == ("message_generation", "success", generation.cost)


def test_openai_sdk_streaming(sdk: openai.OpenAI, configured_a: Any, emulator: Any) -> None:
    stream = sdk.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "Berätta en kort sak"}],
        stream=True,
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert "".join(pieces)
    row = AIUsageLog.objects.get()
    generation = emulator.generations[0]
    assert (row.status, row.streamed, row.use_case) == ("success", True, "generic")
    assert row.cost_usd == generation.cost
    assert row.completion_tokens == generation.completion_tokens


def test_openai_sdk_sees_provider_errors_as_api_errors(
    sdk: openai.OpenAI, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("rate_limit", times=10, retry_after=7)
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert caught.value.response.headers["Retry-After"] == "7"
    assert AIUsageLog.objects.get().status == "rate_limited"


def _post(client: APIClient, token: str, body: dict[str, Any], **headers: str) -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.post(
        "/api/v1/chat/completions", body, format="json", HTTP_AUTHORIZATION=f"Bearer {token}", **extra
    )


BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hej"}]}


def test_idempotency_key_prevents_a_second_provider_call(
    token_a: str, configured_a: Any, emulator: Any
) -> None:
    client = APIClient()
    first = _post(client, token_a, BODY, **{"Idempotency-Key": "order-42"})
    second = _post(client, token_a, BODY, **{"Idempotency-Key": "order-42"})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert len(chat_requests(emulator)) == 1
    assert AIUsageLog.objects.count() == 1


def test_idempotency_key_reused_with_another_body_is_422(
    token_a: str, configured_a: Any, emulator: Any
) -> None:
    client = APIClient()
    _post(client, token_a, BODY, **{"Idempotency-Key": "k"})
    response = _post(client, token_a, {**BODY, "temperature": 1}, **{"Idempotency-Key": "k"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert len(chat_requests(emulator)) == 1


def test_idempotency_keys_are_per_user(
    token_a: str, user_b: Any, configured_a: Any, emulator: Any, inference_key: str
) -> None:
    AISettingsFactory(user=user_b, openrouter_api_key=inference_key)
    token_b = APITokenFactory(user=user_b, name="b").plaintext
    client = APIClient()
    _post(client, token_a, BODY, **{"Idempotency-Key": "shared"})
    response_b = _post(client, token_b, BODY, **{"Idempotency-Key": "shared"})
    assert response_b.status_code == 200
    assert "Idempotent-Replayed" not in response_b
    assert len(chat_requests(emulator)) == 2
    assert sorted(AIUsageLog.objects.values_list("user__username", flat=True)) == ["alice", "bob"]


def test_a_retryable_failure_is_not_replayed(token_a: str, configured_a: Any, emulator: Any) -> None:
    emulator.inject("rate_limit", times=4)
    client = APIClient()
    limited = _post(client, token_a, BODY, **{"Idempotency-Key": "again"})
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    retried = _post(client, token_a, BODY, **{"Idempotency-Key": "again"})
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried
    assert retried.json()["choices"][0]["message"]["content"]
    assert list(AIUsageLog.objects.order_by("id").values_list("status", flat=True)) == [
        "rate_limited",
        "success",
    ]
    assert len(chat_requests(emulator)) == 5  # 4 rate-limited attempts, then the retry's one


def test_unknown_use_case_and_hostile_fields_are_400(token_a: str, configured_a: Any, emulator: Any) -> None:
    client = APIClient()
    assert _post(client, token_a, BODY, **{"X-Use-Case": "mining"}).status_code == 400
    response = _post(client, token_a, {**BODY, "api_base": "http://evil.example"})
    assert response.status_code == 400
    assert "api_base" in response.json()["error"]["message"]
    assert _post(client, token_a, {**BODY, "model": "x/y#@evil"}).status_code == 400
    assert emulator.requests == []


def test_anonymous_and_revoked_tokens_are_401(token_a: str, user_a: Any, emulator: Any) -> None:
    client = APIClient()
    assert client.post("/api/v1/chat/completions", BODY, format="json").status_code == 401
    from apps.accounts.models import APIToken

    APIToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert _post(client, token_a, BODY).status_code == 401
    assert emulator.requests == []


def test_cost_is_exact_decimal_in_the_response(token_a: str, configured_a: Any, emulator: Any) -> None:
    body = _post(APIClient(), token_a, BODY).json()
    assert Decimal(str(body["usage"]["cost"])) == emulator.generations[0].cost


# ------------------------------------------------------------------ issue 12, one test per item


def _events(response: Any) -> list[Any]:
    """The ``data:`` payloads of an SSE response, JSON-decoded except the final ``[DONE]``."""
    text = b"".join(response.streaming_content).decode()
    payloads = [line[len("data: ") :] for line in text.split("\n\n") if line.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def test_item1_user_field_passes_through_to_openrouter(
    token_a: str, configured_a: Any, emulator: Any
) -> None:
    response = _post(APIClient(), token_a, {**BODY, "user": "customer-17"})
    assert response.status_code == 200
    assert chat_requests(emulator)[0].body["user"] == "customer-17"
    assert AIUsageLog.objects.get().status == "success"


@pytest.mark.parametrize("field", ["use_case", "request_id", "stream_id", "options"])
def test_item1_body_fields_never_bind_to_gateway_arguments(
    token_a: str, configured_a: Any, emulator: Any, field: str
) -> None:
    chosen = "00000000-0000-4000-8000-000000000001"
    response = _post(APIClient(), token_a, {**BODY, field: chosen})
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid_request", "message": f"The field “{field}” is not allowed."}
    }
    assert not AIUsageLog.objects.filter(request_id=chosen).exists()
    assert emulator.requests == []


def test_item1_a_ledger_id_is_never_taken_from_a_caller(
    token_a: str, configured_a: Any, emulator: Any
) -> None:
    import inspect

    from apps.ai_gateway.services import complete

    assert "request_id" not in inspect.signature(complete).parameters
    _post(APIClient(), token_a, BODY)
    _post(APIClient(), token_a, BODY)
    assert AIUsageLog.objects.values("request_id").distinct().count() == 2


def test_item2_streamed_tool_calls_reach_the_caller(token_a: str, configured_a: Any, emulator: Any) -> None:
    body = {**BODY, "stream": True, "tools": TOOLS, "tool_choice": "required"}
    events = _events(_post(APIClient(), token_a, body))
    calls = [c for e in events for ch in e["choices"] for c in ch["delta"].get("tool_calls", [])]
    upstream = emulator.generations[0]
    assert len(calls) == 1
    assert calls[0]["function"]["name"] == "get_weather"
    assert json.loads(calls[0]["function"]["arguments"]).keys() == {"city"}
    assert calls[0]["id"].startswith("call_")
    assert calls[0]["index"] == 0
    assert [ch["finish_reason"] for e in events for ch in e["choices"] if ch["finish_reason"]] == [
        "tool_calls"
    ]
    assert upstream.id == events[0]["id"]


def test_item3_exactly_one_finish_reason_and_usage_last_with_a_numeric_cost(
    token_a: str, configured_a: Any, emulator: Any
) -> None:
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    events = _events(_post(APIClient(), token_a, body))
    finishes = [ch["finish_reason"] for e in events for ch in e["choices"] if ch["finish_reason"] is not None]
    assert finishes == ["stop"]
    *chunks, last = events
    generation = emulator.generations[0]
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] == generation.completion_tokens
    assert isinstance(last["usage"]["cost"], float)
    assert Decimal(str(last["usage"]["cost"])) == generation.cost
    assert all("usage" not in e and e["object"] == "chat.completion.chunk" for e in chunks)
    assert "".join(ch["delta"].get("content") or "" for e in chunks for ch in e["choices"])


def test_item3_no_usage_chunk_unless_asked(token_a: str, configured_a: Any, emulator: Any) -> None:
    events = _events(_post(APIClient(), token_a, {**BODY, "stream": True}))
    assert all("usage" not in e and e["choices"] for e in events)


def test_item4_n_other_than_1_is_a_400_naming_n(token_a: str, configured_a: Any, emulator: Any) -> None:
    response = _post(APIClient(), token_a, {**BODY, "n": 2})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["message"].startswith("“n”")
    assert _post(APIClient(), token_a, {**BODY, "n": 1}).status_code == 200
    assert len(chat_requests(emulator)) == 1
    assert "n" not in chat_requests(emulator)[0].body


def test_item4_store_false_is_a_no_op_and_store_true_a_400(
    token_a: str, configured_a: Any, emulator: Any
) -> None:
    assert _post(APIClient(), token_a, {**BODY, "store": False}).status_code == 200
    refused = _post(APIClient(), token_a, {**BODY, "store": True})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("“store”")
    assert "store" not in chat_requests(emulator)[0].body
    assert len(chat_requests(emulator)) == 1


def test_item4_models_list_in_openai_shape(token_a: str, user_a: Any, emulator: Any) -> None:
    from apps.integrations.account import account_models_get

    response = APIClient().get("/api/v1/models", HTTP_AUTHORIZATION=f"Bearer {token_a}")
    assert response.status_code == 200
    catalogue = account_models_get().value
    assert catalogue is not None
    assert response.json() == {
        "object": "list",
        "data": [
            {"id": m.id, "object": "model", "created": m.created or 0, "owned_by": m.id.split("/")[0]}
            for m in catalogue.data
        ],
    }
    assert len([r for r in emulator.requests if r.path == "/models"]) == 1  # then from the cache
    APIClient().get("/api/v1/models", HTTP_AUTHORIZATION=f"Bearer {token_a}")
    assert len([r for r in emulator.requests if r.path == "/models"]) == 1


def test_item4_models_list_anonymous_is_401(emulator: Any) -> None:
    response = APIClient().get("/api/v1/models")
    assert response.status_code == 401
    assert emulator.requests == []


def test_item4_idempotency_key_replays_a_stream(token_a: str, configured_a: Any, emulator: Any) -> None:
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    first = _post(APIClient(), token_a, body, **{"Idempotency-Key": "stream-1"})
    first_events = _events(first)
    second = _post(APIClient(), token_a, body, **{"Idempotency-Key": "stream-1"})
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert second["Content-Type"] == "text/event-stream"
    assert _events(second) == first_events
    assert len(chat_requests(emulator)) == 1
    assert AIUsageLog.objects.count() == 1


def test_item4_schema_documents_request_and_response_as_components(api_a: APIClient) -> None:
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/chat/completions"]["post"]
    request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request_ref == "#/components/schemas/CreateChatCompletionRequest"
    content = operation["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["$ref"] == "#/components/schemas/ChatCompletion"
    assert content["text/event-stream"]["schema"]["$ref"] == "#/components/schemas/ChatCompletionChunk"
    components = schema["components"]["schemas"]
    assert {"messages", "user", "tools", "stream_options"} <= set(
        components["CreateChatCompletionRequest"]["properties"]
    )
    assert "/api/v1/models" in schema["paths"]


@pytest.mark.parametrize("kind", ["read_timeout", "truncated"])
def test_item5_maybe_billed_outcomes_tell_the_sdk_not_to_retry(
    token_a: str, configured_a: Any, emulator: Any, kind: str
) -> None:
    emulator.inject(kind)
    response = _post(APIClient(), token_a, BODY)
    assert response.status_code in (502, 504)
    assert response["x-should-retry"] == "false"
    assert response.json()["error"]["code"] == "maybe_billed"
    assert len(chat_requests(emulator)) == 1


def test_item5_the_sdk_does_not_retry_a_maybe_billed_outcome(
    token_a: str, configured_a: Any, emulator: Any
) -> None:
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    emulator.inject("read_timeout")
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=get_wsgi_application())) as http_client:
            client = openai.OpenAI(
                base_url="http://testserver/api/v1", api_key=token_a, http_client=http_client, max_retries=2
            )
            with pytest.raises(openai.APIStatusError) as caught:
                client.chat.completions.create(
                    model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
                )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert caught.value.status_code == 504
    assert len(chat_requests(emulator)) == 1
    assert len(emulator.generations) <= 1


def test_item9_a_key_whose_worker_died_is_released_with_the_pending_sweep(
    token_a: str, user_a: Any, configured_a: Any, emulator: Any
) -> None:
    import datetime as dt

    import time_machine

    from apps.ai_gateway.idempotency import request_fingerprint
    from apps.ai_gateway.models import IdempotencyRecord
    from apps.usage.services import usage_expire_stale_pending, usage_start

    start = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        # The first worker wrote its pending row and record, then died before finishing either.
        usage_start(
            user=user_a, use_case="generic", model="openai/gpt-4o-mini", provider="openrouter", streamed=False
        )
        fingerprint = request_fingerprint({"use_case": "generic", "body": BODY})
        IdempotencyRecord.objects.create(user=user_a, key="dead-worker", fingerprint=fingerprint)
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        busy = _post(APIClient(), token_a, BODY, **{"Idempotency-Key": "dead-worker"})
        assert busy.status_code == 409
        assert busy.json()["error"]["code"] == "idempotency_in_progress"
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert usage_expire_stale_pending() == 1
        retried = _post(APIClient(), token_a, BODY, **{"Idempotency-Key": "dead-worker"})
        assert retried.status_code == 200
        assert "Idempotent-Replayed" not in retried
        replayed = _post(APIClient(), token_a, BODY, **{"Idempotency-Key": "dead-worker"})
    assert replayed.json() == retried.json()
    assert replayed["Idempotent-Replayed"] == "true"
    assert len(chat_requests(emulator)) == 1
    assert list(AIUsageLog.objects.order_by("id").values_list("status", flat=True)) == ["timeout", "success"]


def test_item4_a_stream_the_caller_left_is_replayed_as_incomplete(
    token_a: str, configured_a: Any, emulator: Any
) -> None:
    body = {**BODY, "stream": True}
    first = _post(APIClient(), token_a, body, **{"Idempotency-Key": "left-early"})
    iterator = iter(first.streaming_content)
    received = [next(iterator), next(iterator)]
    # The caller hangs up: the server closes the response's iterator, as a WSGI server does; the
    # test client's wrapper then closes the response without closing the test's connection.
    first._iterator.close()
    replay = _events(_post(APIClient(), token_a, body, **{"Idempotency-Key": "left-early"}))
    assert [json.dumps(e, separators=(",", ":")) for e in replay[:2]] == [
        r.decode()[len("data: ") :].strip() for r in received
    ]
    assert replay[-1] == {
        "error": {
            "code": "incomplete_stream",
            "message": "The answer stopped before it was complete. Try again.",
        }
    }
    assert len(chat_requests(emulator)) == 1
    assert AIUsageLog.objects.get().status == "cancelled"
