"""Every page fits a phone: at 390 px nothing is wider than the screen (tables scroll inside)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from apps.accounts.services import api_token_create
from apps.ai_gateway import features
from apps.ai_gateway.models import ChatConversation
from tests.browser.conftest import login
from tests.factories import PASSWORD, AISettingsFactory, BookingFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("SCREENSHOT_DIR")
PAGES = [
    "/dashboard/",
    "/dashboard/integrations/?tab=ai",
    "/dashboard/integrations/ai/configure/",
    "/dashboard/openrouter/",
    "/dashboard/analytics/",
    "/dashboard/ai/",
    "/dashboard/ai/chat/",
    "/dashboard/ai/lead-enrichment/",
    "/dashboard/ai/review-analysis/",
    "/dashboard/ai/sms-classification/",
    "/dashboard/ai/message-generation/",
    "/dashboard/ai/prompt/",
    "/dashboard/settings/?tab=roi",
    "/accounts/tokens/",
    "/accounts/password/change/",
]


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _widest(page: Any) -> list[str]:
    """The elements sticking out past the right edge, for a readable failure."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > 391)
                 .slice(0, 8)
                 .map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.')
                            + ' ' + Math.round(e.getBoundingClientRect().right))"""
        )
    )


@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, locale="sv-SE", is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_page_fits_a_390px_screen(
    phone: Any, live_server: Any, emulator: Any, inference_key: str, language: str
) -> None:
    user = UserFactory(username="phone")
    AISettingsFactory(user=user, openrouter_api_key=inference_key)
    # Data in every table: AI calls (the latest-calls tables), a conversation, a token, bookings.
    features.prompt_run(user=user, prompt="Skriv en lång mening om öppettider och parkering.")
    features.sms_classify(user=user, text="Kan jag boka en tid på fredag?")
    features.chat_send(user=user, message="Har ni öppet på lördag förmiddag?")
    api_token_create(user=user, name="Ett ganska långt namn på en integration med CRM-systemet")
    BookingFactory(user=user)
    login(phone, live_server, "phone", PASSWORD)
    phone.click(f"form.langswitch button[value={language}]")
    phone.wait_for_load_state()
    conversation = ChatConversation.objects.get(user=user)
    for path in [*PAGES, f"/dashboard/ai/chat/{conversation.pk}/"]:
        response = phone.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        phone.wait_for_load_state("networkidle")
        if SHOTS:
            name = path.strip("/").replace("/", "_").replace("?", "_") or "root"
            phone.screenshot(path=str(Path(SHOTS) / f"phone_{language}_{name}.png"), full_page=True)
        assert _overflow(phone) <= PHONE["width"], (path, _widest(phone))
    # The menu opens into a column that fits as well.
    phone.goto(f"{live_server.url}/dashboard/")
    phone.click("label.nav-toggle-label")
    assert phone.locator("nav.mainnav a").first.is_visible()
    assert _overflow(phone) <= PHONE["width"]
    assert phone.js_errors == []
