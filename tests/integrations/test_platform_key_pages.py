"""The admin's Platform key page (permissions, actions, messages), the tenant's AI tab for a
platform-provided key, tenancy, the activity sync through the platform's management key, and the
canary: the provisioned key never appears in admin HTML, messages, logs or audit rows."""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.core.models import AuditAction, AuditEvent
from apps.integrations.models import AISettings, KeySlot, KeySource
from apps.integrations.platform_keys import platform_key_create, platform_key_disabled_set
from apps.integrations.selectors import openrouter_key_get
from apps.usage.models import SyncState, SyncTrigger
from apps.usage.sync import sync_nightly_fan_out, sync_run_execute, sync_run_request
from tests.factories import AISettingsFactory, UserFactory

pytestmark = pytest.mark.django_db

STATUS = "/dashboard/integrations/ai/status/"
ACCOUNT = "/dashboard/integrations/ai/account/"
CONFIGURE = "/dashboard/integrations/ai/configure/"
INDEX = "/dashboard/integrations/"


@pytest.fixture
def platform(settings: Any, emulator: Any, management_key: str) -> Any:
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = management_key
    return emulator


def _page_url(row: AISettings) -> str:
    return f"/admin/integrations/aisettings/{row.pk}/platform-key/"


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _login(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _empty_row(user: Any) -> AISettings:
    return AISettings.objects.create(user=user)


def _provisioned(user: Any, actor: Any, limit: str = "50") -> str:
    platform_key_create(user=user, actor=actor, limit_usd=limit)
    return openrouter_key_get(user=user, slot=KeySlot.API)


# ------------------------------------------------------------------ admin permissions


def test_staff_without_the_permission_cannot_see_or_act(platform: Any, user_a: Any) -> None:
    row = _empty_row(user_a)
    helpdesk = UserFactory(username="helpdesk", is_staff=True)
    helpdesk.user_permissions.add(Permission.objects.get(codename="change_aisettings"))
    client = _login(helpdesk)

    assert client.get(_page_url(row)).status_code == 403
    assert client.post(_page_url(row), {"action": "create", "limit_usd": "50"}).status_code == 403
    assert [r for r in platform.requests if r.path.startswith("/keys")] == []
    assert AuditEvent.objects.count() == 0


def test_staff_with_the_permission_create_a_key_from_the_page(platform: Any, user_a: Any) -> None:
    row = _empty_row(user_a)
    operator = UserFactory(username="operator", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="manage_platform_key"))
    client = _login(operator)
    assert 'id="platform-key-create-form"' in _text(client.get(_page_url(row)))

    response = client.post(_page_url(row), {"action": "create", "limit_usd": "25"}, follow=True)

    plaintext = openrouter_key_get(user=user_a, slot=KeySlot.API)
    text = _text(response)
    assert response.redirect_chain == [(_page_url(row), 302)]
    assert f"Created platform key …{plaintext[-4:]} with a monthly limit of 25.00 USD." in text
    assert '<div class="readonly" id="platform-key-source">Provided by the platform</div>' in text
    assert '<div class="readonly" id="platform-key-limit">25.00</div>' in text
    assert AuditEvent.objects.get(user=user_a).actor == operator


def test_anonymous_is_sent_to_the_admin_login(user_a: Any) -> None:
    row = _empty_row(user_a)
    response = Client().get(_page_url(row))
    assert response.status_code == 302
    assert "/login/?next=/admin/" in response["Location"]


def test_the_page_says_when_the_feature_is_off(
    settings: Any, emulator: Any, staff_page: Client, user_a: Any
) -> None:
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = ""
    row = _empty_row(user_a)

    text = _text(staff_page.get(_page_url(row)))

    assert "Platform-provisioned keys are off: set OPENROUTER_PLATFORM_MANAGEMENT_KEY" in text
    assert "platform-key-create-form" not in text


