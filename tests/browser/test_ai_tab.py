"""The AI tab in headless Chromium: configure, test, save and see the status change, no reloads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.integrations.models import AISettings
from apps.integrations.selectors import openrouter_api_key_get
from tests.browser.conftest import login
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAB = "/dashboard/integrations/?tab=ai"


def _switch_language(page: Any, code: str) -> None:
    page.click(f"form.langswitch button[value={code}]")
    page.wait_for_load_state()


def _open_dialog(page: Any) -> None:
    page.click("#ai-configure-open")
    page.wait_for_selector("#ai-dialog[open] #ai-configure-form")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_configure_test_and_save_without_a_reload(
    page: Any, live_server: Any, emulator: Any, account: Any, language: str
) -> None:
    api_key = emulator.add_key(
        account, kind="inference", name="browser", limit=Decimal(20), limit_reset="monthly"
    )
    management_key = emulator.add_key(account, kind="management", name="browser-management")
    user = UserFactory(username="newcomer")
    login(page, live_server, "newcomer", PASSWORD)
    _switch_language(page, language)
    page.goto(f"{live_server.url}{TAB}")
    assert page.locator("html").get_attribute("lang") == language
    # A new user: nothing configured, and the account card asks for a key.
    assert page.locator('#ai-status [data-status="none"]').count() == 2
    page.wait_for_selector("#ai-account .empty")
    page.wait_for_selector("#ai-models-table")
    # Mark the document: if anything reloads the page the mark is gone.
    page.evaluate("window.__noReload = true")

    _open_dialog(page)
    # A management key pasted into the API key field is detected and explained.
    page.fill("#id_api_key", management_key)
    page.click("#ai-test-button")
    page.wait_for_selector('#ai-test-result [data-slot="api"][data-outcome="management_key_in_api_field"]')
    # The right keys test fine.
    page.fill("#id_api_key", api_key)
    page.fill("#id_management_key", management_key)
    page.click("#ai-test-button")
    page.wait_for_selector('#ai-test-result [data-slot="api"][data-outcome="ok"]')
    assert page.locator('#ai-test-result [data-slot="management"][data-outcome="ok"]').count() == 1
    # The model list in the dialog is the live catalogue.
    assert page.locator("#ai-model-options option").count() == 10
    page.fill("#id_default_model", "openai/gpt-4o-mini")
    page.fill("#id_model_chat", "anthropic/claude-haiku-4.5")
    page.click("#ai-save-button")

    # The dialog closes, the status card and the account card refresh in place.
    page.wait_for_selector("#ai-dialog:not([open])", state="attached")
    page.wait_for_selector('#ai-status [data-slot="api"] [data-status="ok"]')
    assert page.locator('#ai-status [data-slot="management"] [data-status="ok"]').count() == 1
    assert f"…{api_key[-4:]}" in page.locator('#ai-status [data-slot="api"]').inner_text()
    assert page.locator("#ai-default-model").inner_text().strip() == "openai/gpt-4o-mini"
    page.wait_for_selector("#ai-credits-remaining")
    assert page.locator("#ai-credits").get_attribute("data-source") == "account"
    assert "100" in page.locator("#ai-credits-remaining").inner_text()
    assert "20" in page.locator("#ai-key-limit-remaining").inner_text()
    assert page.locator("#ai-flash .msg-success").count() == 1
    assert page.evaluate("window.__noReload === true")

    # The model list can be searched; prices are per million tokens.
    page.fill("#ai-model-search", "claude")
    page.wait_for_function("document.querySelectorAll('#ai-models-table tbody tr').length === 2")
    row = page.locator('tr[data-model="anthropic/claude-sonnet-4.6"]').inner_text()
    assert "3" in row
    assert "15" in row

    # The keys are stored (encrypted) for this user, and the page never shows them.
    assert openrouter_api_key_get(user=user) == api_key
    assert AISettings.objects.get(user=user).model_chat == "anthropic/claude-haiku-4.5"
    html = page.content()
    assert api_key not in html
    assert management_key not in html
    _open_dialog(page)
    assert page.input_value("#id_api_key") == ""
    assert page.js_errors == []


def test_bad_input_stays_in_the_dialog_with_a_message(page: Any, live_server: Any, emulator: Any) -> None:
    UserFactory(username="typo")
    login(page, live_server, "typo", PASSWORD)
    _switch_language(page, "en")
    page.goto(f"{live_server.url}{TAB}")
    _open_dialog(page)
    page.fill("#id_api_key", "sk-or-v1-too short")
    page.click("#ai-save-button")
    page.wait_for_selector("#field-api-key .errorlist")
    assert (
        "spaces, line breaks or invisible characters"
        in page.locator("#field-api-key .errorlist").inner_text()
    )
    assert page.locator("#ai-dialog[open]").count() == 1
    assert page.input_value("#id_api_key") == ""
    assert page.locator('#ai-status [data-status="none"]').count() == 2
    assert page.js_errors == []


def test_removing_a_key_updates_the_status(page: Any, live_server: Any, emulator: Any, account: Any) -> None:
    from apps.integrations.services import ai_settings_update

    user = UserFactory(username="remover")
    key = emulator.add_key(account, kind="inference")
    ai_settings_update(user=user, actor=user, api_key=key)
    login(page, live_server, "remover", PASSWORD)
    page.goto(f"{live_server.url}{TAB}")
    page.wait_for_selector('#ai-status [data-slot="api"] [data-status="ok"]')
    # Test connection from the status card checks the stored key.
    page.click("#ai-status-test-button")
    page.wait_for_selector('#ai-status-test [data-slot="api"][data-outcome="ok"]')
    _open_dialog(page)
    page.once("dialog", lambda prompt: prompt.accept())
    page.click("#ai-remove-api-key")
    page.wait_for_selector('#ai-status [data-slot="api"] [data-status="none"]')
    assert page.locator("#ai-remove-api-key").count() == 0
    assert page.js_errors == []
