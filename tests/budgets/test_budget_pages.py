"""The budget on pages: the AI tab's card, the OpenRouter dashboard's bar, the banner and the
notifications on every page; each acts on the signed-in tenant alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.core.models import Notification
from apps.integrations.models import Budget
from tests.factories import BudgetFactory, LedgerRowFactory

pytestmark = pytest.mark.django_db

CARD = "/dashboard/integrations/ai/budget/"
MINI = "openai/gpt-4o-mini"


def _post(page: Client, **values: str) -> Any:
    data = {"monthly_limit_sek": "", "soft_threshold_percent": "80", "policy": "block", "fallback_model": ""}
    data.update(values)
    return page.post(CARD, data, HTTP_HX_REQUEST="true")


def test_the_ai_tab_loads_the_budget_card(page_a: Client) -> None:
    html = page_a.get("/dashboard/integrations/?tab=ai").content.decode()
    assert f'hx-get="{CARD}"' in html
    card = page_a.get(CARD, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="ai-budget-form"' in card
    assert "Chat assistant" in card or "Chattassistent" in card


def test_saving_a_budget_with_a_use_case_policy(page_a: Client, user_a: Any, emulator: Any) -> None:
    response = _post(
        page_a,
        monthly_limit_sek="1 500,50",
        policy="degrade",
        fallback_model=MINI,
        email_alerts="on",
        policy_chat="block",
        limit_chat="200",
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    rows = {b.use_case: b for b in Budget.objects.filter(user=user_a)}
    assert rows[""].monthly_limit_sek == Decimal("1500.50")
    assert (rows[""].policy, rows[""].fallback_model, rows[""].email_alerts) == ("degrade", MINI, True)
    assert (rows["chat"].policy, rows["chat"].monthly_limit_sek) == ("block", Decimal("200"))
    assert set(rows) == {"", "chat"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"monthly_limit_sek": "-1"}, "monthly_limit_sek"),
        ({"monthly_limit_sek": "99999999999"}, "monthly_limit_sek"),
        ({"monthly_limit_sek": "100", "soft_threshold_percent": "120"}, "soft_threshold_percent"),
        (
            {"monthly_limit_sek": "100", "policy": "degrade", "fallback_model": "acme/unknown-1"},
            "fallback_model",
        ),
        ({"monthly_limit_sek": "100", "policy": "degrade"}, "fallback_model"),
        ({"monthly_limit_sek": "100", "limit_chat": "-3"}, "limit_chat"),
    ],
)
def test_bad_input_is_a_400_with_the_field_marked(
    page_a: Client, emulator: Any, values: dict[str, str], field: str
) -> None:
    response = _post(page_a, **values)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="errorlist' in html
    assert f'name="{field}"' in html
    assert not Budget.objects.exists()


def test_the_dashboard_shows_the_budget_bar(page_a: Client, user_a: Any) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("200"))
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("50"))
    html = page_a.get("/dashboard/openrouter/").content.decode()
    assert 'id="or-budget"' in html
    assert 'aria-valuenow="25"' in html
    assert "50,00" in html
    assert "150,00" in html
    assert 'id="budget-forecast"' in html
    assert 'id="budget-banner"' not in html


def test_without_a_budget_the_dashboard_says_so(page_a: Client) -> None:
    html = page_a.get("/dashboard/openrouter/").content.decode()
    assert 'id="budget-none"' in html


@pytest.mark.parametrize(
    ("policy", "fallback", "state"), [("block", "", "blocked"), ("degrade", MINI, "degraded")]
)
def test_a_banner_on_every_page_when_spent(
    page_a: Client, user_a: Any, policy: str, fallback: str, state: str
) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"), policy=policy, fallback_model=fallback)
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("11"))
    for path in ("/dashboard/", "/dashboard/analytics/", "/dashboard/integrations/?tab=ai"):
        html = page_a.get(path).content.decode()
        assert f'data-state="{state}"' in html, path


def test_another_tenants_budget_never_shows(page_a: Client, user_b: Any) -> None:
    BudgetFactory(user=user_b, monthly_limit_sek=Decimal("10"))
    LedgerRowFactory(user=user_b, created_at=timezone.now(), cost_sek=Decimal("11"))
    html = page_a.get("/dashboard/openrouter/").content.decode()
    assert 'id="budget-banner"' not in html
    assert 'id="budget-none"' in html
    card = page_a.get(CARD, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="10' not in card


def test_notifications_show_and_dismiss_only_ones_own(page_a: Client, user_a: Any, user_b: Any) -> None:
    mine = Notification.objects.create(
        user=user_a, event="budget_soft", period="2026-11", title="Min varning"
    )
    theirs = Notification.objects.create(
        user=user_b, event="budget_soft", period="2026-11", title="Bobs varning"
    )
    html = page_a.get("/dashboard/").content.decode()
    assert "Min varning" in html
    assert "Bobs varning" not in html
    assert page_a.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    response = page_a.post(f"/notifications/{mine.pk}/read/", {"next": "/dashboard/"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None
    assert "Min varning" not in page_a.get("/dashboard/").content.decode()
    # An open redirect is refused.
    third = Notification.objects.create(user=user_a, event="budget_block", period="2026-11", title="x")
    response = page_a.post(f"/notifications/{third.pk}/read/", {"next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    ("language", "card_title", "banner", "error"),
    [
        ("sv", "Månatlig AI-budget", "AI-anrop blockeras", "Gränsen kan inte vara negativ."),
        ("en", "Monthly AI budget", "AI calls are blocked", "The limit cannot be negative."),
    ],
)
def test_budget_pages_in_swedish_and_english(
    user_a: Any, language: str, card_title: str, banner: str, error: str
) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE=language)
    page.force_login(user_a)
    assert card_title in page.get(CARD, HTTP_HX_REQUEST="true").content.decode()
    bad = page.post(CARD, {"monthly_limit_sek": "-5", "soft_threshold_percent": "80", "policy": "block"})
    assert bad.status_code == 400
    assert error in bad.content.decode()
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"))
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("11"))
    assert banner in page.get("/dashboard/").content.decode()
