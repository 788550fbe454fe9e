"""A 500 while saving keys (page, API, admin) never shows the key on the DEBUG error page (item 8)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts.services import api_token_create

pytestmark = pytest.mark.django_db

KEY = "sk-or-v1-" + "5ec12e7" * 9


@pytest.fixture
def failing_store(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Saving fails deep inside the service, after the key was read, with DEBUG on."""
    from apps.integrations import services

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_key_store", broken)
    settings.DEBUG = True


def _assert_secret_free(response: Any) -> None:
    assert response.status_code == 500
    html = response.content.decode()
    assert "RuntimeError" in html  # the technical page, with its frames and POST data
    assert KEY not in html
    assert "5ec12e7" not in html


def test_item8_settings_page(failing_store: None, user_a: Any, emulator: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(user_a)
    response = client.post(
        "/dashboard/integrations/ai/configure/",
        {"api_key": KEY, "ai_provider": "openrouter", "default_model": ""},
    )
    _assert_secret_free(response)


def test_item8_settings_api(failing_store: None, user_a: Any, emulator: Any) -> None:
    token = api_token_create(user=user_a, name="p").plaintext
    response = Client(raise_request_exception=False).put(
        "/api/integrations/openrouter/",
        {"api_key": KEY},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    _assert_secret_free(response)


def test_item8_admin(failing_store: None, admin_user: Any, user_a: Any, emulator: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    response = client.post(
        "/admin/integrations/aisettings/add/",
        {"user": user_a.pk, "new_api_key": KEY, "ai_provider": "openrouter"},
    )
    _assert_secret_free(response)