def test_an_unknown_row_is_404(staff_page: Client, platform: Any) -> None:
    assert staff_page.get("/admin/integrations/aisettings/999999/platform-key/").status_code == 404


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"action": "create", "limit_usd": "-10"}, "The limit must be more than 0 USD."),
        ({"action": "create", "limit_usd": "999999"}, "The limit must be at most 1000 USD a month"),
        ({"action": "explode"}, "Unknown action."),
    ],
)
def test_bad_input_is_a_clear_admin_message(
    platform: Any, staff_page: Client, user_a: Any, post: dict[str, str], message: str
) -> None:
    row = _empty_row(user_a)

    response = staff_page.post(_page_url(row), post, follow=True)

    assert response.status_code == 200
    assert message in _text(response)
    assert AISettings.objects.get(pk=row.pk).api_key_source == KeySource.OWN


def test_an_openrouter_refusal_is_a_clear_admin_message(
    platform: Any, staff_page: Client, user_a: Any
) -> None:
    row = _empty_row(user_a)
    platform.inject("rate_limit", path="/keys")

    response = staff_page.post(_page_url(row), {"action": "create", "limit_usd": "10"}, follow=True)

    assert (
        "OpenRouter is rate limiting key management (HTTP 429). Try again in a minute. "
        "No key was created or stored." in _text(response)
    )
    assert AISettings.objects.get(pk=row.pk).api_key_last4 == ""


def test_every_action_from_the_page_reaches_openrouter_and_the_audit_log(
    platform: Any, staff_page: Client, staff: Any, user_a: Any
) -> None:
    row = _empty_row(user_a)
    url = _page_url(row)
    staff_page.post(url, {"action": "create", "limit_usd": "10"})
    first = openrouter_key_get(user=user_a, slot=KeySlot.API)

    for post in (
        {"action": "limit", "limit_usd": "20"},
        {"action": "disable"},
        {"action": "enable"},
        {"action": "rotate"},
    ):
        assert staff_page.post(url, post).status_code == 302
    second = openrouter_key_get(user=user_a, slot=KeySlot.API)
    assert staff_page.post(url, {"action": "delete"}).status_code == 302

    assert platform.key(first).deleted
    assert platform.key(second).deleted
    assert platform.key(second).limit == 20
    assert [e.action for e in AuditEvent.objects.filter(user=user_a).order_by("pk")] == [
        AuditAction.PLATFORM_KEY_CREATED,
        AuditAction.PLATFORM_KEY_LIMIT_CHANGED,
        AuditAction.PLATFORM_KEY_DISABLED,
        AuditAction.PLATFORM_KEY_ENABLED,
        AuditAction.PLATFORM_KEY_ROTATED,
        AuditAction.PLATFORM_KEY_DELETED,
    ]
    assert set(AuditEvent.objects.filter(user=user_a).values_list("actor", flat=True)) == {staff.pk}


def test_the_change_form_cannot_replace_a_platform_key(
    platform: Any, staff_page: Client, staff: Any, user_a: Any
) -> None:
    plaintext = _provisioned(user_a, staff)
    row = AISettings.objects.get(user=user_a)
    form = {"ai_provider": row.ai_provider, "default_model": "", "new_api_key": "sk-or-v1-" + "d4" * 32}

    response = staff_page.post(f"/admin/integrations/aisettings/{row.pk}/change/", form)

    assert response.status_code == 200
    assert "provided by the platform: rotate or delete it on the Platform key page" in _text(response)
    assert openrouter_key_get(user=user_a, slot=KeySlot.API) == plaintext


def test_the_changelist_shows_the_source(platform: Any, staff_page: Client, staff: Any, user_a: Any) -> None:
    _provisioned(user_a, staff)
    text = _text(staff_page.get("/admin/integrations/aisettings/"))
    assert '<td class="field-api_key_source">Provided by the platform</td>' in text


# ------------------------------------------------------------------ the tenant's AI tab


