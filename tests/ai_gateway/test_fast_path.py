"""POST /api/v1/chat/completions is served past the page middleware (ApiFastPathMiddleware).

What it keeps: the view the URLconf names, token authentication, the API's language rule, the
HTTPS rules of SecurityMiddleware, the JSON error shape. What it drops: everything sessions and
pages need, so a browser session is no credential here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import resolve

from apps.ai_gateway.api.openai_compat import ChatCompletionsView
from apps.core.api.throttling import ScopedThrottle
from apps.core.middleware import ApiFastPathMiddleware
from apps.usage.models import AIUsageLog
from tests.factories import APITokenFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/chat/completions"
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hej"}]}


def _post(client: Client, **headers: str) -> Any:
    return client.post(URL, data=json.dumps(BODY), content_type="application/json", headers=headers)


def test_the_fast_path_serves_the_urlconfs_own_view() -> None:
    middleware = ApiFastPathMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    assert settings.API_FAST_PATHS == [URL]
    for path in settings.API_FAST_PATHS:
        assert middleware.views[path] is resolve(path).func


def test_a_token_call_is_answered_with_the_api_headers(user_a: Any, configured_a: Any, emulator: Any) -> None:
    token = APITokenFactory(user=user_a).plaintext
    response = _post(Client(), Authorization=f"Bearer {token}", Accept_Language="sv")
    assert response.status_code == 200
    assert response["Content-Language"] == "sv"
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs
    assert int(response["Content-Length"]) == len(response.content)
    assert not response.cookies  # no session, no CSRF cookie
    assert AIUsageLog.objects.filter(user=user_a).count() == 1


def test_errors_follow_the_api_language_rule(user_a: Any) -> None:
    refused = _post(Client(), Authorization="Bearer not-a-token", Accept_Language="sv")
    assert refused.status_code == 401
    assert refused["Content-Language"] == "sv"
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert refused.json()["error"]["message"] == "Ogiltig eller återkallad API-token."


def test_a_browser_session_is_not_a_credential_here(user_a: Any, configured_a: Any, emulator: Any) -> None:
    client = Client()
    client.force_login(user_a)
    response = _post(client)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert not AIUsageLog.objects.exists()  # nothing was called, nothing recorded
    # The same session still works on the pages and the rest of the API.
    assert client.get("/api/integrations/openrouter/").status_code == 200


def test_other_paths_still_pass_the_page_middleware(user_a: Any) -> None:
    client = Client()
    client.force_login(user_a)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert page["X-Frame-Options"] == "DENY"  # XFrameOptionsMiddleware, below the fast path


@pytest.fixture
def token(user_a: Any) -> str:
    return APITokenFactory(user=user_a).plaintext


@pytest.fixture
def drf_posts(monkeypatch: Any) -> list[str]:
    """Every time the DRF view's own ``post`` runs (the lean path never calls it)."""
    seen: list[str] = []
    original = ChatCompletionsView.post

    def post(self: Any, request: Any) -> Any:
        seen.append(request.content_type)
        return original(self, request)

    monkeypatch.setattr(ChatCompletionsView, "post", post)
    return seen


