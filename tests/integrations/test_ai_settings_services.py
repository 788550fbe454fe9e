"""Saving AI settings: keys validated, encrypted, audited; options changed; keys read back for the gateway."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.core.models import AuditEvent
from apps.integrations.exceptions import OpenRouterKeyUnavailable
from apps.integrations.models import AISettings, KeySlot, KeyStatus, Provider
from apps.integrations.selectors import (
    ai_settings_display_get,
    openrouter_api_key_get,
    openrouter_management_key_get,
)
from apps.integrations.services import ai_settings_key_remove, ai_settings_update
from apps.integrations.validators import model_id_clean, openrouter_key_clean

pytestmark = pytest.mark.django_db

KEY_A = "sk-or-v1-" + "a1" * 32
KEY_B = "sk-or-v1-" + "b2" * 32
MGMT = "sk-or-v1-" + "c3" * 32


def _raw_columns(user: Any) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT openrouter_api_key, openrouter_management_key FROM user_ai_settings WHERE user_id = %s",
            [user.pk],
        )
        row = cursor.fetchone()
    return row[0], row[1]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("sk-or-v1-abc def" + "0" * 20, "hidden_characters"),
        ("sk-or-v1-abc\ndef" + "0" * 20, "hidden_characters"),
        ("sk-or-v1-abc\x00def" + "0" * 20, "hidden_characters"),
        ("sk-or-v1-abc\u200bdef" + "0" * 20, "hidden_characters"),
        ("pk-or-v1-" + "0" * 40, "old_provisioning_key"),
        ("sk-proj-" + "0" * 40, "prefix"),
        ("Bearer sk-or-v1-" + "0" * 40, "hidden_characters"),
        ("sk-or-v1-0", "length"),
        ("sk-or-v1-" + "0" * 300, "length"),
        ("sk-or-v1-" + "0" * 30 + "#frag", "characters"),
        ("sk-or-v1-" + "0" * 30 + "@evil.test", "characters"),
        ("sk-or-v1-" + "0" * 30 + "/../x", "characters"),
    ],
)
def test_malformed_keys_are_refused_with_a_reason(value: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        openrouter_key_clean(value)
    assert caught.value.code == code
    # The message never repeats what was typed.
    assert value.strip() not in " ".join(caught.value.messages) or not value.strip()


def test_a_key_is_stripped_of_surrounding_whitespace() -> None:
    assert openrouter_key_clean(f"  {KEY_A}\n") == KEY_A


@pytest.mark.parametrize(
    "model",
    [
        "openai/gpt-4o-mini#frag",
        "openai/gpt-4o-mini@evil.test",
        "openai/../admin",
        "openai/..",
        "openai%2Fgpt-4o-mini",
        "openai/gpt-4o-mini\r\nX-Evil: 1",
        "openai/gpt 4o",
        "https://evil.test/model",
        "gpt-4o-mini",
        "openai/gpt-4o-mini/extra",
        "/openai/gpt-4o-mini",
        "openai/gpt-4o-mini:",
        "a/" + "b" * 250,
    ],
)
def test_model_ids_that_could_smuggle_anything_are_refused(model: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model_id_clean(model)
    assert caught.value.code == "model_format"


@pytest.mark.parametrize(
    "model",
    ["openai/gpt-4o-mini", "openai/gpt-oss-120b:free", "google/gemini-3.1-pro-preview", "x-ai/grok-4.1"],
)
def test_well_formed_model_ids_pass(model: str) -> None:
    assert model_id_clean(f" {model} ") == model


def test_a_model_outside_the_catalogue_is_refused_when_it_is_known() -> None:
    with pytest.raises(ValidationError) as caught:
        model_id_clean("openai/gpt-9", known={"openai/gpt-4o-mini"})
    assert caught.value.code == "model_unknown"
    assert model_id_clean("openai/gpt-4o-mini", known={"openai/gpt-4o-mini"}) == "openai/gpt-4o-mini"


# ------------------------------------------------------------------ saving keys


def test_saving_keys_encrypts_them_and_keeps_the_last_4(user_a: Any) -> None:
    saved = ai_settings_update(user=user_a, actor=user_a, api_key=KEY_A, management_key=MGMT, verify=False)
    assert saved.keys_changed == (KeySlot.API, KeySlot.MANAGEMENT)
    row = saved.settings
    assert (row.api_key_last4, row.management_key_last4) == ("a1a1", "c3c3")
    assert (row.api_key_status, row.management_key_status) == (KeyStatus.UNVERIFIED, KeyStatus.UNVERIFIED)
    raw_api, raw_mgmt = _raw_columns(user_a)
    assert KEY_A not in raw_api
    assert MGMT not in raw_mgmt
    assert raw_api.startswith("gAAAA")
    assert raw_mgmt.startswith("gAAAA")
    assert openrouter_api_key_get(user=user_a) == KEY_A
    assert openrouter_management_key_get(user=user_a) == MGMT


def test_creating_replacing_and_removing_a_key_are_audited_with_the_last_4_only(user_a: Any) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=KEY_A, ip_address="10.0.0.1", verify=False)
    ai_settings_update(user=user_a, actor=user_a, api_key=KEY_B, verify=False)
    assert ai_settings_key_remove(user=user_a, actor=user_a, slot=KeySlot.API) is True
    events = list(
        AuditEvent.objects.order_by("created_at", "pk").values_list(
            "action", "target", "detail", "ip_address"
        )
    )
    assert events == [
        ("key_created", "ai_settings:openrouter_api_key", {"slot": "api", "last4": "a1a1"}, "10.0.0.1"),
        (
            "key_replaced",
            "ai_settings:openrouter_api_key",
            {"slot": "api", "last4": "b2b2", "previous_last4": "a1a1"},
            None,
        ),
        ("key_removed", "ai_settings:openrouter_api_key", {"slot": "api", "last4": "b2b2"}, None),
    ]
    assert set(AuditEvent.objects.values_list("actor", "user").distinct()) == {(user_a.pk, user_a.pk)}
    row = AISettings.objects.get(user=user_a)
    assert (row.openrouter_api_key, row.api_key_last4, row.api_key_status) == ("", "", KeyStatus.UNVERIFIED)


def test_removing_a_key_that_is_not_there_changes_and_audits_nothing(user_a: Any) -> None:
    assert ai_settings_key_remove(user=user_a, actor=user_a, slot=KeySlot.MANAGEMENT) is False
    assert AuditEvent.objects.count() == 0


def test_an_empty_key_keeps_the_stored_one(user_a: Any) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=KEY_A, verify=False)
    ai_settings_update(
        user=user_a, actor=user_a, api_key="", management_key=None, default_model="openai/gpt-4o-mini"
    )
    assert openrouter_api_key_get(user=user_a) == KEY_A
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("pk")) == [
        "key_created",
        "settings_changed",
    ]


def test_options_are_saved_and_their_change_audited_by_field_name(user_a: Any) -> None:
    saved = ai_settings_update(
        user=user_a,
        actor=user_a,
        ai_provider=Provider.SYSTEM,
        use_system_fallback=True,
        default_model="openai/gpt-4o-mini",
        use_case_models={"chat": "anthropic/claude-haiku-4.5", "generic": ""},
    )
    row = saved.settings
    assert (row.ai_provider, row.use_system_fallback, row.default_model) == (
        "system",
        True,
        "openai/gpt-4o-mini",
    )
    assert (row.model_chat, row.model_generic) == ("anthropic/claude-haiku-4.5", "")
    assert saved.keys_changed == ()
    assert saved.report is None
    event = AuditEvent.objects.get()
    assert (event.action, event.detail) == (
        "settings_changed",
        {"fields": ["ai_provider", "default_model", "model_chat", "use_system_fallback"]},
    )
    # Saving the same values again changes and audits nothing.
    ai_settings_update(
        user=user_a, actor=user_a, ai_provider=Provider.SYSTEM, default_model="openai/gpt-4o-mini"
    )
    assert AuditEvent.objects.count() == 1


def test_the_service_refuses_bad_input_even_without_a_form(user_a: Any) -> None:
    with pytest.raises(ValidationError):
        ai_settings_update(user=user_a, actor=user_a, api_key="not a key")
    with pytest.raises(ValidationError):
        ai_settings_update(user=user_a, actor=user_a, default_model="openai/../x")
    with pytest.raises(ValidationError):
        ai_settings_update(user=user_a, actor=user_a, use_case_models={"nope": "openai/gpt-4o-mini"})
    with pytest.raises(ValidationError):
        ai_settings_update(user=user_a, actor=user_a, ai_provider="lovable")
    assert not AISettings.objects.exists()
    assert AuditEvent.objects.count() == 0


def test_each_user_has_their_own_row_and_keys(user_a: Any, user_b: Any) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=KEY_A, verify=False)
    ai_settings_update(user=user_b, actor=user_b, api_key=KEY_B, verify=False)
    assert openrouter_api_key_get(user=user_a) == KEY_A
    assert openrouter_api_key_get(user=user_b) == KEY_B
    assert AISettings.objects.count() == 2


# ------------------------------------------------------------------ reading keys (for the gateway)


def test_a_missing_key_is_a_clear_error(user_a: Any) -> None:
    with pytest.raises(OpenRouterKeyUnavailable) as caught:
        openrouter_api_key_get(user=user_a)
    assert caught.value.code == "openrouter_key_missing"
    assert caught.value.status_code == 409
    assert "Integrations" in caught.value.message
    ai_settings_update(user=user_a, actor=user_a, api_key=KEY_A, verify=False)
    with pytest.raises(OpenRouterKeyUnavailable) as missing_management:
        openrouter_management_key_get(user=user_a)
    assert missing_management.value.code == "openrouter_key_missing"


def test_a_key_that_no_longer_decrypts_is_reported_not_returned(user_a: Any, settings: Any) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=KEY_A, verify=False)
    settings.FIELD_ENCRYPTION_KEYS = ["bmV3LWtleS1uZXctZmllbGQta2V5LTAwMDAwMDAwMDA="]
    with pytest.raises(OpenRouterKeyUnavailable) as caught:
        openrouter_api_key_get(user=user_a)
    assert caught.value.code == "openrouter_key_unreadable"
    # The display read never decrypts, so the page still works and shows the last 4.
    row = ai_settings_display_get(user=user_a)
    assert row is not None
    assert row.api_key_last4 == "a1a1"


def test_anonymous_users_have_no_keys(db: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(OpenRouterKeyUnavailable):
        openrouter_api_key_get(user=AnonymousUser())
    assert ai_settings_display_get(user=AnonymousUser()) is None
