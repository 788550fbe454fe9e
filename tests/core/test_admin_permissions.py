"""Admin follows Django permissions, never is_staff alone; records that must stay cannot be deleted."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from apps.accounts.models import APIToken
from apps.accounts.services import api_token_create
from apps.ai_gateway.models import ChatConversation, IdempotencyRecord
from apps.core.models import AuditEvent
from apps.integrations.models import CreditSnapshot
from apps.usage.models import AIUsageLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ledger_row(user: Any) -> AIUsageLog:
    return AIUsageLog.objects.create(
        user=user, provider="openrouter", model="openai/gpt-4o-mini", use_case="chat", status="success"
    )


def test_item10_staff_without_permission_cannot_view_or_export_the_ledger(user_a: Any) -> None:
    row = _ledger_row(user_a)
    staff = UserFactory(username="helpdesk", is_staff=True)
    client = _login(staff)
    assert client.get("/admin/usage/aiusagelog/").status_code == 403
    assert client.get(f"/admin/usage/aiusagelog/{row.pk}/change/").status_code == 403
    export = client.post("/admin/usage/aiusagelog/", {"action": "export_csv", "_selected_action": [row.pk]})
    assert export.status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_aiusagelog"))
    client = _login(type(staff).objects.get(pk=staff.pk))
    assert client.get("/admin/usage/aiusagelog/").status_code == 200
    export = client.post("/admin/usage/aiusagelog/", {"action": "export_csv", "_selected_action": [row.pk]})
    assert export.status_code == 200
    assert export["Content-Type"] == "text/csv; charset=utf-8"


def test_item10_a_revoked_token_cannot_be_revived_in_admin(admin_user: Any, user_a: Any) -> None:
    issued = api_token_create(user=user_a, name="partner")
    revoked_at = timezone.now()
    APIToken.objects.filter(pk=issued.token.pk).update(revoked_at=revoked_at)
    client = _login(admin_user)
    response = client.post(
        f"/admin/accounts/apitoken/{issued.token.pk}/change/", {"revoked_at_0": "", "revoked_at_1": ""}
    )
    assert response.status_code == 302
    assert APIToken.objects.get(pk=issued.token.pk).revoked_at == revoked_at
    api = Client().get("/api/v1/models", HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    assert api.status_code == 401


def test_item10_revoking_in_admin_is_audited_with_the_staff_actor(admin_user: Any, user_a: Any) -> None:
    issued = api_token_create(user=user_a, name="partner")
    client = _login(admin_user)
    response = client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [issued.token.pk]}
    )
    assert response.status_code == 302
    assert APIToken.objects.get(pk=issued.token.pk).revoked_at is not None
    event = AuditEvent.objects.get(action="token_revoked")
    assert (event.actor, event.user, event.target) == (admin_user, user_a, f"api_token:{issued.token.pk}")


def test_item10_records_that_must_stay_cannot_be_deleted(admin_user: Any, user_a: Any) -> None:
    record = IdempotencyRecord.objects.create(user=user_a, key="k", fingerprint="f" * 64, status_code=200)
    snapshot = CreditSnapshot.objects.create(
        user=user_a, taken_at=timezone.now(), minute=timezone.now(), source="account"
    )
    conversation = ChatConversation.objects.create(user=user_a, title="Öppettider")
    client = _login(admin_user)
    for path in (
        f"/admin/ai_gateway/idempotencyrecord/{record.pk}/delete/",
        f"/admin/integrations/creditsnapshot/{snapshot.pk}/delete/",
        f"/admin/ai_gateway/chatconversation/{conversation.pk}/delete/",
    ):
        assert client.post(path, {"post": "yes"}).status_code == 403, path
    assert IdempotencyRecord.objects.count() == CreditSnapshot.objects.count() == 1
    assert ChatConversation.objects.count() == 1
