"""The gateway under upstream faults: whatever the retries and fallbacks, one logical call is one
ledger row with the right status, attempts, tokens and cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.db import connection

from apps.ai_gateway.errors import GatewayError
from apps.ai_gateway.services import Completion, complete
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import HELLO, chat_requests
from tests.factories import AISettingsFactory, FxRateFactory

pytestmark = pytest.mark.django_db


def _call(user: Any, **kwargs: Any) -> Completion:
    result = complete(user=user, use_case="chat", messages=HELLO, **kwargs)
    assert isinstance(result, Completion)
    return result


def _only_row() -> AIUsageLog:
    rows = list(AIUsageLog.objects.all())
    assert len(rows) == 1, rows
    return rows[0]


def test_success_records_the_emulators_tokens_and_cost(user_a: Any, configured_a: Any, emulator: Any) -> None:
    result = _call(user_a)
    row = _only_row()
    generation = emulator.generations[0]
    assert (row.status, row.attempts, row.provider, row.use_case) == ("success", 1, "openrouter", "chat")
    assert (row.prompt_tokens, row.completion_tokens) == (
        generation.prompt_tokens,
        generation.completion_tokens,
    )
    assert row.total_tokens == generation.prompt_tokens + generation.completion_tokens
    assert row.cost_usd == generation.cost
    assert row.cost_source == "provider_reported"
    assert row.cost_sek == generation.cost * Decimal("10.50")
    assert row.fx_rate == Decimal("10.50")
    assert row.generation_id == generation.id == result.generation_id
    assert result.content
    assert row.model == "openai/gpt-4o-mini"
    assert row.latency_ms is not None
    assert row.user_id == user_a.pk


def test_429_three_times_then_200_is_one_success_row_with_4_attempts(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("rate_limit", times=3, retry_after=2)
    _call(user_a)
    row = _only_row()
    assert (row.status, row.attempts) == ("success", 4)
    assert len(chat_requests(emulator)) == 4
    assert emulator.sleeps == [2, 2, 2]  # Retry-After honoured exactly
    assert len(emulator.generations) == 1
    assert row.cost_usd == emulator.generations[0].cost


def test_429_beyond_the_retry_budget_is_a_429_with_retry_after(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("rate_limit", times=10, retry_after=3)
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert caught.value.status_code == 429
    assert caught.value.headers == {"Retry-After": "3"}
    assert caught.value.code == "rate_limited"
    row = _only_row()
    assert (row.status, row.attempts, row.error_code) == ("rate_limited", 4, "rate_limited")
    # OpenRouter bills no 429: a known zero, not an unknown cost.
    assert (row.cost_usd, row.cost_source) == (Decimal(0), "not_billed")
    assert len(chat_requests(emulator)) == 4
    assert emulator.generations == []


@pytest.mark.parametrize("status", [502, 503])
def test_5xx_then_200_is_retried_with_jittered_backoff(
    user_a: Any, configured_a: Any, emulator: Any, status: int
) -> None:
    emulator.inject("status", status=status, times=2)
    _call(user_a)
    row = _only_row()
    assert (row.status, row.attempts) == ("success", 3)
    assert len(chat_requests(emulator)) == 3
    assert len(emulator.sleeps) == 2
    assert 0 <= emulator.sleeps[0] <= 0.25
    assert 0 <= emulator.sleeps[1] <= 0.5


def test_401_bad_key_is_not_retried(user_a: Any, emulator: Any) -> None:
    AISettingsFactory(user=user_a, openrouter_api_key="sk-or-v1-" + "0" * 64)
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_key")
    assert "key" in caught.value.message.lower() or "nyckel" in caught.value.message.lower()
    row = _only_row()
    assert (row.status, row.error_code, row.attempts) == ("error", "invalid_key", 1)
    assert len(chat_requests(emulator)) == 1


def test_402_out_of_credits_is_not_retried(user_a: Any, emulator: Any) -> None:
    broke = emulator.add_account(credits=Decimal(0))
    AISettingsFactory(user=user_a, openrouter_api_key=emulator.add_key(broke, kind="inference"))
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert (caught.value.status_code, caught.value.code) == (402, "insufficient_credits")
    assert _only_row().error_code == "insufficient_credits"
    assert len(chat_requests(emulator)) == 1


def test_403_key_limit_is_not_retried_and_never_falls_back(user_a: Any, emulator: Any, account: Any) -> None:
    capped = emulator.add_key(account, kind="inference", limit=Decimal(0))
    AISettingsFactory(user=user_a, openrouter_api_key=capped, use_system_fallback=True)
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert (caught.value.status_code, caught.value.code) == (403, "key_limit")
    row = _only_row()
    assert (row.status, row.is_fallback, row.provider) == ("error", False, "openrouter")
    assert len(chat_requests(emulator)) == 1
    assert chat_requests(emulator.system) == []


def test_400_invalid_model_is_not_retried(user_a: Any, configured_a: Any, emulator: Any) -> None:
    emulator.inject("status", status=400)
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_request")
    assert len(chat_requests(emulator)) == 1
    assert _only_row().status == "error"


def test_read_timeout_is_not_retried_and_recorded_as_timeout(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("read_timeout")
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert (caught.value.status_code, caught.value.code) == (504, "maybe_billed")
    assert caught.value.headers == {"x-should-retry": "false"}
    row = _only_row()
    assert (row.status, row.attempts) == ("timeout", 1)
    assert len(chat_requests(emulator)) == 1
    assert emulator.sleeps == []


@pytest.mark.parametrize("fault", ["non_json", "truncated", "html"])
def test_unreadable_200_is_a_502_with_a_generic_message(
    user_a: Any, configured_a: Any, emulator: Any, fault: str
) -> None:
    emulator.inject(fault, **({"status": 200} if fault == "html" else {}))
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert caught.value.status_code == 502
    assert "<" not in caught.value.message  # no raw HTML leaks through
    assert _only_row().status == "error"
    assert len(chat_requests(emulator)) == 1


def test_200_carrying_an_error_is_a_failure(user_a: Any, configured_a: Any, emulator: Any) -> None:
    emulator.inject("error_200")
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert caught.value.status_code == 502
    row = _only_row()
    assert (row.status, row.error_code) == ("error", "error_in_200")


def test_missing_usage_is_flagged_then_filled_from_generation(
    user_a: Any, configured_a: Any, emulator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    emulator.inject("missing_usage")
    with django_capture_on_commit_callbacks(execute=True):
        result = _call(user_a)
    assert result.cost_source == "unpriced"
    assert result.cost_usd is None
    row = _only_row()
    generation = emulator.generations[0]
    assert row.cost_source == "generation_lookup"
    assert row.cost_usd == generation.cost
    assert row.cost_sek == generation.cost * Decimal("10.50")
    lookups = [r for r in emulator.requests if r.path == "/generation"]
    assert [r.query["id"] for r in lookups] == [generation.id]


def test_no_stored_key_is_a_clear_error_without_upstream_call(user_a: Any, emulator: Any) -> None:
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert (caught.value.status_code, caught.value.code) == (400, "openrouter_not_configured")
    assert emulator.requests == []
    assert AIUsageLog.objects.count() == 0


def test_a_key_that_fails_to_decrypt_is_a_clear_error_without_upstream_call(
    user_a: Any, configured_a: Any, emulator: Any, settings: Any
) -> None:
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert caught.value.code == "openrouter_not_configured"
    assert "again" in caught.value.message or "igen" in caught.value.message
    assert emulator.requests == []


@pytest.mark.parametrize("fault", [{"kind": "status", "status": 502}, {"kind": "rate_limit"}])
def test_fallback_to_the_system_provider_when_allowed(
    user_a: Any, emulator: Any, inference_key: str, fault: dict[str, Any], settings: Any
) -> None:
    AISettingsFactory(user=user_a, openrouter_api_key=inference_key, use_system_fallback=True)
    emulator.inject(fault.pop("kind"), times=10, **fault)
    result = _call(user_a)
    row = _only_row()
    system_generation = emulator.system.generations[0]
    assert (row.status, row.provider, row.is_fallback) == ("success", "system", True)
    assert row.attempts == 5  # 4 at OpenRouter, 1 at the system provider
    assert row.model == settings.SYSTEM_AI_MODEL
    expected = (
        Decimal(system_generation.prompt_tokens) * Decimal("0.15")
        + Decimal(system_generation.completion_tokens) * Decimal("0.60")
    ) / Decimal(1_000_000)
    assert row.cost_usd == expected
    assert row.cost_source == "computed"
    assert result.is_fallback is True
    assert emulator.generations == []


def test_no_fallback_unless_allowed(user_a: Any, configured_a: Any, emulator: Any) -> None:
    emulator.inject("status", status=503, times=10)
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert caught.value.status_code == 503
    assert chat_requests(emulator.system) == []
    assert _only_row().status == "error"


def test_system_provider_chosen_by_the_tenant(user_a: Any, emulator: Any) -> None:
    AISettingsFactory(user=user_a, openrouter_api_key="", ai_provider="system")
    _call(user_a)
    row = _only_row()
    assert (row.provider, row.is_fallback, row.status) == ("system", False, "success")
    assert emulator.requests == []
    assert len(chat_requests(emulator.system)) == 1


def test_a_call_as_a_uses_as_key_and_writes_as_row(
    user_a: Any, user_b: Any, emulator: Any, account: Any
) -> None:
    key_a = emulator.add_key(account, kind="inference", name="a")
    key_b = emulator.add_key(account, kind="inference", name="b")
    AISettingsFactory(user=user_a, openrouter_api_key=key_a)
    AISettingsFactory(user=user_b, openrouter_api_key=key_b)
    _call(user_a)
    assert [r.key_hash for r in chat_requests(emulator)] == [emulator.key_hash(key_a)]
    assert list(AIUsageLog.objects.values_list("user_id", flat=True)) == [user_a.pk]


def test_the_ledger_must_be_writable_before_the_provider_is_called(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE ai_usage_logs RENAME TO ai_usage_logs_away")  # rolled back after the test
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert (caught.value.status_code, caught.value.code) == (503, "ledger_unavailable")
    assert emulator.requests == []


def test_model_choice_order(user_a: Any, emulator: Any, inference_key: str, settings: Any) -> None:
    ai_settings = AISettingsFactory(user=user_a, openrouter_api_key=inference_key)
    _call(user_a)
    ai_settings.default_model = "anthropic/claude-haiku-4.5"
    ai_settings.save()
    _call(user_a)
    ai_settings.model_chat = "google/gemini-2.5-flash"
    ai_settings.save()
    _call(user_a)
    _call(user_a, model="openai/gpt-5-mini")
    sent = [r.body["model"] for r in chat_requests(emulator)]
    assert sent == [
        settings.OPENROUTER_DEFAULT_MODEL,
        "anthropic/claude-haiku-4.5",
        "google/gemini-2.5-flash",
        "openai/gpt-5-mini",
    ]


def test_attribution_headers_are_sent(user_a: Any, configured_a: Any, emulator: Any, settings: Any) -> None:
    settings.OPENROUTER_APP_URL = "https://app.example.com"
    settings.OPENROUTER_APP_TITLE = "Småföretagarna AB"
    _call(user_a)
    headers = chat_requests(emulator)[0].headers
    assert headers["http-referer"] == "https://app.example.com"
    assert headers["x-openrouter-title"]
    assert "authorization" not in headers


def test_fx_rate_for_the_calls_utc_day_is_used_and_stored(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    import datetime as dt

    FxRateFactory(valid_from=dt.date(2020, 1, 1), usd_sek=Decimal("9.000000"))
    FxRateFactory(valid_from=dt.date(2026, 1, 1), usd_sek=Decimal("11.250000"))
    _call(user_a)
    row = _only_row()
    assert row.fx_rate == Decimal("11.25")
    assert row.cost_sek == row.cost_usd * Decimal("11.25")


@pytest.mark.parametrize(("status", "code"), [(400, "invalid_request"), (503, "unavailable")])
def test_a_failure_openrouter_did_not_bill_is_a_known_zero(
    user_a: Any, configured_a: Any, emulator: Any, status: int, code: str
) -> None:
    emulator.inject("status", status=status, times=4)
    with pytest.raises(GatewayError):
        _call(user_a)
    row = _only_row()
    assert (row.status, row.error_code, row.cost_usd, row.cost_source, row.generation_id) == (
        "error",
        code,
        Decimal(0),
        "not_billed",
        None,
    )
    assert emulator.generations == []


def test_a_truncated_body_keeps_its_generation_id_and_is_settled_through_generation(
    user_a: Any, configured_a: Any, emulator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    emulator.inject("truncated")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(GatewayError):
        _call(user_a)
    row = _only_row()
    generation = emulator.generations[0]
    assert (row.status, row.generation_id) == ("error", generation.id)
    assert (row.cost_usd, row.cost_source) == (generation.cost, "generation_lookup")
    assert [r.query["id"] for r in emulator.requests if r.path == "/generation"] == [generation.id]


def test_a_read_timeout_may_be_billed_so_its_cost_stays_unknown(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("read_timeout")
    with pytest.raises(GatewayError):
        _call(user_a)
    row = _only_row()
    assert (row.status, row.cost_usd, row.cost_source) == ("timeout", None, "unpriced")


def _unreachable(error: type[httpx.TransportError]) -> httpx.MockTransport:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error("OpenRouter cannot be reached", request=request)

    return httpx.MockTransport(fail)


def test_a_connection_failure_before_sending_falls_back_to_the_system_provider(
    user_a: Any, emulator: Any, inference_key: str, settings: Any
) -> None:
    """The one fallback cause the live fault suite cannot inject per tenant (bench/faults.py)."""
    from apps.core import http

    AISettingsFactory(user=user_a, openrouter_api_key=inference_key, use_system_fallback=True)
    with http.mount(settings.OPENROUTER_BASE_URL, _unreachable(httpx.ConnectError)):
        result = _call(user_a)
    row = _only_row()
    assert (row.status, row.provider, row.is_fallback) == ("success", "system", True)
    assert row.attempts == 5  # 4 connection attempts (retried: nothing was sent), then the system's
    assert result.content
    assert len(chat_requests(emulator.system)) == 1


def test_a_connection_broken_after_sending_never_falls_back(
    user_a: Any, emulator: Any, inference_key: str, settings: Any
) -> None:
    """It may have been billed: a second provider would make the tenant pay twice."""
    from apps.core import http

    AISettingsFactory(user=user_a, openrouter_api_key=inference_key, use_system_fallback=True)
    with (
        http.mount(settings.OPENROUTER_BASE_URL, _unreachable(httpx.RemoteProtocolError)),
        pytest.raises(GatewayError) as caught,
    ):
        _call(user_a)
    assert caught.value.headers.get("x-should-retry") == "false"
    row = _only_row()
    assert (row.provider, row.is_fallback, row.attempts) == ("openrouter", False, 1)
    assert chat_requests(emulator.system) == []
