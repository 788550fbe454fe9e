"""Integrations → AI & Models: the status card and the Configure dialog (htmx and plain posts)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from apps.core.models import AuditEvent
from apps.integrations.models import AISettings, KeyStatus
from apps.integrations.selectors import openrouter_api_key_get, openrouter_management_key_get
from apps.integrations.services import ai_settings_update

pytestmark = pytest.mark.django_db

INDEX = "/dashboard/integrations/?tab=ai"
STATUS = "/dashboard/integrations/ai/status/"
CONFIGURE = "/dashboard/integrations/ai/configure/"
TEST = "/dashboard/integrations/ai/test/"
REMOVE_API = "/dashboard/integrations/ai/keys/api/remove/"
REMOVE_MANAGEMENT = "/dashboard/integrations/ai/keys/management/remove/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _form(**overrides: str) -> dict[str, str]:
    data = {"api_key": "", "management_key": "", "ai_provider": "openrouter", "default_model": ""}
    data.update(overrides)
    return data


# ------------------------------------------------------------------ access


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", INDEX),
        ("get", STATUS),
        ("get", CONFIGURE),
        ("post", CONFIGURE),
        ("post", TEST),
        ("post", REMOVE_API),
    ],
)
def test_anonymous_users_are_sent_to_login(db: Any, method: str, url: str) -> None:
    response = getattr(Client(), method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not AISettings.objects.exists()


@pytest.mark.parametrize("url", [CONFIGURE, TEST, REMOVE_API])
def test_writes_need_the_csrf_token(user_a: Any, inference_key: str, url: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_a)
    response = client.post(url, _form(api_key=inference_key), **HTMX)
    assert response.status_code == 403
    assert not AISettings.objects.exists()
    assert AuditEvent.objects.count() == 0


def test_test_and_remove_only_accept_posts(page_a: Client) -> None:
    assert page_a.get(TEST).status_code == 405
    assert page_a.get(REMOVE_API).status_code == 405
    assert page_a.put(CONFIGURE).status_code == 405


def test_an_unknown_key_slot_is_404(page_a: Client) -> None:
    assert page_a.post("/dashboard/integrations/ai/keys/other/remove/").status_code == 404


# ------------------------------------------------------------------ the page


def test_a_new_user_sees_both_keys_not_configured(page_a: Client) -> None:
    response = page_a.get(INDEX)
    assert response.status_code == 200
    text = _text(response)
    assert "<h1>Integrations</h1>" in text
    assert 'class="active" aria-current="page">AI & Models</a>' in text
    assert text.count('data-status="none"') == 2
    assert "Required for AI calls with your own OpenRouter account." in text
    assert '<dd id="ai-provider"> OpenRouter (your key) </dd>' in text
    assert 'id="ai-fallback"> <span class="badge">Off</span>' in text
    assert 'openai/gpt-4o-mini <span class="muted">(system default)</span>' in text
    assert 'id="ai-configure-open"' in text
    assert "Configure</a>" in text
    # Nothing to test yet.
    assert re.search(r'id="ai-status-test-button"[^>]*disabled', text)
    assert response.context["tab"] == "ai"


def test_an_unknown_tab_shows_the_ai_tab(page_a: Client) -> None:
    assert page_a.get("/dashboard/integrations/?tab=<script>").context["tab"] == "ai"


def test_the_status_card_shows_each_keys_state(
    page_a: Client, user_a: Any, inference_key: str, emulator: Any, account: Any
) -> None:
    wrong = emulator.add_key(account, kind="inference", name="pasted into the wrong field")
    ai_settings_update(
        user=user_a,
        actor=user_a,
        api_key=inference_key,
        management_key=wrong,
        use_system_fallback=True,
        default_model="anthropic/claude-haiku-4.5",
        use_case_models={"chat": "openai/gpt-5-mini"},
    )
    text = _text(page_a.get(STATUS))
    api, management = text.split('data-slot="api"')[1].split('data-slot="management"')
    assert '<span class="badge badge-ok" data-status="ok">Connected</span>' in api
    assert f"…{inference_key[-4:]}" in api
    assert "Just now</time>" in api
    assert '<span class="badge badge-err" data-status="failing">Failing</span>' in management
    assert f"…{wrong[-4:]}" in management
    assert "This is an inference API key, not a management key." in management
    assert '<span class="badge badge-ok">On</span>' in text
    assert '<dd class="mono" id="ai-default-model"> anthropic/claude-haiku-4.5 </dd>' in text
    assert '<th scope="row">Chat assistant</th> <td class="mono"> openai/gpt-5-mini </td>' in text


def test_another_users_keys_never_show(page_a: Client, user_b: Any, inference_key: str) -> None:
    ai_settings_update(user=user_b, actor=user_b, api_key=inference_key, verify=False)
    for url in (INDEX, STATUS, CONFIGURE):
        text = _text(page_a.get(url, **HTMX))
        assert inference_key[-4:] not in text, url
    assert _text(page_a.get(STATUS)).count('data-status="none"') == 2


def test_settings_page_points_to_the_ai_tab(page_a: Client) -> None:
    text = _text(page_a.get("/dashboard/settings/?tab=roi"))
    assert "AI settings have moved to Integrations → AI." in text
    assert '<a href="/dashboard/integrations/?tab=ai">Open AI & Models</a>' in text


# ------------------------------------------------------------------ the Configure dialog


def test_the_dialog_opens_with_the_saved_choices_and_never_the_keys(
    page_a: Client, user_a: Any, inference_key: str, emulator: Any
) -> None:
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, default_model="openai/gpt-4o-mini", verify=False
    )
    response = page_a.get(CONFIGURE, **HTMX)
    assert response.status_code == 200
    text = _text(response)
    assert "<html" not in text  # a fragment for the dialog
    assert "data-open-dialog" in text
    assert inference_key not in text
    assert f'Stored key: <span class="mono">…{inference_key[-4:]}</span>. Leave empty to keep it.' in text
    assert 'id="ai-remove-api-key"' in text
    assert 'id="ai-remove-management-key"' not in text
    assert 'name="api_key" autocomplete="new-password"' in text
    assert re.search(r'<input type="password" name="api_key"[^>]*>', text)
    assert 'value="sk-or' not in text
    assert "Provisioning / management key (optional)" in text
    assert 'name="default_model" value="openai/gpt-4o-mini"' in text
    # The searchable model list, with prices per million tokens.
    assert '<option value="openai/gpt-4o-mini"> OpenAI: GPT-4o-mini · $0.15 / $0.60 </option>' in text
    assert '<option value="openai/gpt-oss-120b:free">' in text
    assert "Free / Free" in text
    assert "Type to search 10 models." in text
    for label in (
        "Chat assistant",
        "Lead enrichment",
        "Review analysis",
        "SMS classification",
        "Message generation",
        "Generic prompt",
    ):
        assert f">{label}</label>" in text


def test_without_htmx_the_dialog_is_a_page(page_a: Client, emulator: Any) -> None:
    response = page_a.get(CONFIGURE)
    assert response.status_code == 200
    assert "<h1>Integrations</h1>" in _text(response)


def test_saving_in_the_dialog_stores_encrypts_audits_and_tests(
    page_a: Client, user_a: Any, inference_key: str, management_key: str
) -> None:
    response = page_a.post(
        CONFIGURE,
        _form(
            api_key=f"  {inference_key} ",
            management_key=management_key,
            ai_provider="openrouter",
            use_system_fallback="on",
            default_model="openai/gpt-4o-mini",
            model_chat="anthropic/claude-haiku-4.5",
        ),
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger-After-Settle"] == "ai-settings-changed, ai-dialog-close"
    text = _text(response)
    assert inference_key not in text
    assert management_key not in text
    assert '<div id="ai-flash" hx-swap-oob="true"' in text
    assert "AI settings saved." in text
    assert text.count('data-outcome="ok"') == 2
    row = AISettings.objects.defer("openrouter_api_key", "openrouter_management_key").get(user=user_a)
    assert (row.api_key_last4, row.management_key_last4, row.api_key_status, row.management_key_status) == (
        inference_key[-4:],
        management_key[-4:],
        KeyStatus.OK,
        KeyStatus.OK,
    )
    assert (row.use_system_fallback, row.default_model, row.model_chat) == (
        True,
        "openai/gpt-4o-mini",
        "anthropic/claude-haiku-4.5",
    )
    assert openrouter_api_key_get(user=user_a) == inference_key
    assert openrouter_management_key_get(user=user_a) == management_key
    assert sorted(AuditEvent.objects.values_list("action", "detail__slot")) == [
        ("key_created", "api"),
        ("key_created", "management"),
        ("settings_changed", None),
    ]
    assert AuditEvent.objects.filter(ip_address="127.0.0.1").count() == 3


def test_empty_key_fields_keep_the_stored_keys(page_a: Client, user_a: Any, inference_key: str) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    response = page_a.post(CONFIGURE, _form(default_model="openai/gpt-5-mini"), **HTMX)
    assert response.status_code == 200
    assert openrouter_api_key_get(user=user_a) == inference_key
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("pk")) == [
        "key_created",
        "settings_changed",
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("api_key", "sk-or-v1-short", "The key is 14 characters long"),
        ("api_key", "sk-ant-" + "x" * 40, "it should start with sk-or-."),
        (
            "management_key",
            "sk-or-v1-" + "0" * 30 + " " + "1" * 10,
            "spaces, line breaks or invisible characters",
        ),
        ("default_model", "openai/../../admin", "Not a valid model id."),
        ("default_model", "openai/gpt-9-ultra", "openai/gpt-9-ultra is not in OpenRouter&#x27;s model list."),
        ("model_sms_classification", "openai/gpt-4o-mini@evil.test", "Not a valid model id."),
        ("ai_provider", "lovable", "Select a valid choice."),
    ],
)
def test_bad_input_is_shown_in_the_dialog_and_nothing_is_saved(
    page_a: Client, emulator: Any, field: str, value: str, message: str
) -> None:
    response = page_a.post(CONFIGURE, _form(**{field: value}), **HTMX)
    assert response.status_code == 200
    assert "HX-Trigger-After-Settle" not in response
    text = _text(response)
    assert "data-open-dialog" in text
    assert message in text
    if field.endswith("key"):
        assert value not in text  # a typed key is never sent back
    assert not AISettings.objects.exists()
    assert AuditEvent.objects.count() == 0


def test_a_plain_post_saves_and_redirects_with_a_message(
    page_a: Client, user_a: Any, inference_key: str
) -> None:
    response = page_a.post(CONFIGURE, _form(api_key=inference_key), follow=True)
    assert response.redirect_chain == [("/dashboard/integrations/?tab=ai", 302)]
    assert "AI settings saved." in _text(response)
    assert openrouter_api_key_get(user=user_a) == inference_key


def test_the_owner_is_always_the_logged_in_user(
    page_a: Client, user_a: Any, user_b: Any, inference_key: str
) -> None:
    page_a.post(CONFIGURE, _form(api_key=inference_key, user=str(user_b.pk), user_id=str(user_b.pk)), **HTMX)
    assert list(AISettings.objects.values_list("user", flat=True)) == [user_a.pk]


# ------------------------------------------------------------------ test connection and remove


def test_testing_entered_keys_explains_a_swapped_pair(
    page_a: Client, user_a: Any, inference_key: str, management_key: str
) -> None:
    response = page_a.post(TEST, {"api_key": management_key, "management_key": inference_key}, **HTMX)
    assert response.status_code == 200
    assert "HX-Trigger-After-Settle" not in response  # nothing stored was tested
    text = _text(response)
    assert 'data-slot="api" data-outcome="management_key_in_api_field"' in text
    assert 'data-slot="management" data-outcome="inference_key_in_management_field"' in text
    assert text.count("(entered, not saved yet)") == 2
    assert inference_key not in text
    assert management_key not in text
    assert not AISettings.objects.exists()


def test_testing_the_stored_keys_refreshes_the_status(
    page_a: Client, user_a: Any, inference_key: str
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    response = page_a.post(TEST, **HTMX)
    assert response["HX-Trigger-After-Settle"] == "ai-settings-changed"
    text = _text(response)
    assert 'data-slot="api" data-outcome="ok"' in text
    assert "(stored)" in text
    assert 'data-slot="management" data-outcome="not_configured"' in text
    assert AISettings.objects.get(user=user_a).api_key_status == KeyStatus.OK


def test_testing_a_malformed_key_says_why_without_calling_openrouter(page_a: Client, emulator: Any) -> None:
    response = page_a.post(TEST, {"api_key": "hello"}, **HTMX)
    text = _text(response)
    assert "API key: This does not look like an OpenRouter key: it should start with sk-or-." in text
    assert "data-outcome" not in text
    assert emulator.requests == []


def test_removing_a_key_in_the_dialog(
    page_a: Client, user_a: Any, inference_key: str, management_key: str
) -> None:
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management_key, verify=False
    )
    response = page_a.post(REMOVE_MANAGEMENT, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger-After-Settle"] == "ai-settings-changed"
    text = _text(response)
    assert "The key was removed." in text
    assert "data-open-dialog" in text
    assert 'id="ai-remove-management-key"' not in text
    assert 'id="ai-remove-api-key"' in text
    row = AISettings.objects.get(user=user_a)
    assert (row.openrouter_management_key, row.management_key_last4) == ("", "")
    assert row.openrouter_api_key == inference_key
    event = AuditEvent.objects.get(action="key_removed")
    assert event.detail == {"slot": "management", "last4": management_key[-4:]}


def test_removing_only_ever_touches_your_own_key(page_a: Client, user_b: Any, inference_key: str) -> None:
    ai_settings_update(user=user_b, actor=user_b, api_key=inference_key, verify=False)
    response = page_a.post(REMOVE_API, follow=True)
    assert "There was no stored key to remove." in _text(response)
    assert openrouter_api_key_get(user=user_b) == inference_key
    assert not AuditEvent.objects.filter(action="key_removed").exists()


@pytest.mark.parametrize(
    "value",
    ["<script>alert(1)</script>", "openai/<b>x</b>", "å" * 5000, "openai/gpt-4o-mini\x00", "😀/😀"],
)
def test_hostile_model_input_is_refused_and_escaped(page_a: Client, emulator: Any, value: str) -> None:
    response = page_a.post(CONFIGURE, _form(default_model=value, model_chat=value), **HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert "<script>alert" not in text
    assert "<b>x</b>" not in text
    assert text.count('class="errorlist') >= 2
    assert not AISettings.objects.exists()


@pytest.mark.parametrize(
    "value", ["sk-or-v1-" + "å" * 40, "sk-or-v1-<script>alert(1)</script>-000000", "x" * 100_000]
)
def test_hostile_key_input_is_refused_and_never_echoed(page_a: Client, emulator: Any, value: str) -> None:
    response = page_a.post(CONFIGURE, _form(api_key=value), **HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert value not in text
    assert "<script>alert" not in text
    assert 'id="field-api-key"' in text
    assert not AISettings.objects.exists()


def test_the_system_provider_without_configuration_is_flagged(
    page_a: Client, user_a: Any, settings: Any
) -> None:
    settings.SYSTEM_AI_BASE_URL = ""
    ai_settings_update(user=user_a, actor=user_a, ai_provider="system", use_system_fallback=True)
    text = _text(page_a.get(STATUS))
    assert (
        '<dd id="ai-provider"> System AI provider <span class="badge badge-warn">No system provider is configured</span> </dd>'
        in text
    )
    assert text.count("No system provider is configured") == 2


def test_a_key_limit_window_in_the_test_result_is_in_swedish(
    user_a: Any, emulator: Any, account: Any
) -> None:
    from decimal import Decimal

    key = emulator.add_key(account, kind="inference", limit=Decimal(5), limit_reset="monthly")
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(user_a)
    text = _text(client.post(TEST, {"api_key": key}, **HTMX))
    assert "(månatlig)" in text
    assert "monthly" not in text
