"""A platform key in headless Chromium: staff create it on the admin page, the tenant's AI tab
shows it as provided by the platform, with no field to replace it."""

from __future__ import annotations

import os
from typing import Any

import pytest

from apps.integrations.models import AISettings
from tests.browser.conftest import login
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("BROWSER_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_staff_create_a_platform_key_and_the_tenant_sees_it(
    page: Any, live_server: Any, settings: Any, emulator: Any, management_key: str
) -> None:
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = management_key
    tenant = UserFactory(username="tenant")
    UserFactory(username="operator", is_staff=True, is_superuser=True)
    row = AISettings.objects.create(user=tenant)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])

    login(page, live_server, "operator", PASSWORD)
    page.goto(f"{live_server.url}/admin/integrations/aisettings/{row.pk}/platform-key/")
    page.fill("#id_limit_usd", "25")
    page.click('button[value="create"]')
    page.wait_for_selector("ul.messagelist li.success")
    _shot(page, "admin-platform-key")
    assert page.locator("#platform-key-limit").inner_text() == "25.00"
    assert "Left of the limit: $25.00." in page.locator("#platform-key-upstream").inner_text()

    page.context.clear_cookies()
    page.js_errors.clear()  # Django's admin pages ask for /favicon.ico, which the site does not serve
    login(page, live_server, "tenant", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/integrations/?tab=ai")
    page.wait_for_selector("#ai-key-info")
    _shot(page, "ai-tab-platform-key")
    # The tenant's browser asks for Swedish.
    assert page.locator("#ai-platform-key").inner_text() == "Tillhandahålls av plattformen"
    assert page.locator("#ai-platform-limit").inner_text().strip() == "$25,00"
    page.click("#ai-configure-open")
    page.wait_for_selector("#ai-dialog[open] #ai-platform-key-note")
    _shot(page, "ai-dialog-platform-key")
    assert page.locator("#id_api_key").count() == 0
    assert page.js_errors == []
