"""A platform-key tenant's key limit (USD, at OpenRouter) and budget (SEK) agree or are shown to
differ: staff align either one from the admin's Platform key page (audited, converted at the dated
rate), the tenant sees the key's limit beside the budget, and no other tenant's limits show."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from apps.core.models import AuditAction, AuditEvent
from apps.integrations.limit_agreement import (
    budget_align_to_key,
    key_limit_align_to_budget,
    limit_agreement,
)
from apps.integrations.models import AISettings, Budget
from apps.integrations.platform_keys import PlatformKeyError, platform_key_create
from tests.factories import BudgetFactory, FxRateFactory

pytestmark = pytest.mark.django_db

CARD = "/dashboard/integrations/ai/budget/"


@pytest.fixture
def platform(settings: Any, emulator: Any, management_key: str) -> Any:
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = management_key
    FxRateFactory(valid_from=dt.date(2020, 1, 1), usd_sek=Decimal("10.000000"))
    return emulator


def _provision(user: Any, actor: Any, limit: str = "50") -> AISettings:
    AISettings.objects.get_or_create(user=user)
    platform_key_create(user=user, actor=actor, limit_usd=limit)
    return AISettings.objects.get(user=user)


def _page_url(row: AISettings) -> str:
    return f"/admin/integrations/aisettings/{row.pk}/platform-key/"


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _patches(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.method == "PATCH" and r.path.startswith("/keys/")]


# ------------------------------------------------------------------ services


def test_the_limits_are_compared_at_the_dated_rate(platform: Any, user_a: Any, staff: Any) -> None:
    row = _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("400"))

    agreement = limit_agreement(user=user_a, row=row)

    assert agreement is not None
    assert (agreement.key_limit_usd, agreement.key_limit_sek) == (Decimal("50.00"), Decimal("500.00"))
    assert (agreement.budget_limit_sek, agreement.budget_limit_usd) == (Decimal("400"), Decimal("40.00"))
    assert agreement.rate == Decimal("10.000000")
    assert agreement.differ


def test_a_tenant_on_their_own_key_has_nothing_to_agree(user_a: Any) -> None:
    row = AISettings.objects.create(user=user_a, openrouter_api_key="sk-or-v1-own-key-abcd")
    BudgetFactory(user=user_a)
    assert limit_agreement(user=user_a, row=row) is None


def test_budget_follows_the_key_with_an_audit_row(platform: Any, user_a: Any, staff: Any) -> None:
    row = _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("400"))
    use_case = BudgetFactory(user=user_a, use_case="chat", monthly_limit_sek=Decimal("30"))

    assert budget_align_to_key(user=user_a, actor=staff, row=row) == Decimal("500.00")

    assert Budget.objects.get(user=user_a, use_case="").monthly_limit_sek == Decimal("500.00")
    use_case.refresh_from_db()
    assert use_case.monthly_limit_sek == Decimal("30.00")  # use-case limits are left alone
    event = AuditEvent.objects.get(user=user_a, action=AuditAction.SETTINGS_CHANGED, target="budget")
    assert event.actor == staff
    assert event.detail == {
        "aligned_to": "platform_key_limit",
        "limit_sek": "500.00",
        "previous_limit_sek": "400.00",
        "platform_key_limit_usd": "50.00",
        "usd_sek_rate": "10.000000",
        "rate_date": event.detail["rate_date"],
    }
    assert limit_agreement(user=user_a, row=row).differ is False  # type: ignore[union-attr]


def test_key_follows_the_budget_upstream_rounded_down(platform: Any, user_a: Any, staff: Any) -> None:
    row = _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("333.33"))

    result = key_limit_align_to_budget(user=user_a, actor=staff, row=row)

    assert result.limit_usd == Decimal("33.33")
    assert [r.body for r in _patches(platform)] == [{"limit": 33.33, "limit_reset": "monthly"}]
    assert AISettings.objects.get(user=user_a).platform_key_limit_usd == Decimal("33.33")
    event = AuditEvent.objects.get(user=user_a, action=AuditAction.PLATFORM_KEY_LIMIT_CHANGED)
    assert (event.detail["limit_usd"], event.detail["previous_limit_usd"]) == ("33.33", "50.00")


def test_without_a_budget_nothing_is_aligned(platform: Any, user_a: Any, staff: Any) -> None:
    row = _provision(user_a, staff, "50")

    with pytest.raises(PlatformKeyError):
        budget_align_to_key(user=user_a, actor=staff, row=row)
    with pytest.raises(PlatformKeyError):
        key_limit_align_to_budget(user=user_a, actor=staff, row=row)
    assert not Budget.objects.exists()
    assert _patches(platform) == []


# ------------------------------------------------------------------ admin page


def test_admin_offers_both_alignments_when_they_differ(
    platform: Any, user_a: Any, staff: Any, staff_page: Client
) -> None:
    row = _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("400"))

    text = _text(staff_page.get(_page_url(row)))

    assert 'id="agreement-differ"' in text
    assert 'value="budget_from_key"' in text
    assert 'value="key_from_budget"' in text
    assert 'id="id_align_budget"' in text


def test_admin_changes_the_limit_and_the_budget_together(
    platform: Any, user_a: Any, staff: Any, staff_page: Client
) -> None:
    row = _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("500"))

    response = staff_page.post(
        _page_url(row), {"action": "limit", "limit_usd": "20", "align_budget": "1"}, follow=True
    )

    text = _text(response)
    assert "The monthly limit of platform key" in text
    assert "The tenant&#x27;s monthly budget is now" in text
    assert Budget.objects.get(user=user_a).monthly_limit_sek == Decimal("200.00")
    assert AISettings.objects.get(user=user_a).platform_key_limit_usd == Decimal("20.00")
    assert 'id="agreement-same"' in text
    actions = set(AuditEvent.objects.filter(user=user_a).values_list("action", flat=True))
    assert {AuditAction.PLATFORM_KEY_LIMIT_CHANGED, AuditAction.SETTINGS_CHANGED} <= actions


def test_admin_limit_change_without_the_box_leaves_the_budget(
    platform: Any, user_a: Any, staff: Any, staff_page: Client
) -> None:
    row = _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("500"))

    staff_page.post(_page_url(row), {"action": "limit", "limit_usd": "20"})

    assert Budget.objects.get(user=user_a).monthly_limit_sek == Decimal("500.00")
    assert not AuditEvent.objects.filter(user=user_a, target="budget").exists()


def test_admin_sets_the_key_from_the_budget(
    platform: Any, user_a: Any, staff: Any, staff_page: Client
) -> None:
    row = _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("250"))

    text = _text(staff_page.post(_page_url(row), {"action": "key_from_budget"}, follow=True))

    assert "is now 25.00 USD, the tenant&#x27;s budget at today&#x27;s rate." in text
    assert [r.body for r in _patches(platform)] == [{"limit": 25.0, "limit_reset": "monthly"}]


def test_admin_budget_from_key_touches_only_that_tenant(
    platform: Any, user_a: Any, user_b: Any, staff: Any, staff_page: Client
) -> None:
    row = _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("100"))
    BudgetFactory(user=user_b, monthly_limit_sek=Decimal("100"))

    staff_page.post(_page_url(row), {"action": "budget_from_key"})

    assert Budget.objects.get(user=user_a).monthly_limit_sek == Decimal("500.00")
    assert Budget.objects.get(user=user_b).monthly_limit_sek == Decimal("100.00")


# ------------------------------------------------------------------ tenant's card


def test_tenant_sees_the_key_limit_and_the_difference(
    platform: Any, user_a: Any, staff: Any, page_a: Client
) -> None:
    _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("400"))

    text = _text(page_a.get(CARD, HTTP_ACCEPT_LANGUAGE="en"))

    assert 'id="ai-budget-key-limit"' in text
    assert "Only the platform's staff can change it." in text
    assert "differs from it" in text


def test_tenant_sees_no_note_when_they_agree(platform: Any, user_a: Any, staff: Any, page_a: Client) -> None:
    _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("500"))

    text = _text(page_a.get(CARD, HTTP_ACCEPT_LANGUAGE="en"))

    assert 'id="ai-budget-key-limit"' in text
    assert "differs from it" not in text


def test_another_tenants_key_limit_never_shows(
    platform: Any, user_a: Any, user_b: Any, staff: Any, page_a: Client
) -> None:
    _provision(user_b, staff, "50")
    BudgetFactory(user=user_b, monthly_limit_sek=Decimal("400"))

    text = _text(page_a.get(CARD))

    assert 'id="ai-budget-key-limit"' not in text


@pytest.mark.parametrize("page_language", ["sv"])
def test_tenant_note_in_swedish(platform: Any, user_a: Any, staff: Any, page_a: Client) -> None:
    _provision(user_a, staff, "50")
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("400"))

    text = _text(page_a.get(CARD)).replace("\xa0", " ")

    assert "Plattformens OpenRouter-nyckel för ditt konto har en månadsgräns på $50,00" in text
    assert "Din budget (400,00 kr) skiljer sig från den" in text
