"""API messages follow Accept-Language only, English when none is sent."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create

pytestmark = pytest.mark.django_db

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hej"}], "n": 3}


def _post(token: str, **headers: str) -> Any:
    client = APIClient()
    client.cookies["django_language"] = "sv"  # a page visitor's choice does not apply to the API
    return client.post(
        "/api/v1/chat/completions", BODY, format="json", HTTP_AUTHORIZATION=f"Bearer {token}", **headers
    )


def test_api_errors_are_english_without_accept_language(user_a: Any, emulator: Any) -> None:
    response = _post(api_token_create(user=user_a, name="p").plaintext)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("“n”: only one choice per call is supported")
    assert response["Content-Language"] == "en"


def test_api_errors_follow_accept_language(user_a: Any, emulator: Any) -> None:
    token = api_token_create(user=user_a, name="p").plaintext
    swedish = _post(token, HTTP_ACCEPT_LANGUAGE="sv-SE,sv;q=0.9,en;q=0.5")
    unsupported_first = _post(token, HTTP_ACCEPT_LANGUAGE="de-DE, en;q=0.8")
    anonymous = APIClient().get("/api/v1/models", HTTP_ACCEPT_LANGUAGE="sv")
    english_use_case = _post(token, HTTP_X_USE_CASE="mining").json()["error"]["message"]
    swedish_use_case = _post(token, HTTP_X_USE_CASE="mining", HTTP_ACCEPT_LANGUAGE="sv").json()["error"][
        "message"
    ]
    assert english_use_case.startswith("Unknown X-Use-Case")
    assert swedish_use_case.startswith("Okänt X-Use-Case")
    assert swedish["Content-Language"] == "sv"
    assert unsupported_first["Content-Language"] == "en"
    assert anonymous.status_code == 401
    assert anonymous["Content-Language"] == "sv"
    assert anonymous.json() != APIClient().get("/api/v1/models").json()
