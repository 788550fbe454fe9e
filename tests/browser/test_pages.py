"""Every area of the product renders in a real browser, in Swedish and in English."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import login
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    ("/dashboard/", {"sv": "Översikt", "en": "Dashboard"}),
    ("/dashboard/integrations/?tab=ai", {"sv": "Integrationer", "en": "Integrations"}),
    ("/dashboard/openrouter/", {"sv": "OpenRouter", "en": "OpenRouter"}),
    ("/dashboard/analytics/", {"sv": "Analys", "en": "Analytics"}),
    ("/dashboard/ai/", {"sv": "AI-funktioner", "en": "AI features"}),
    ("/dashboard/settings/?tab=roi", {"sv": "ROI-inställningar", "en": "ROI settings"}),
    ("/dashboard/roi/", {"sv": "ROI-rapport", "en": "ROI report"}),
    ("/accounts/tokens/", {"sv": "API-tokens", "en": "API tokens"}),
]
SHOTS = os.environ.get("SCREENSHOT_DIR")


def _switch_language(page: Any, code: str) -> None:
    page.click(f"form.langswitch button[value={code}]")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_area_renders_without_errors(page: Any, live_server: Any, language: str) -> None:
    UserFactory(username="demo")
    login(page, live_server, "demo", PASSWORD)
    _switch_language(page, language)
    for path, titles in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == language
        assert titles[language] in page.locator("h1").first.inner_text(), path
        assert page.locator("nav.mainnav a").count() == 7
        if SHOTS:
            name = path.strip("/").replace("/", "_").replace("?", "_") or "root"
            page.screenshot(path=str(Path(SHOTS) / f"{language}_{name}.png"), full_page=True)
    assert page.js_errors == []


def test_login_rejects_a_wrong_password_with_a_message(page: Any, live_server: Any) -> None:
    UserFactory(username="demo")
    page.goto(f"{live_server.url}/dashboard/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "demo")
    page.fill("#id_password", "wrong")
    page.click("#login-submit")
    assert page.locator(".errorlist").inner_text()
    assert "/accounts/login/" in page.url