def test_the_ai_tab_shows_a_platform_key_with_its_limit_and_usage(
    platform: Any, page_a: Client, staff: Any, user_a: Any, api_a: Any
) -> None:
    plaintext = _provisioned(user_a, staff, "30")
    api_a.post(
        "/api/v1/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5},
        format="json",
    )
    spent = platform.key(plaintext).usage

    status = _text(page_a.get(STATUS))
    account = _text(page_a.get(ACCOUNT))

    assert 'id="ai-platform-key">Provided by the platform</span>' in status
    assert f'<dd class="mono">…{plaintext[-4:]}</dd>' in status
    assert '<dd id="ai-platform-limit"> $30.00 </dd>' in status
    assert "You do not need your own OpenRouter account" in status
    assert "Required for AI calls with your own OpenRouter account." not in status
    assert "Platform key: limit and usage" in account
    assert "<dt>Limit</dt> <dd> $30.00 (monthly) </dd>" in account
    assert f'<dd id="ai-key-limit-remaining">${30 - spent:.2f}</dd>' in account
    assert "The monthly limit the platform set for your key." in account
    assert "Account tier" not in account


def test_the_ai_tab_says_when_the_platform_disabled_the_key(
    platform: Any, page_a: Client, staff: Any, user_a: Any
) -> None:
    _provisioned(user_a, staff)
    platform_key_disabled_set(user=user_a, actor=staff, disabled=True)

    status = _text(page_a.get(STATUS))

    assert 'data-status="platform-disabled">Disabled</span>' in status
    assert "The platform has paused this key" in status


def test_the_configure_dialog_does_not_ask_for_a_key_and_refuses_one(
    platform: Any, page_a: Client, staff: Any, user_a: Any
) -> None:
    plaintext = _provisioned(user_a, staff)

    dialog = _text(page_a.get(CONFIGURE))
    posted = page_a.post(CONFIGURE, {"ai_provider": "openrouter", "api_key": "sk-or-v1-" + "e5" * 32})
    removed = page_a.post("/dashboard/integrations/ai/keys/api/remove/", follow=True)

    assert 'name="api_key"' not in dialog
    assert 'name="management_key"' not in dialog  # the platform reads the activity itself
    assert f'Provided by the platform: <span class="mono">…{plaintext[-4:]}</span>' in dialog
    assert posted.status_code == 200
    assert "Your API key is provided by the platform and cannot be replaced or removed here." in _text(posted)
    assert "Your API key is provided by the platform" in _text(removed)
    assert openrouter_key_get(user=user_a, slot=KeySlot.API) == plaintext


def test_the_ai_tab_in_swedish(platform: Any, user_a: Any, staff: Any) -> None:
    _provisioned(user_a, staff)
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(user_a)

    status = _text(client.get(STATUS))

    assert "Tillhandahålls av plattformen" in status
    assert "Månadsgräns" in status


def test_another_tenant_sees_nothing_of_it(platform: Any, staff: Any, user_a: Any, user_b: Any) -> None:
    plaintext = _provisioned(user_a, staff)
    client = _login(user_b)

    for url in (INDEX, STATUS, ACCOUNT, CONFIGURE):
        text = _text(client.get(url))
        assert "Provided by the platform" not in text
        assert plaintext[-4:] not in text
    assert "Not configured" in _text(client.get(STATUS))


def test_a_tenant_cannot_reach_the_admin_page(platform: Any, staff: Any, user_a: Any, page_a: Client) -> None:
    _provisioned(user_a, staff)
    row = AISettings.objects.get(user=user_a)
    response = page_a.get(_page_url(row))
    assert response.status_code == 302
    assert "/login/?next=/admin/" in response["Location"]


# ------------------------------------------------------------------ the activity sync


