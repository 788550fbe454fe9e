"""Admin: staff replace or clear tenants' keys (audited), never read them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from apps.core.models import AuditEvent
from apps.integrations.models import AISettings
from apps.integrations.selectors import openrouter_api_key_get, openrouter_management_key_get
from apps.integrations.services import ai_settings_update
from tests.factories import CreditSnapshotFactory

pytestmark = pytest.mark.django_db

KEY_A = "sk-or-v1-" + "a1" * 32
KEY_B = "sk-or-v1-" + "b2" * 32
MGMT = "sk-or-v1-" + "c3" * 32
CHANGELIST = "/admin/integrations/aisettings/"


@pytest.fixture
def row(user_a: Any) -> AISettings:
    ai_settings_update(user=user_a, actor=user_a, api_key=KEY_A, management_key=MGMT, verify=False)
    return AISettings.objects.get(user=user_a)


def _change_form(row: AISettings, **overrides: Any) -> dict[str, Any]:
    data = {
        "ai_provider": row.ai_provider,
        "default_model": row.default_model,
        "new_api_key": "",
        "new_management_key": "",
        **{
            f"model_{uc}": ""
            for uc in (
                "chat",
                "lead_enrichment",
                "review_analysis",
                "sms_classification",
                "message_generation",
                "generic",
            )
        },
    }
    data.update(overrides)
    return data


def test_ordinary_users_cannot_reach_the_admin(user_a: Any, row: AISettings) -> None:
    client = Client()
    client.force_login(user_a)
    response = client.get(f"{CHANGELIST}{row.pk}/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_list_shows_last_4_and_state_never_the_key(staff_page: Client, row: AISettings) -> None:
    response = staff_page.get(CHANGELIST)
    assert response.status_code == 200
    text = response.content.decode()
    assert "…a1a1" in text
    assert "…c3c3" in text
    assert KEY_A not in text
    assert MGMT not in text
    assert "gAAAA" not in text  # no ciphertext either


def test_the_change_page_has_write_only_key_fields(staff_page: Client, row: AISettings) -> None:
    response = staff_page.get(f"{CHANGELIST}{row.pk}/change/")
    assert response.status_code == 200
    text = response.content.decode()
    assert KEY_A not in text
    assert MGMT not in text
    assert "gAAAA" not in text
    for name in ("new_api_key", "new_management_key"):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', text)
        assert field is not None
        assert 'type="password"' in field.group(0)
        assert "value=" not in field.group(0)
    assert "Enter a new key to replace the stored one. Leave empty to keep it." in text
    assert 'name="clear_api_key"' in text
    assert 'name="clear_management_key"' in text
    assert "…a1a1" in text
    assert "Not verified" in text


def test_saving_without_a_key_keeps_the_stored_keys(
    staff_page: Client, staff: Any, user_a: Any, row: AISettings
) -> None:
    response = staff_page.post(
        f"{CHANGELIST}{row.pk}/change/",
        _change_form(row, default_model="openai/gpt-4o-mini", use_system_fallback="on"),
    )
    assert response.status_code == 302
    assert openrouter_api_key_get(user=user_a) == KEY_A
    assert openrouter_management_key_get(user=user_a) == MGMT
    changed = AISettings.objects.get(pk=row.pk)
    assert (changed.default_model, changed.use_system_fallback) == ("openai/gpt-4o-mini", True)
    event = AuditEvent.objects.filter(actor=staff).get()
    assert (event.action, event.user_id, event.detail) == (
        "settings_changed",
        user_a.pk,
        {"fields": ["default_model", "use_system_fallback"]},
    )


def test_staff_can_replace_a_key_and_it_is_audited(
    staff_page: Client, staff: Any, user_a: Any, row: AISettings
) -> None:
    response = staff_page.post(f"{CHANGELIST}{row.pk}/change/", _change_form(row, new_api_key=KEY_B))
    assert response.status_code == 302
    assert openrouter_api_key_get(user=user_a) == KEY_B
    event = AuditEvent.objects.filter(actor=staff).get()
    assert (event.action, event.user_id, event.detail) == (
        "key_replaced",
        user_a.pk,
        {"slot": "api", "last4": "b2b2", "previous_last4": "a1a1"},
    )


def test_staff_can_clear_a_key_and_it_is_audited(
    staff_page: Client, staff: Any, user_a: Any, row: AISettings
) -> None:
    staff_page.post(f"{CHANGELIST}{row.pk}/change/", _change_form(row, clear_management_key="on"))
    assert AISettings.objects.get(pk=row.pk).management_key_last4 == ""
    assert openrouter_api_key_get(user=user_a) == KEY_A
    event = AuditEvent.objects.filter(actor=staff).get()
    assert (event.action, event.detail) == ("key_removed", {"slot": "management", "last4": "c3c3"})


def test_a_bad_key_in_admin_is_refused_and_not_echoed(staff_page: Client, row: AISettings) -> None:
    bad = "sk-or-v1-" + "d4" * 10 + " " + "d4" * 10
    response = staff_page.post(f"{CHANGELIST}{row.pk}/change/", _change_form(row, new_api_key=bad))
    assert response.status_code == 200
    text = response.content.decode()
    assert "spaces, line breaks or invisible characters" in text
    assert bad not in text
    assert "d4d4d4d4d4d4" not in text
    assert AuditEvent.objects.filter(actor__username="staff").count() == 0


def test_staff_can_create_settings_for_a_user(staff_page: Client, staff: Any, user_b: Any) -> None:
    response = staff_page.post(
        f"{CHANGELIST}add/",
        {
            **_change_form(AISettings(), new_api_key=KEY_B),
            "user": str(user_b.pk),
            "ai_provider": "openrouter",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert openrouter_api_key_get(user=user_b) == KEY_B
    assert AuditEvent.objects.get(actor=staff).action == "key_created"


def test_settings_rows_cannot_be_deleted_in_admin(staff_page: Client, row: AISettings) -> None:
    assert staff_page.get(f"{CHANGELIST}{row.pk}/delete/").status_code == 403


def test_credit_snapshots_are_read_only_in_admin(staff_page: Client) -> None:
    assert staff_page.get("/admin/integrations/creditsnapshot/").status_code == 200
    assert staff_page.get("/admin/integrations/creditsnapshot/add/").status_code == 403


def test_credit_snapshot_admin_shows_money_in_the_short_shared_form(staff_page: Client, user_a: Any) -> None:
    taken = dt.datetime(2026, 11, 2, 10, 15, tzinfo=dt.UTC)
    snap = CreditSnapshotFactory(
        user=user_a,
        taken_at=taken,
        total_credits=Decimal("4033.5"),
        total_usage=Decimal("0.000031"),
        remaining=Decimal("4033.499969"),
    )
    for url in (
        "/admin/integrations/creditsnapshot/",
        f"/admin/integrations/creditsnapshot/{snap.pk}/change/",
    ):
        response = staff_page.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "$4,033.50" in html
        assert "$0.000031" in html
        assert "4033.500000000" not in html
        assert "0.000031000" not in html
