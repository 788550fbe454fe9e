"""What the activity sync reads: the configured API key's spend, or the whole OpenRouter account.

The tenant chooses it on the AI tab (the management key section of the Configure dialog) and with
``activity_whole_account`` on ``GET|PUT /api/integrations/openrouter/``; the sync and the live
activity read follow it (OpenRouter's ``api_key_hash`` filter on ``/activity``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.integrations.models import AISettings
from apps.usage.models import AIUsageLog, SyncRun, SyncTrigger
from apps.usage.sync import sync_run_execute, sync_run_request

pytestmark = pytest.mark.django_db

SETTINGS = "/api/integrations/openrouter/"
CONFIGURE = "/dashboard/integrations/ai/configure/"
STATUS = "/dashboard/integrations/ai/status/"
HTMX = {"HTTP_HX_REQUEST": "true"}
DAY = dt.date(2026, 11, 25)
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def page_language() -> str:
    return "en"


def _sync(user: Any) -> SyncRun:
    run, created = sync_run_request(user=user, start=DAY, end=DAY, trigger=SyncTrigger.API, enqueue=False)
    assert created
    return sync_run_execute(run_id=run.pk)


def _activity_queries(emulator: Any, user: Any) -> list[dict[str, str]]:
    management = emulator.key_hash(user.or_management_key)
    # The day itself (a re-sync also reads the day before the last synced day).
    return [
        r.query
        for r in emulator.requests
        if r.path == "/activity" and r.key_hash == management and r.query["date"] == DAY.isoformat()
    ]


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def two_keys(frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any) -> Any:
    """Alice's account: 0.01 USD on the product's key and 0.04 USD on another key, the same day."""
    tenant(user_a)
    other_key = emulator.add_key(user_a.or_account, kind="inference", name="laptop")
    billed(user_a, DAY, MODEL, "0.01")
    billed(user_a, DAY, MODEL, "0.04", key=other_key)
    return user_a


# ------------------------------------------------------------------ the API


def test_put_switches_the_filter_sent_upstream(two_keys: Any, api_a: APIClient, emulator: Any) -> None:
    assert api_a.get(SETTINGS).json()["activity_whole_account"] is False
    _sync(two_keys)
    assert AIUsageLog.objects.get().cost_usd == Decimal("0.01")

    response = api_a.put(SETTINGS, {"activity_whole_account": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["activity_whole_account"] is True
    assert api_a.get(SETTINGS).json()["activity_whole_account"] is True
    assert AuditEvent.objects.get(action="settings_changed").detail == {"fields": ["activity_whole_account"]}
    _sync(two_keys)
    # The adjustment row now holds the whole account's spend of the day and model.
    assert AIUsageLog.objects.get().cost_usd == Decimal("0.05")

    api_a.put(SETTINGS, {"activity_whole_account": False}, format="json")
    _sync(two_keys)
    assert AIUsageLog.objects.get().cost_usd == Decimal("0.01")
    key_hash = emulator.key_hash(two_keys.or_api_key)
    assert _activity_queries(emulator, two_keys) == [
        {"date": "2026-11-25", "api_key_hash": key_hash},
        {"date": "2026-11-25"},
        {"date": "2026-11-25", "api_key_hash": key_hash},
    ]


def test_leaving_the_field_out_keeps_it(two_keys: Any, api_a: APIClient) -> None:
    api_a.put(SETTINGS, {"activity_whole_account": True}, format="json")
    response = api_a.put(SETTINGS, {"use_system_fallback": True}, format="json")
    assert response.status_code == 200
    assert response.json()["activity_whole_account"] is True


def test_the_setting_is_per_user(
    two_keys: Any, user_b: Any, tenant: Any, billed: Any, api_a: APIClient, api_b: APIClient, emulator: Any
) -> None:
    tenant(user_b)
    billed(user_b, DAY, MODEL, "0.02")
    # Alice chooses the whole account; a user id in the body is refused, never obeyed.
    assert api_a.put(SETTINGS, {"activity_whole_account": True}, format="json").status_code == 200
    refused = api_a.put(SETTINGS, {"activity_whole_account": False, "user": user_b.pk}, format="json")
    assert refused.status_code == 400
    assert "user" in refused.json()["error"]["fields"]
    assert api_b.get(SETTINGS).json()["activity_whole_account"] is False
    assert AISettings.objects.get(user=user_b).activity_whole_account is False
    _sync(two_keys)
    _sync(user_b)
    assert _activity_queries(emulator, two_keys) == [{"date": "2026-11-25"}]
    assert _activity_queries(emulator, user_b) == [
        {"date": "2026-11-25", "api_key_hash": emulator.key_hash(user_b.or_api_key)}
    ]
    assert dict(AIUsageLog.objects.values_list("user_id", "cost_usd")) == {
        two_keys.pk: Decimal("0.05"),
        user_b.pk: Decimal("0.02"),
    }


# ------------------------------------------------------------------ the AI tab


def test_the_dialog_shows_and_saves_the_choice(two_keys: Any, page_a: Client, emulator: Any) -> None:
    text = _text(page_a.get(CONFIGURE, **HTMX))
    box = r'<input type="checkbox" name="activity_whole_account" aria-describedby="id_activity_whole_account_helptext" id="id_activity_whole_account"'
    assert re.search(box + ">", text)
    assert 'id="id_activity_whole_account_helptext"' in text
    assert "Sync the whole OpenRouter account" in text
    assert "This API key only" in _text(page_a.get(STATUS))

    form = {"api_key": "", "management_key": "", "ai_provider": "openrouter", "default_model": ""}
    response = page_a.post(CONFIGURE, {**form, "activity_whole_account": "on"}, **HTMX)
    assert response.status_code == 200
    assert AISettings.objects.get(user=two_keys).activity_whole_account is True
    assert re.search(box + " checked>", _text(page_a.get(CONFIGURE, **HTMX)))
    assert 'id="ai-activity-scope"> The whole account </dd>' in _text(page_a.get(STATUS))
    _sync(two_keys)
    assert _activity_queries(emulator, two_keys) == [{"date": "2026-11-25"}]

    # An unticked box is a choice too: back to the API key alone.
    page_a.post(CONFIGURE, form, **HTMX)
    assert AISettings.objects.get(user=two_keys).activity_whole_account is False


def test_the_page_shows_only_my_choice(
    two_keys: Any, user_b: Any, tenant: Any, page_a: Client, api_b: APIClient
) -> None:
    tenant(user_b)
    api_b.put(SETTINGS, {"activity_whole_account": True}, format="json")
    assert 'id="ai-activity-scope"> This API key only </dd>' in _text(page_a.get(STATUS))
    assert 'id="id_activity_whole_account">' in _text(page_a.get(CONFIGURE, **HTMX))  # not checked


# ------------------------------------------------------------------ the keys behind the filter


def _garble(user: Any, column: str) -> None:
    """Store ciphertext no configured key can decrypt in ``column`` (a key from a lost secret)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE user_ai_settings SET {column} = %s WHERE user_id = %s",  # noqa: S608 (a test constant)
            ["gAAAAABnot-a-token-of-any-configured-key", user.pk],
        )