def test_sync_reads_through_the_platform_management_key_filtered_to_the_tenants_hash(
    platform: Any, staff: Any, user_a: Any, management_key: str
) -> None:
    _provisioned(user_a, staff)
    row = AISettings.objects.get(user=user_a)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    run, _created = sync_run_request(
        user=user_a, start=yesterday, end=yesterday, trigger=SyncTrigger.MANUAL, enqueue=False
    )

    done = sync_run_execute(run_id=run.pk)

    activity = [r for r in platform.requests if r.path == "/activity"]
    assert done.state == SyncState.SUCCEEDED
    assert [(r.key_hash, r.query.get("api_key_hash")) for r in activity] == [
        (platform.key_hash(management_key), row.platform_key_hash)
    ]


def test_a_platform_tenant_is_never_read_as_the_whole_account(
    platform: Any, staff: Any, user_a: Any, management_key: str
) -> None:
    # The platform's account holds every platform tenant's spend: the whole-account choice of a
    # tenant on their own key must not widen a platform tenant's read, nor show in its pages.
    _provisioned(user_a, staff)
    AISettings.objects.filter(user=user_a).update(activity_whole_account=True)
    row = AISettings.objects.get(user=user_a)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    run, _created = sync_run_request(
        user=user_a, start=yesterday, end=yesterday, trigger=SyncTrigger.MANUAL, enqueue=False
    )
    assert sync_run_execute(run_id=run.pk).state == SyncState.SUCCEEDED
    activity = [r for r in platform.requests if r.path == "/activity"]
    assert [r.query.get("api_key_hash") for r in activity] == [row.platform_key_hash]
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(user_a)
    html = page.get("/dashboard/integrations/ai/configure/", HTTP_HX_REQUEST="true").content.decode()
    assert "activity_whole_account" not in html
    section = page.get("/dashboard/openrouter/activity/")
    assert section.status_code == 200
    assert "Synced: the spend of your API key only." in section.content.decode()


def test_the_nightly_sync_includes_platform_key_tenants(platform: Any, staff: Any, user_a: Any) -> None:
    _provisioned(user_a, staff)
    AISettingsFactory(user=UserFactory())  # an own key without a management key: not synced

    runs = sync_nightly_fan_out()

    assert len(runs) == 1


def test_sync_of_a_platform_tenant_needs_attention_when_the_platform_key_is_gone(
    platform: Any, settings: Any, staff: Any, user_a: Any
) -> None:
    _provisioned(user_a, staff)
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = ""
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    run, _created = sync_run_request(
        user=user_a, start=yesterday, end=yesterday, trigger=SyncTrigger.MANUAL, enqueue=False
    )

    done = sync_run_execute(run_id=run.pk)

    assert (done.state, done.error_code) == (SyncState.NEEDS_ATTENTION, "management_key_missing")
    assert [r for r in platform.requests if r.path == "/activity"] == []


# ------------------------------------------------------------------ canary


