"""POST /api/v1/chat/completions with a standard OpenAI client library and a per-user token."""

from __future__ import annotations

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
