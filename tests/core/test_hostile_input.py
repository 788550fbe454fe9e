"""Input a user can send never gives a 500: a 4xx in the JSON error shape (issue 12, item 6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.ai_gateway.models import ChatMessage
from apps.usage.models import AIUsageLog

pytestmark = pytest.mark.django_db

JSON_WRITE_ENDPOINTS = [
    ("post", "/api/v1/chat/completions"),
    ("post", "/api/ai/chat/"),
    ("post", "/api/ai/prompt/"),
    ("put", "/api/integrations/openrouter/"),
    ("post", "/api/integrations/openrouter/test/"),
]


@pytest.fixture
def api(user_a: Any) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user_a, name='p').plaintext}")
    return client


def _send(api: APIClient, method: str, path: str, raw: str | bytes) -> Any:
    return getattr(api, method)(path, raw, content_type="application/json")


@pytest.mark.parametrize(("method", "path"), JSON_WRITE_ENDPOINTS)
def test_item6_json_nested_50000_deep_is_a_400(api: APIClient, emulator: Any, method: str, path: str) -> None:
    response = _send(api, method, path, "[" * 50_000 + "]" * 50_000)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "parse_error", "message": "The JSON body is nested too deeply."}
    }
    nested = _send(api, method, path, '{"a":' * 100 + "1" + "}" * 100)  # below the parser's recursion
    assert nested.status_code == 400
    assert nested.json()["error"]["message"] == "The JSON body is nested too deeply."
    assert emulator.requests == []


@pytest.mark.parametrize(
    "raw",
    [
        '{"model": "openai/gpt-4o-mini", "messages": [], "temperature": 1e400}',
        '{"model": "openai/gpt-4o-mini", "messages": [], "temperature": NaN}',
        b'{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
    ],
)
def test_item6_infinite_numbers_nan_and_bad_utf8_are_a_400(
    api: APIClient, emulator: Any, raw: str | bytes
) -> None:
    response = _send(api, "post", "/api/v1/chat/completions", raw)
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "parse_error", "message": "The body is not valid JSON."}}
    assert emulator.requests == []


def test_item6_nul_in_a_json_body_is_a_400(api: APIClient, configured_a: Any, emulator: Any) -> None:
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "a\x00b"}]}
    response = _send(api, "post", "/api/v1/chat/completions", json.dumps(body))
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "parse_error", "message": "The body contains a NUL character."}
    }
    assert emulator.requests == []
    assert AIUsageLog.objects.count() == 0


def test_item6_nul_in_the_chat_page_message_is_refused(user_a: Any, configured_a: Any, emulator: Any) -> None:
    client = Client()
    client.force_login(user_a)
    response = client.post("/dashboard/ai/chat/send/", {"message": "hej\x00då"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.content.decode() == (
        'data: {"error": "The message contains an invalid (NUL) character."}\n\n'
    )
    assert ChatMessage.objects.count() == 0
    assert emulator.requests == []


@pytest.mark.parametrize(
    "raw_id", ["99999999999999999999999", "1e3", "-1", "\u0661"]
)  # the last: an Arabic-Indic digit one
def test_item6_chat_page_conversation_id_out_of_range_is_a_400(
    user_a: Any, configured_a: Any, emulator: Any, raw_id: str
) -> None:
    client = Client()
    client.force_login(user_a)
    response = client.post("/dashboard/ai/chat/send/", {"message": "hej", "conversation_id": raw_id})
    assert response.status_code == 400
    assert emulator.requests == []


@pytest.mark.parametrize("path", ["/api/usage/logs/", "/api/usage/summary/"])
@pytest.mark.parametrize(
    ("param", "value"), [("end", "9999-12-31"), ("start", "9999-12-31"), ("end", "0001-01-01")]
)
def test_item6_dates_near_year_9999_or_0_are_a_400(api: APIClient, path: str, param: str, value: str) -> None:
    response = api.get(path, {param: value})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Invalid input.",
            "fields": {param: ["Dates must lie between 2000-01-01 and 2099-12-31."]},
        }
    }


@pytest.mark.parametrize("path", ["/dashboard/openrouter/", "/dashboard/analytics/"])
@pytest.mark.parametrize("query", ["end=9999-12-31", "start=0000-01-01", "start=9999-12-31&end=9999-12-31"])
def test_item6_dashboards_never_500_on_extreme_dates(user_a: Any, path: str, query: str) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(user_a)
    assert client.get(f"{path}?{query}").status_code in (200, 400)


@pytest.mark.parametrize("debug", [False, True])
def test_item6_a_body_over_the_limit_is_a_413_in_the_error_shape(
    api: APIClient, settings: Any, debug: bool
) -> None:
    settings.DEBUG = debug
    body = json.dumps(
        {"messages": [{"role": "user", "content": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}]}
    )
    response = _send(api, "post", "/api/v1/chat/completions", body)
    assert response.status_code == 413
    assert response.json() == {
        "error": {"code": "request_too_large", "message": "The request body is too large."}
    }