def test_the_common_call_never_enters_drf_and_answers_as_drf_would(
    token: str, configured_a: Any, emulator: Any, drf_posts: list[str]
) -> None:
    client = Client()
    lean = _post(client, Authorization=f"Bearer {token}")
    assert drf_posts == []
    # With a charset parameter the DRF view answers: the same status, headers and shape.
    drf = client.post(
        URL,
        data=json.dumps(BODY),
        content_type="application/json; charset=utf-8",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert drf_posts == ["application/json; charset=utf-8"]
    assert lean.status_code == drf.status_code == 200
    for header in ("Content-Type", "Allow", "Content-Language"):
        assert lean[header] == drf[header], header
    assert lean.json().keys() == drf.json().keys()
    assert lean.json()["usage"].keys() == drf.json()["usage"].keys()
    assert AIUsageLog.objects.filter(status="success").count() == 2


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({"Authorization": "Bearer nope"}, BODY, 401, "authentication_failed"),
        ({}, BODY, 401, "not_authenticated"),
        ({"Authorization": "Bearer {token}"}, "{not json", 400, "parse_error"),
        ({"Authorization": "Bearer {token}"}, {**BODY, "n": 2}, 400, "invalid_request"),
        ({"Authorization": "Bearer {token}", "X-Use-Case": "astrology"}, BODY, 400, "invalid_request"),
    ],
)
def test_refusals_keep_the_api_error_shape_on_either_path(
    token: str, configured_a: Any, emulator: Any, headers: dict[str, str], body: Any, status: int, code: str
) -> None:
    headers = {name: value.format(token=token) for name, value in headers.items()}
    data = body if isinstance(body, str) else json.dumps(body)
    response = Client().post(URL, data=data, content_type="application/json", headers=headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not emulator.requests


def test_the_throttle_counts_each_call_once_whichever_path_serves_it(
    token: str, configured_a: Any, emulator: Any, monkeypatch: Any, drf_posts: list[str]
) -> None:
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", {"ai": "3/min"})
    client = Client()
    auth = {"Authorization": f"Bearer {token}"}
    with time_machine.travel("2026-11-26 12:00:10Z", tick=False):
        first = _post(client, **auth)  # lean
        second = client.post(  # DRF (a charset parameter)
            URL, data=json.dumps(BODY), content_type="application/json; charset=utf-8", headers=auth
        )
        third = _post(client, **auth)  # lean
        limited = _post(client, **auth)  # lean, over the rate
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 200]
    assert len(drf_posts) == 1
    assert limited.status_code == 429
    assert limited["Content-Type"] == "application/json"
    assert limited.json()["error"]["code"] == "throttled"
    assert 49 <= int(limited["Retry-After"]) <= 51
    assert AIUsageLog.objects.count() == 3  # the refused call made no row and no upstream call


def test_an_idempotent_replay_on_the_lean_path(token: str, configured_a: Any, emulator: Any) -> None:
    client = Client()
    auth = {"Authorization": f"Bearer {token}", "Idempotency-Key": "order-42"}
    first = _post(client, **auth)
    again = _post(client, **auth)
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    reused = client.post(
        URL, data=json.dumps({**BODY, "temperature": 1}), content_type="application/json", headers=auth
    )
    assert (reused.status_code, reused["Content-Type"]) == (422, "application/json")
    assert len(emulator.generations) == 1


def test_the_lean_path_answers_what_the_api_handler_answers_and_lets_the_rest_propagate(
    token: str, configured_a: Any, monkeypatch: Any
) -> None:
    from django.db import IntegrityError

    from apps.ai_gateway.api import openai_compat

    def conflict(**kwargs: Any) -> Any:
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(openai_compat, "complete", conflict)
    answered = _post(Client(), Authorization=f"Bearer {token}")
    assert (answered.status_code, answered["Content-Type"]) == (409, "application/json")
    assert answered.json()["error"]["code"] == "conflict"

    def bug(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(openai_compat, "complete", bug)
    with pytest.raises(RuntimeError):
        _post(Client(), Authorization=f"Bearer {token}")


def test_a_warm_call_makes_only_the_ledger_queries(
    token: str, configured_a: Any, emulator: Any, django_assert_num_queries: Any
) -> None:
    """Token, settings, throttle and prices come from caches: what reaches the database is the
    pending INSERT (before the provider is called), then the finishing UPDATE and the three rollup
    levels (after the response), nothing per request besides."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    auth = {"Authorization": f"Bearer {token}"}
    assert _post(client, **auth).status_code == 200  # fills the caches
    with CaptureQueriesContext(connection) as queries:
        assert _post(client, **auth).status_code == 200
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # (SAVEPOINT/RELEASE: the test runs inside a transaction; a server runs in autocommit.)
    writes = [
        q["sql"].replace('"', "")
        for q in queries.captured_queries
        if q["sql"].split()[0].upper() in {"INSERT", "UPDATE"}
    ]
    assert writes[0].startswith("INSERT INTO ai_usage_logs")
    assert writes[1].startswith("UPDATE ai_usage_logs")
    # The three rollup levels: one request on PostgreSQL, one statement each elsewhere.
    assert len(writes) == 2 + (1 if connection.vendor == "postgresql" else 3)
    assert not [s for s in statements if s == "SELECT"], queries.captured_queries
    with django_assert_num_queries(len(statements)):
        assert _post(client, **auth).status_code == 200
