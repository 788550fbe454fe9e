"""The AI tab's budget card in headless Chromium, in Swedish and English: set a budget, see the bar
on the OpenRouter dashboard, lower it below the month's spend and see the blocked banner."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.integrations.models import Budget
from tests.browser.conftest import login
from tests.factories import PASSWORD, AISettingsFactory, LedgerRowFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAB = "/dashboard/integrations/?tab=ai"
DASHBOARD = "/dashboard/openrouter/"
SHOTS = os.environ.get("BROWSER_SCREENSHOTS", "")

TEXTS = {
    "sv": {
        "saved": "Budgeten sparades.",
        "limit": "100,00 kr",
        "spent": "60,00 kr",
        "blocked": "Månadens AI-budget på 50,00 kr är förbrukad: AI-anrop blockeras till",
    },
    "en": {
        "saved": "Budget saved.",
        "limit": "100.00 kr",
        "spent": "60.00 kr",
        "blocked": "This month's AI budget of 50.00 kr is spent: AI calls are blocked until",
    },
}


def _text(locator: Any) -> str:
    # Amounts keep a no-break space before "kr"; compare with ordinary spaces.
    return " ".join(locator.inner_text().replace("\xa0", " ").split())


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _save_budget(page: Any, live_server: Any, limit: str, saved: str) -> None:
    page.goto(f"{live_server.url}{TAB}")
    page.wait_for_selector("#ai-budget-form")
    page.fill("#id_monthly_limit_sek", limit)
    page.select_option("#id_policy", "block")
    page.click("#ai-budget-save")
    page.wait_for_selector("#ai-budget .msg-success")
    assert page.locator("#ai-budget .msg-success").inner_text().strip() == saved


@pytest.mark.parametrize("language", ["sv", "en"])
def test_budget_card_bar_and_blocked_banner(
    page: Any, live_server: Any, emulator: Any, account: Any, language: str
) -> None:
    user = UserFactory(username="budgeteer")
    AISettingsFactory(user=user, openrouter_api_key=emulator.add_key(account, kind="inference"))
    LedgerRowFactory(user=user, created_at=timezone.now(), cost_sek=Decimal("60"))
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    texts = TEXTS[language]
    login(page, live_server, "budgeteer", PASSWORD)

    _save_budget(page, live_server, "100", texts["saved"])
    _shot(page, f"ai-tab-budget-{language}")
    assert Budget.objects.get(user=user, use_case="").monthly_limit_sek == Decimal("100")

    # The OpenRouter dashboard's bar: 60 of 100 spent, nothing blocked yet.
    page.goto(f"{live_server.url}{DASHBOARD}")
    page.wait_for_selector("#or-budget .budgetbar")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("#or-budget [role=meter]").get_attribute("aria-valuenow") == "60"
    assert _text(page.locator("#budget-limit")) == texts["limit"]
    assert _text(page.locator("#budget-spent")) == texts["spent"]
    assert page.locator("#budget-banner").count() == 0

    # A limit below the month's spend blocks the AI calls, and every page says so.
    _save_budget(page, live_server, "50", texts["saved"])
    page.goto(f"{live_server.url}{DASHBOARD}")
    page.wait_for_selector("#budget-banner")
    _shot(page, f"dashboard-budget-blocked-{language}")
    banner = page.locator("#budget-banner")
    assert banner.get_attribute("data-state") == "blocked"
    assert texts["blocked"] in _text(banner)
    assert page.js_errors == []
