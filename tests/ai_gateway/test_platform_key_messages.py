"""A tenant on the platform's key is never told to fix it at openrouter.ai: a disabled key (401)
or a spent monthly limit (403) says the platform's key is disabled or at its limit, and to contact
the platform's staff. A tenant's own key keeps OpenRouter's advice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.integrations.clients import platform_client
from apps.integrations.models import AISettings
from apps.integrations.platform_keys import platform_key_create, platform_key_disabled_set
from apps.usage.models import AIUsageLog

pytestmark = pytest.mark.django_db

CHAT = "/api/v1/chat/completions"
TEST = "/dashboard/integrations/ai/test/"
BODY = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


@pytest.fixture
def platform(settings: Any, emulator: Any, management_key: str) -> Any:
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = management_key
    return emulator


def _provision(user: Any, actor: Any) -> AISettings:
    AISettings.objects.get_or_create(user=user)
    platform_key_create(user=user, actor=actor, limit_usd="50")
    return AISettings.objects.get(user=user)


def test_a_disabled_platform_key_says_contact_the_platform(
    platform: Any, user_a: Any, staff: Any, api_a: Any
) -> None:
    _provision(user_a, staff)
    platform_key_disabled_set(user=user_a, actor=staff, disabled=True)

    refused = api_a.post(CHAT, BODY, format="json")

    error = refused.json()["error"]
    assert (refused.status_code, error["code"]) == (400, "invalid_key")
    assert error["message"] == (
        "The platform's OpenRouter key for your account is disabled or no longer valid. "
        "Contact the platform's staff to have it enabled or replaced."
    )
    assert "openrouter.ai" not in error["message"]
    assert AIUsageLog.objects.get(user=user_a).error_message == error["message"]


def test_a_platform_key_over_its_limit_says_contact_the_platform(
    platform: Any, user_a: Any, staff: Any, api_a: Any
) -> None:
    _provision(user_a, staff)
    platform.inject("key_limit")  # OpenRouter's 403: the key's monthly limit is spent

    refused = api_a.post(CHAT, BODY, format="json")

    error = refused.json()["error"]
    assert (refused.status_code, error["code"]) == (403, "key_limit")
    assert error["message"] == (
        "The platform's OpenRouter key for your account has reached its monthly limit. AI calls "
        "resume when it resets on the 1st (UTC), or contact the platform's staff to raise it."
    )
    assert not platform.generations  # nothing was served


def test_a_platform_key_limit_too_small_for_the_call_says_contact_the_platform(
    platform: Any, user_a: Any, staff: Any, api_a: Any
) -> None:
    row = _provision(user_a, staff)
    with platform_client() as client:
        # Less than the call's maximum cost: OpenRouter answers 402 for this key.
        client.key_update(row.platform_key_hash, limit=Decimal("0.0000001"))

    refused = api_a.post(CHAT, BODY, format="json")

    error = refused.json()["error"]
    assert (refused.status_code, error["code"]) == (402, "insufficient_credits")
    assert "Contact the platform's staff." in error["message"]
    assert "openrouter.ai" not in error["message"]


def test_a_tenants_own_key_keeps_openrouters_advice(
    emulator: Any, configured_a: Any, api_a: Any, user_a: Any
) -> None:
    emulator.inject("key_limit")

    refused = api_a.post(CHAT, BODY, format="json")

    error = refused.json()["error"]
    assert (refused.status_code, error["code"]) == (403, "key_limit")
    assert "https://openrouter.ai/settings/keys" in error["message"]


def test_the_connection_test_of_a_disabled_platform_key_says_contact_the_platform(
    platform: Any, user_a: Any, staff: Any, page_a: Any, api_a: Any
) -> None:
    _provision(user_a, staff)
    platform_key_disabled_set(user=user_a, actor=staff, disabled=True)

    tested = " ".join(page_a.post(TEST, {}, HTTP_ACCEPT_LANGUAGE="en").content.decode().split())
    settings_api = api_a.get("/api/integrations/openrouter/").json()

    expected = (
        "OpenRouter does not accept the platform&#x27;s key for your account: it is disabled or no "
        "longer valid. Contact the platform&#x27;s staff."
    )
    assert expected in tested
    assert "openrouter.ai" not in tested
    assert settings_api["api_key"]["status_message"] == expected.replace("&#x27;", "'")