def test_an_unreadable_api_key_needs_attention_instead_of_reading_the_whole_account(
    two_keys: Any, emulator: Any
) -> None:
    _garble(two_keys, "openrouter_api_key")
    run = _sync(two_keys)
    assert (run.state, run.error_code) == ("needs_attention", "api_key_unreadable")
    assert "API key can no longer be read" in run.error
    assert [r for r in emulator.requests if r.path == "/activity"] == []
    assert not AIUsageLog.objects.exists()


def test_an_unreadable_api_key_does_not_matter_for_the_whole_account(
    two_keys: Any, api_a: APIClient, emulator: Any
) -> None:
    api_a.put(SETTINGS, {"activity_whole_account": True}, format="json")
    _garble(two_keys, "openrouter_api_key")
    assert _sync(two_keys).state == "succeeded"
    assert _activity_queries(emulator, two_keys) == [{"date": "2026-11-25"}]


def test_an_unreadable_management_key_needs_attention(two_keys: Any, emulator: Any) -> None:
    _garble(two_keys, "openrouter_management_key")
    run = _sync(two_keys)
    assert (run.state, run.error_code) == ("needs_attention", "management_key_missing")
    assert "management key can no longer be read" in run.error
    assert emulator.requests == []


def test_without_an_api_key_the_whole_account_is_read(two_keys: Any, emulator: Any) -> None:
    AISettings.objects.filter(user=two_keys).update(openrouter_api_key="", api_key_last4="")
    assert _sync(two_keys).state == "succeeded"
    assert _activity_queries(emulator, two_keys) == [{"date": "2026-11-25"}]
    assert AIUsageLog.objects.get().cost_usd == Decimal("0.05")
