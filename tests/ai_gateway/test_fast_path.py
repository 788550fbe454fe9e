"""POST /api/v1/chat/completions is served past the page middleware (ApiFastPathMiddleware).

What it keeps: the view the URLconf names, token authentication, the API's language rule, the
HTTPS rules of SecurityMiddleware, the JSON error shape. What it drops: everything sessions and
pages need, so a browser session is no credential here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve

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
