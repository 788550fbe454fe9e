"""``/api/integrations/openrouter/…``: settings with write-only keys, connection test, account data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.emulator.state import UsageEvent
from apps.integrations.models import AISettings
from apps.integrations.selectors import openrouter_api_key_get
from apps.integrations.services import ai_settings_update
from tests.factories import PASSWORD, APITokenFactory

pytestmark = pytest.mark.django_db

BASE = "/api/integrations/openrouter/"
ENDPOINTS = [
    ("get", BASE),
    ("put", BASE),
    ("post", f"{BASE}test/"),
    ("get", f"{BASE}credits/"),
    ("get", f"{BASE}key/"),
    ("get", f"{BASE}models/"),
    ("get", f"{BASE}activity/"),
]
MODELS_EMPTY = {
    "chat": "",
    "lead_enrichment": "",
    "review_analysis": "",
    "sms_classification": "",
    "message_generation": "",
    "generic": "",
}
NO_KEY = {
    "configured": False,
    "last4": "",
    "status": "unverified",
    "status_detail": "",
    "status_message": "",
    "verified_at": None,
}


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def _key_state(
    last4: str, *, verified: str | None = "2026-11-20T11:00:00+01:00", detail: str = ""
) -> dict[str, Any]:
    return {
        "configured": True,
        "last4": last4,
        "status": "ok" if not detail else "failing",
        "status_detail": detail,
        "status_message": "",
        "verified_at": verified,
    }


# ------------------------------------------------------------------ access


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_requests_are_401(db: Any, method: str, url: str) -> None:
    response = getattr(APIClient(), method)(url, {}, format="json")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided."}
    }


@pytest.mark.parametrize(("method", "url"), [("put", BASE), ("post", f"{BASE}test/")])
def test_session_writes_need_the_csrf_token(user_a: Any, inference_key: str, method: str, url: str) -> None:
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=user_a.username, password=PASSWORD)
    response = getattr(client, method)(url, {"api_key": inference_key}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]
    assert not AISettings.objects.exists()


def test_token_clients_need_no_csrf_token(user_a: Any, inference_key: str, clock: Any) -> None:

    token = APITokenFactory(user=user_a, name="partner").plaintext
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.put(BASE, {"api_key": inference_key}, format="json").status_code == 200


# ------------------------------------------------------------------ settings


def test_a_new_user_reads_the_defaults(api_a: APIClient) -> None:
    response = api_a.get(BASE)
    assert response.status_code == 200
    assert response.json() == {
        "ai_provider": "openrouter",
        "use_system_fallback": False,
        "default_model": "",
        "models": MODELS_EMPTY,
        "api_key": NO_KEY,
        "api_key_source": "own",
        "platform_key": None,
        "management_key": NO_KEY,
        "activity_whole_account": False,
        "updated_at": None,
    }
    assert not AISettings.objects.exists()


def test_put_saves_tests_and_returns_the_settings_without_keys(
    api_a: APIClient, user_a: Any, clock: Any, inference_key: str, management_key: str
) -> None:
    response = api_a.put(
        BASE,
        {
            "api_key": inference_key,
            "management_key": management_key,
            "ai_provider": "system",
            "use_system_fallback": True,
            "default_model": "openai/gpt-4o-mini",
            "models": {
                "chat": "anthropic/claude-haiku-4.5",
                "sms_classification": "openai/gpt-oss-120b:free",
            },
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "ai_provider": "system",
        "use_system_fallback": True,
        "default_model": "openai/gpt-4o-mini",
        "models": {
            **MODELS_EMPTY,
            "chat": "anthropic/claude-haiku-4.5",
            "sms_classification": "openai/gpt-oss-120b:free",
        },
        "api_key": _key_state(inference_key[-4:]),
        "api_key_source": "own",
        "platform_key": None,
        "management_key": _key_state(management_key[-4:]),
        "activity_whole_account": False,
        "updated_at": "2026-11-20T11:00:00+01:00",
    }
    assert openrouter_api_key_get(user=user_a) == inference_key
    assert sorted(AuditEvent.objects.values_list("action", flat=True)) == [
        "key_created",
        "key_created",
        "settings_changed",
    ]


def test_put_reports_a_key_in_the_wrong_field(
    api_a: APIClient, clock: Any, inference_key: str, management_key: str
) -> None:
    response = api_a.put(BASE, {"api_key": management_key}, format="json")
    assert response.status_code == 200
    assert response.json()["api_key"] == {
        **_key_state(management_key[-4:], detail="management_key_in_api_field"),
        "status_message": (
            "This is a management key. It cannot make AI calls: put it in the “Provisioning / management key” "
            "field and use an inference API key (from openrouter.ai/settings/keys) here."
        ),
    }


def test_put_leaves_out_fields_unchanged_and_removes_keys_on_request(
    api_a: APIClient, user_a: Any, clock: Any, inference_key: str, management_key: str
) -> None:
    ai_settings_update(
        user=user_a,
        actor=user_a,
        api_key=inference_key,
        management_key=management_key,
        default_model="openai/gpt-5-mini",
    )
    response = api_a.put(BASE, {"api_key": "", "remove_management_key": True}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["default_model"] == "openai/gpt-5-mini"
    assert body["api_key"]["last4"] == inference_key[-4:]
    assert body["management_key"] == NO_KEY
    assert AuditEvent.objects.filter(action="key_removed", detail__slot="management").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"base_url": "https://evil.test/api/v1"}, "base_url"),
        ({"api_base": "https://evil.test"}, "api_base"),
        ({"models": {"chat": "openai/gpt-4o-mini", "base_url": "https://evil.test"}}, "models"),
        ({"user": 2, "api_key": "sk-or-v1-" + "0" * 64}, "user"),
        ({"api_key": "sk-or-v1-" + "0" * 30 + "\r\nX-Evil: 1"}, "api_key"),
        ({"api_key": "pk-or-v1-" + "0" * 64}, "api_key"),
        ({"management_key": "not-a-key"}, "management_key"),
        ({"default_model": "openai/gpt-4o-mini#@evil.test"}, "default_model"),
        ({"default_model": "openai%2Fgpt-4o-mini"}, "default_model"),
        ({"default_model": "openai/../../keys"}, "default_model"),
        ({"default_model": "openai/gpt-4o-mini\r\n"}, "default_model"),
        ({"default_model": "openai/gpt-7-turbo"}, "default_model"),
        ({"models": {"chat": "anthropic/claude-x@evil"}}, "models"),
        ({"ai_provider": "lovable"}, "ai_provider"),
        ({"use_system_fallback": "maybe"}, "use_system_fallback"),
        ({"activity_whole_account": "everything"}, "activity_whole_account"),
        ({"activity_whole_account": None}, "activity_whole_account"),
    ],
)
def test_put_refuses_bad_or_unknown_fields(
    api_a: APIClient, emulator: Any, body: dict[str, Any], field: str
) -> None:
    response = api_a.put(BASE, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("invalid", "Invalid input.")
    assert field in error["fields"]
    assert "sk-or-v1-" not in response.content.decode()
    assert not AISettings.objects.exists()
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize("url", [BASE, f"{BASE}test/"])
def test_a_body_that_is_not_an_object_is_400(api_a: APIClient, emulator: Any, url: str) -> None:
    method = api_a.put if url == BASE else api_a.post
    response = method(url, ["sk-or-v1-" + "0" * 64], format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Invalid input.",
            "fields": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
        }
    }
    assert not AISettings.objects.exists()
    assert emulator.requests == []


def test_a_users_settings_are_their_own(api_a: APIClient, user_b: Any, inference_key: str) -> None:
    ai_settings_update(
        user=user_b, actor=user_b, api_key=inference_key, default_model="openai/gpt-5-mini", verify=False
    )
    body = api_a.get(BASE, {"user": user_b.pk}).json()
    assert (body["api_key"], body["default_model"]) == (NO_KEY, "")
    api_a.put(BASE, {"default_model": "openai/gpt-4o-mini"}, format="json")
    row_b = AISettings.objects.get(user=user_b)
    assert row_b.default_model == "openai/gpt-5-mini"
    assert AISettings.objects.count() == 2


# ------------------------------------------------------------------ test connection


def test_testing_entered_keys(api_a: APIClient, clock: Any, inference_key: str, management_key: str) -> None:
    response = api_a.post(
        f"{BASE}test/", {"api_key": inference_key, "management_key": management_key}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "api_key": {
            "slot": "api",
            "outcome": "ok",
            "ok": True,
            "label": "Connected",
            "message": "Valid inference API key: it can make AI calls.",
            "detail": "",
            "source": "entered",
            "last4": inference_key[-4:],
            "is_management_key": False,
            "balance": "100.000000000",
            "limit": None,
            "limit_remaining": None,
            "limit_reset": None,
        },
        "management_key": {
            "slot": "management",
            "outcome": "ok",
            "ok": True,
            "label": "Connected",
            "message": "Valid management key: the account balance and activity history are available.",
            "detail": "",
            "source": "entered",
            "last4": management_key[-4:],
            "is_management_key": True,
            "balance": "100.000000000",
            "limit": None,
            "limit_remaining": None,
            "limit_reset": None,
        },
    }
    assert not AISettings.objects.exists()


def test_testing_stored_keys_uses_your_own(
    api_a: APIClient, user_a: Any, user_b: Any, emulator: Any, account: Any, inference_key: str
) -> None:
    key_b = emulator.add_key(account, kind="inference", limit=Decimal(0))
    ai_settings_update(user=user_b, actor=user_b, api_key=key_b, verify=False)
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    emulator.reset_ledger()
    body = api_a.post(f"{BASE}test/", {}, format="json").json()
    assert (body["ok"], body["api_key"]["outcome"], body["api_key"]["source"]) == (True, "ok", "stored")
    assert body["management_key"]["outcome"] == "not_configured"
    assert {r.key_hash for r in emulator.requests} == {emulator.key_hash(inference_key)}


def test_testing_a_key_at_its_limit(api_a: APIClient, emulator: Any, account: Any) -> None:
    key = emulator.add_key(account, kind="inference", limit=Decimal(2), limit_reset="daily")
    emulator.key(key).add_spend(dt.datetime.now(dt.UTC).date(), Decimal(2))
    check = api_a.post(f"{BASE}test/", {"api_key": key}, format="json").json()["api_key"]
    assert (
        check["outcome"],
        check["ok"],
        check["limit"],
        check["limit_remaining"],
        check["limit_reset"],
    ) == (
        "key_limit",
        False,
        "2.000000000",
        "0.000000000",
        "daily",
    )


def test_testing_a_malformed_key_is_400(api_a: APIClient, emulator: Any) -> None:
    response = api_a.post(f"{BASE}test/", {"api_key": "sk-or-v1-abc def-0123456789"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "api_key": [
            "The key contains spaces, line breaks or invisible characters. Copy it again from OpenRouter."
        ]
    }
    assert emulator.requests == []


# ------------------------------------------------------------------ account


def test_credits_with_a_management_key(
    api_a: APIClient, user_a: Any, clock: Any, inference_key: str, management_key: str
) -> None:
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management_key, verify=False
    )
    response = api_a.get(f"{BASE}credits/")
    assert response.status_code == 200
    assert response.json() == {
        "fetched_at": "2026-11-20T11:00:00+01:00",
        "age_seconds": 0,
        "stale": False,
        "problem": None,
        "data": {
            "source": "account",
            "remaining": "100.000000000",
            "total_credits": "100.000000000",
            "total_usage": "0.000000000",
            "limit": None,
            "limit_reset": None,
            "usage": None,
            "usage_daily": None,
            "usage_weekly": None,
            "usage_monthly": None,
        },
    }


def test_credits_without_a_management_key_are_the_keys_limit(
    api_a: APIClient, user_a: Any, clock: Any, emulator: Any, account: Any
) -> None:
    key = emulator.add_key(account, kind="inference", limit=Decimal(10), limit_reset="weekly")
    ai_settings_update(user=user_a, actor=user_a, api_key=key, verify=False)
    data = api_a.get(f"{BASE}credits/").json()["data"]
    assert (data["source"], data["remaining"], data["limit"], data["limit_reset"], data["total_credits"]) == (
        "key_limit",
        "10.000000000",
        "10.000000000",
        "weekly",
        None,
    )


def test_credits_stale_after_a_failure(
    api_a: APIClient, user_a: Any, clock: Any, emulator: Any, inference_key: str, management_key: str
) -> None:
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management_key, verify=False
    )
    api_a.get(f"{BASE}credits/")
    emulator.inject("status", times=20, path="/credits", status=502)
    clock.shift(125)
    body = api_a.get(f"{BASE}credits/").json()
    assert {k: body[k] for k in ("fetched_at", "age_seconds", "stale", "problem")} == {
        "fetched_at": "2026-11-20T11:00:00+01:00",
        "age_seconds": 125,
        "stale": True,
        "problem": {
            "code": "provider_error",
            "message": "The model provider returned an error. Try again or choose another model.",
        },
    }
    assert body["data"]["remaining"] == "100.000000000"


def test_account_endpoints_without_keys_are_409(api_a: APIClient, emulator: Any) -> None:
    for name in ("credits", "key", "activity/?live=true"):
        response = api_a.get(f"{BASE}{name}/".replace("/?live=true/", "/?live=true"))
        assert response.status_code == 409, name
        assert response.json()["error"]["code"] == "openrouter_key_missing"
    assert emulator.requests == []


def test_account_failures_with_nothing_known(
    api_a: APIClient, user_a: Any, emulator: Any, inference_key: str
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    emulator.inject("status", times=20, path="/key", status=503)
    response = api_a.get(f"{BASE}key/")
    assert response.status_code == 502
    assert response.json() == {
        "error": {
            "code": "unavailable",
            "message": "OpenRouter or the model provider is temporarily unavailable.",
        }
    }


def test_rate_limited_with_nothing_known_is_429_with_retry_after(
    api_a: APIClient, user_a: Any, emulator: Any, inference_key: str
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    emulator.inject("rate_limit", times=20, path="/key", retry_after=0)
    response = api_a.get(f"{BASE}key/")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response.json()["error"]["code"] == "rate_limited"


def test_key_info(api_a: APIClient, user_a: Any, clock: Any, emulator: Any, account: Any) -> None:
    key = emulator.add_key(account, kind="inference", limit=Decimal(20), limit_reset="monthly")
    ai_settings_update(user=user_a, actor=user_a, api_key=key, verify=False)
    response = api_a.get(f"{BASE}key/")
    assert response.status_code == 200
    zero = "0.000000000"
    assert response.json() == {
        "fetched_at": "2026-11-20T11:00:00+01:00",
        "age_seconds": 0,
        "stale": False,
        "problem": None,
        "data": {
            "is_management_key": False,
            "limit": "20.000000000",
            "limit_remaining": "20.000000000",
            "limit_reset": "monthly",
            "include_byok_in_limit": False,
            "usage": zero,
            "usage_daily": zero,
            "usage_weekly": zero,
            "usage_monthly": zero,
            "byok_usage": zero,
            "is_free_tier": False,
            "expires_at": None,
        },
    }


def test_models_are_paginated_with_prices_per_million(api_a: APIClient, clock: Any, emulator: Any) -> None:
    response = api_a.get(f"{BASE}models/", {"page_size": 3})
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("count", "next", "previous", "stale", "problem", "age_seconds")} == {
        "count": 10,
        "next": "http://testserver/api/integrations/openrouter/models/?page=2&page_size=3",
        "previous": None,
        "stale": False,
        "problem": None,
        "age_seconds": 0,
    }
    assert [m["id"] for m in body["results"]] == [
        "anthropic/claude-haiku-4.5",
        "anthropic/claude-sonnet-4.6",
        "deepseek/deepseek-chat-v3.1",
    ]
    assert body["results"][1] == {
        "id": "anthropic/claude-sonnet-4.6",
        "canonical_slug": "anthropic/claude-4.6-sonnet-20260217",
        "name": "Anthropic: Claude Sonnet 4.6",
        "context_length": 1000000,
        "input_modalities": ["text", "image"],
        "output_modalities": ["text"],
        "prompt_price_per_million": "3.000000000",
        "completion_price_per_million": "15.000000000",
        "is_free": False,
        "variable_pricing": False,
    }


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ({"search": "gpt-oss"}, ["openai/gpt-oss-120b", "openai/gpt-oss-120b:free"]),
        ({"max_price": "0"}, ["openai/gpt-oss-120b:free"]),
        (
            {"modality": "text", "max_price": "0.6"},
            ["openai/gpt-4o-mini", "openai/gpt-oss-120b", "openai/gpt-oss-120b:free"],
        ),
    ],
)
def test_models_can_be_filtered(
    api_a: APIClient, emulator: Any, query: dict[str, str], ids: list[str]
) -> None:
    body = api_a.get(f"{BASE}models/", query).json()
    assert [m["id"] for m in body["results"]] == ids
    assert body["count"] == len(ids)


@pytest.mark.parametrize(
    "query", [{"modality": "smell"}, {"max_price": "-1"}, {"max_price": "abc"}, {"search": "x" * 101}]
)
def test_bad_model_filters_are_400(api_a: APIClient, emulator: Any, query: dict[str, str]) -> None:
    response = api_a.get(f"{BASE}models/", query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert emulator.requests == []


def test_models_query_count_is_pinned(api_a: APIClient, emulator: Any) -> None:
    api_a.get(f"{BASE}models/")
    with CaptureQueriesContext(connection) as small:
        api_a.get(f"{BASE}models/", {"page_size": 2})
    with CaptureQueriesContext(connection) as large:
        api_a.get(f"{BASE}models/", {"page_size": 10})
    assert len(small) == len(large) == 0  # force-authenticated, cached catalogue: no queries at all


def _seed_activity(emulator: Any, account: Any, key: str, day: dt.date) -> None:
    for model, usage, requests in (
        ("openai/gpt-4o-mini", "0.0123465", 37),
        ("anthropic/claude-sonnet-4.6", "1.846215", 12),
    ):
        account.events.append(
            UsageEvent(
                day=day,
                key_hash=emulator.key_hash(key),
                model=model,
                model_permaslug=model,
                endpoint_id=f"endpoint-{model}",
                provider_name="Provider",
                usage=Decimal(usage),
                requests=requests,
                prompt_tokens=1000,
                completion_tokens=100,
                reasoning_tokens=0,
                cached_tokens=0,
            )
        )


def test_activity_lists_openrouters_rows_newest_and_largest_first(
    api_a: APIClient,
    user_a: Any,
    clock: Any,
    emulator: Any,
    account: Any,
    inference_key: str,
    management_key: str,
) -> None:
    _seed_activity(emulator, account, inference_key, dt.date(2026, 11, 18))
    _seed_activity(emulator, account, inference_key, dt.date(2026, 11, 19))
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management_key, verify=False
    )
    response = api_a.get(f"{BASE}activity/", {"live": "true"})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["stale"], body["problem"]) == (4, False, None)
    assert [(r["date"], r["model"]) for r in body["results"]] == [
        ("2026-11-19", "anthropic/claude-sonnet-4.6"),
        ("2026-11-19", "openai/gpt-4o-mini"),
        ("2026-11-18", "anthropic/claude-sonnet-4.6"),
        ("2026-11-18", "openai/gpt-4o-mini"),
    ]
    assert body["results"][1] == {
        "date": "2026-11-19",
        "model": "openai/gpt-4o-mini",
        "model_permaslug": "openai/gpt-4o-mini",
        "endpoint_id": "endpoint-openai/gpt-4o-mini",
        "provider_name": "Provider",
        "usage": "0.012346500",
        "byok_usage_inference": "0.000000000",
        "requests": 37,
        "prompt_tokens": 1000,
        "completion_tokens": 100,
        "reasoning_tokens": 0,
        "cached_tokens": 0,
    }
    one_day = api_a.get(f"{BASE}activity/", {"date": "2026-11-18", "live": "true"}).json()
    assert [r["date"] for r in one_day["results"]] == ["2026-11-18", "2026-11-18"]


@pytest.mark.parametrize("date", ["2026-11-20", "2026-10-20", "2026-13-01", "yesterday"])
def test_activity_refuses_days_outside_the_window(
    api_a: APIClient,
    user_a: Any,
    clock: Any,
    emulator: Any,
    inference_key: str,
    management_key: str,
    date: str,
) -> None:
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management_key, verify=False
    )
    response = api_a.get(f"{BASE}activity/", {"date": date, "live": "true"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert emulator.requests == []
