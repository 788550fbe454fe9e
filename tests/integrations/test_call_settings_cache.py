"""The per-process cache of the settings an AI call needs: a change is used by the next call."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ai_gateway.errors import GatewayError
from apps.ai_gateway.services import complete
from apps.integrations.models import AISettings
from apps.integrations.selectors import CALL_SETTINGS_CACHE_SECONDS
from apps.integrations.services import ai_settings_key_remove, ai_settings_update
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import HELLO, chat_requests
from tests.factories import AISettingsFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _call(user: Any) -> str:
    """Make one generic call; return the model the emulator was asked for."""
    complete(user=user, use_case="generic", messages=HELLO)
    return str(AIUsageLog.objects.for_user(user).latest("id").model)


def _settings_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "user_ai_settings" in q["sql"]]


def test_the_second_call_does_not_read_the_settings_again(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    with CaptureQueriesContext(connection) as first:
        _call(user_a)
    with CaptureQueriesContext(connection) as second:
        _call(user_a)
    assert len(_settings_queries(first)) == 1
    assert _settings_queries(second) == []
    assert len(chat_requests(emulator)) == 2


def test_a_model_saved_on_the_ai_tab_is_used_by_the_next_call(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    assert _call(user_a) == "openai/gpt-4o-mini"
    ai_settings_update(user=user_a, actor=user_a, default_model="anthropic/claude-haiku-4.5")
    assert _call(user_a) == "anthropic/claude-haiku-4.5"
    assert [r.body["model"] for r in chat_requests(emulator)] == [
        "openai/gpt-4o-mini",
        "anthropic/claude-haiku-4.5",
    ]


def test_a_removed_key_stops_the_next_call(user_a: Any, configured_a: Any, emulator: Any) -> None:
    _call(user_a)
    assert ai_settings_key_remove(user=user_a, actor=user_a, slot="api") is True
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert caught.value.code == "openrouter_not_configured"
    assert len(chat_requests(emulator)) == 1


def test_settings_saved_in_admin_are_used_by_the_next_call(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    _call(user_a)
    row = AISettings.objects.get(user=user_a)
    row.default_model = "anthropic/claude-haiku-4.5"
    row.save()
    assert _call(user_a) == "anthropic/claude-haiku-4.5"


def test_a_change_made_by_another_process_is_used_once_the_bound_has_passed(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        assert _call(user_a) == "openai/gpt-4o-mini"
        # Another process saves: the row changes, this process's cache is not told.
        AISettings.objects.filter(user=user_a).update(default_model="anthropic/claude-haiku-4.5")
        clock.shift(CALL_SETTINGS_CACHE_SECONDS - 0.5)
        assert _call(user_a) == "openai/gpt-4o-mini"
        clock.shift(0.6)
        assert _call(user_a) == "anthropic/claude-haiku-4.5"


def test_each_tenant_calls_with_their_own_key_and_model(
    user_a: Any,
    user_b: Any,
    configured_a: Any,
    emulator: Any,
    account: Any,
) -> None:
    AISettingsFactory(
        user=user_b,
        openrouter_api_key=emulator.add_key(account, kind="inference", name="bob"),
        default_model="anthropic/claude-haiku-4.5",
    )
    for _ in range(2):  # the second round is served from the cache
        assert _call(user_a) == "openai/gpt-4o-mini"
        assert _call(user_b) == "anthropic/claude-haiku-4.5"
    hashes = [r.key_hash for r in chat_requests(emulator)]
    assert hashes[0] == hashes[2] != hashes[1] == hashes[3]
    assert AIUsageLog.objects.for_user(user_a).count() == 2
    assert AIUsageLog.objects.for_user(user_b).count() == 2


def test_a_tenant_who_configures_a_key_can_call_at_once(
    user_a: Any, inference_key: str, emulator: Any
) -> None:
    with pytest.raises(GatewayError) as caught:
        _call(user_a)
    assert caught.value.code == "openrouter_not_configured"
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    assert _call(user_a) == "openai/gpt-4o-mini"