def test_the_provisioned_key_never_appears_in_admin_html_messages_logs_or_audit_rows(
    platform: Any, staff_page: Client, user_a: Any, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    row = _empty_row(user_a)
    url = _page_url(row)
    seen: list[str] = []
    seen.append(_text(staff_page.post(url, {"action": "create", "limit_usd": "10"}, follow=True)))
    keys = [openrouter_key_get(user=user_a, slot=KeySlot.API)]
    seen.append(_text(staff_page.post(url, {"action": "rotate"}, follow=True)))
    keys.append(openrouter_key_get(user=user_a, slot=KeySlot.API))
    for post in ({"action": "limit", "limit_usd": "12"}, {"action": "disable"}, {"action": "enable"}):
        seen.append(_text(staff_page.post(url, post, follow=True)))
    seen.append(_text(staff_page.get(f"/admin/integrations/aisettings/{row.pk}/change/")))
    seen.append(_text(staff_page.get("/admin/integrations/aisettings/")))
    seen.append(_text(staff_page.get("/admin/core/auditevent/")))
    seen.append(_text(staff_page.post(url, {"action": "delete"}, follow=True)))
    audit = [f"{e.target} {e.detail}" for e in AuditEvent.objects.all()]

    assert len(audit) == 6
    for key in keys:
        secret_part = key[9:]  # everything after "sk-or-v1-"
        for piece in {secret_part[i : i + 12] for i in range(len(secret_part) - 11)}:
            assert not any(piece in text for text in seen)
            assert not any(piece in text for text in audit)
            assert piece not in caplog.text


# ------------------------------------------------------------------ the settings API


SETTINGS_API = "/api/integrations/openrouter/"


def test_the_settings_api_shows_the_platform_key_without_the_key(
    platform: Any, api_a: Any, api_b: Any, staff: Any, user_a: Any
) -> None:
    plaintext = _provisioned(user_a, staff, "30")

    mine = api_a.get(SETTINGS_API).json()
    theirs = api_b.get(SETTINGS_API).json()

    assert (mine["api_key_source"], mine["platform_key"]) == (
        "platform",
        {"limit_usd": "30.00", "limit_reset": "monthly", "disabled": False},
    )
    assert mine["api_key"]["last4"] == plaintext[-4:]
    assert plaintext[9:21] not in str(mine)
    assert (theirs["api_key_source"], theirs["platform_key"], theirs["api_key"]["configured"]) == (
        "own",
        None,
        False,
    )


def test_the_settings_api_refuses_to_replace_or_remove_a_platform_key(
    platform: Any, api_a: Any, staff: Any, user_a: Any
) -> None:
    plaintext = _provisioned(user_a, staff)

    replaced = api_a.put(SETTINGS_API, {"api_key": "sk-or-v1-" + "f6" * 32}, format="json")
    removed = api_a.put(SETTINGS_API, {"remove_api_key": True}, format="json")

    for response in (replaced, removed):
        assert response.status_code == 400
        assert response.json() == {
            "error": {
                "code": "invalid",
                "message": "Your API key is provided by the platform and cannot be replaced or removed here.",
            }
        }
    assert openrouter_key_get(user=user_a, slot=KeySlot.API) == plaintext


def test_the_status_card_says_a_management_key_is_not_needed(
    platform: Any, page_a: Client, staff: Any, user_a: Any
) -> None:
    _provisioned(user_a, staff)
    status = _text(page_a.get(STATUS))
    assert "Not needed: the platform reads your key's activity history with its own management key." in status
    assert "Optional. Add one to see the account balance" not in status


def test_the_admin_page_shows_openrouters_usage_of_the_key(
    platform: Any, staff_page: Client, staff: Any, user_a: Any
) -> None:
    plaintext = _provisioned(user_a, staff, "10")
    platform.key(plaintext).add_spend(dt.datetime.now(dt.UTC).date(), Decimal("2.5"))
    row = AISettings.objects.get(user=user_a)

    text = _text(staff_page.get(_page_url(row)))

    assert "Used this month: $2.50. Left of the limit: $7.50." in text


def test_the_admin_page_says_when_openrouter_cannot_be_asked(
    platform: Any, staff_page: Client, staff: Any, user_a: Any
) -> None:
    _provisioned(user_a, staff)
    row = AISettings.objects.get(user=user_a)
    platform.inject("status", path=f"/keys/{row.platform_key_hash}", status=502)

    text = _text(staff_page.get(_page_url(row)))

    assert (
        '<div class="readonly" id="platform-key-upstream"> OpenRouter refused the request (HTTP 502)' in text
    )


def test_the_ai_tab_intro_says_the_key_is_provided(
    platform: Any, page_a: Client, staff: Any, user_a: Any
) -> None:
    _provisioned(user_a, staff)
    text = _text(page_a.get(INDEX))
    assert "Your OpenRouter key is provided by the platform." in text
    assert "Connect your OpenRouter account." not in text


def test_a_non_numeric_admin_id_is_not_a_server_error(platform: Any, staff_page: Client) -> None:
    response = staff_page.get("/admin/integrations/aisettings/abc/platform-key/", follow=True)
    assert response.status_code in (200, 404)
    assert "Platform key for" not in _text(response)
