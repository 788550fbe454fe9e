"""What a user tripped on, in a real browser: the chat list, cancelling slow calls, the token page
on reload, the model filter's price message and labelled AI results."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from apps.accounts.models import APIToken
from apps.ai_gateway.models import ChatConversation
from apps.usage.models import AIUsageLog
from tests.browser.conftest import login
from tests.factories import PASSWORD, AISettingsFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"trips_{name}.png"), full_page=True)


def _row_status(timeout: float = 10.0) -> str:
    """The ledger row's status once the server has finalised it (the server runs in a thread)."""
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = AIUsageLog.objects.get().status
        if status != "pending":
            return status
        time.sleep(0.1)
    return status


@pytest.fixture
def user(inference_key: str) -> Any:
    user = UserFactory(username="tripper")
    AISettingsFactory(user=user, openrouter_api_key=inference_key)
    return user


def test_the_first_chat_message_adds_the_conversation_to_the_list(
    page: Any, live_server: Any, emulator: Any, user: Any
) -> None:
    login(page, live_server, "tripper", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/ai/chat/")
    assert page.locator("#chat-conversations-empty").inner_text() == "Inga konversationer ännu."
    page.evaluate("window.__noReload = true")
    page.fill("#chat-message", "Har ni öppet på lördag?")
    page.click("#chat-send")
    page.wait_for_selector("#chat-conversations a.active")
    conversation = ChatConversation.objects.get(user=user)
    link = page.locator("#chat-conversations a.active")
    assert link.inner_text() == "Har ni öppet på lördag?"
    assert link.get_attribute("href") == f"/dashboard/ai/chat/{conversation.pk}/"
    assert page.locator("#chat-conversations-empty").count() == 0
    page.wait_for_selector("#chat-meta:not(:empty)")
    # The "done" event fills the meta line; the working box hides when the stream has closed,
    # which can be a moment later (the server finishes the ledger row first).
    page.wait_for_selector("#chat-working", state="hidden")
    assert page.evaluate("window.__noReload === true")
    _shot(page, "chat_list")
    # A second message in the same conversation does not add it twice.
    page.fill("#chat-message", "Och på söndag?")
    page.click("#chat-send")
    page.wait_for_function("document.querySelectorAll('.bubble.assistant').length === 2")
    page.wait_for_selector("#chat-working", state="hidden")
    assert page.locator("#chat-conversations li").count() == 1
    assert page.js_errors == []


def test_cancelling_a_slow_chat_answer_cancels_it_upstream(
    page: Any, live_server: Any, emulator: Any, user: Any
) -> None:
    emulator.inject("slow_trickle", delay=0.4)
    login(page, live_server, "tripper", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/ai/chat/")
    page.fill("#chat-message", "Berätta om era öppettider i detalj")
    page.click("#chat-send")
    page.wait_for_selector("#chat-working:not([hidden])")
    # The elapsed time counts up while the answer trickles in.
    page.wait_for_function(
        "document.querySelector('#chat-working [data-working-elapsed]').textContent === 'Arbetar… 1 s'"
    )
    _shot(page, "chat_working")
    page.click("#chat-working [data-working-cancel]")
    page.wait_for_selector(".bubble-cancelled")
    assert page.locator("#chat-working").is_hidden()
    assert "Avbrutet." in page.locator(".bubble.assistant").inner_text()
    # The server notices the closed connection at its next write and closes upstream.
    assert _row_status() == "cancelled"
    row = AIUsageLog.objects.get()
    assert (row.error_code, row.streamed) == ("cancelled", True)
    assert emulator.generations[0].cancelled is True
    _shot(page, "chat_cancelled")
    assert page.js_errors == []


def test_a_slow_feature_call_shows_elapsed_time_and_can_be_cancelled(
    page: Any, live_server: Any, emulator: Any, user: Any
) -> None:
    emulator.inject("slow_trickle", delay=1.5)  # the whole (non-streamed) answer body trickles
    login(page, live_server, "tripper", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/ai/prompt/")
    page.fill("#id_prompt", "Hej!")
    page.click("form[data-working] button[type=submit]")
    page.wait_for_selector("#working:not([hidden])")
    page.wait_for_function(
        "document.querySelector('#working [data-working-elapsed]').textContent === 'Arbetar… 1 s'"
    )
    assert page.locator("form[data-working] button[type=submit]").is_disabled()
    page.click("#working [data-working-cancel]")
    page.wait_for_selector("#result-cancelled")
    assert page.locator("#working").is_hidden()
    assert page.locator("form[data-working] button[type=submit]").is_enabled()
    assert page.locator("#result-cancelled").inner_text().startswith("Avbrutet på den här sidan.")
    _shot(page, "feature_cancelled")
    # A non-streamed request OpenRouter has received runs to its end: the row says what happened.
    assert _row_status(timeout=30) == "success"
    # htmx logs its own abort events as console errors; nothing else may appear.
    assert [e.split(",")[0] for e in page.js_errors] == ["htmx:afterRequest", "htmx:sendAbort"]


def test_reloading_the_token_page_makes_no_second_token(page: Any, live_server: Any, user: Any) -> None:
    login(page, live_server, "tripper", PASSWORD)
    page.goto(f"{live_server.url}/accounts/tokens/")
    page.fill("#id_name", "Webbshop")
    page.click("form.actions button[type=submit]")
    page.wait_for_selector("#issued-token")
    shown = page.locator("#issued-token").inner_text()
    assert shown.startswith(APIToken.objects.get().prefix)
    _shot(page, "token_once")
    page.reload()
    assert page.locator("#issued-token").count() == 0
    assert APIToken.objects.count() == 1
    assert shown not in page.content()
    assert page.js_errors == []


@pytest.mark.parametrize(
    ("language", "message"),
    [("sv", "Maxpriset måste vara ett tal"), ("en", "Max price must be a number")],
)
def test_an_invalid_max_price_is_reported_on_the_ai_tab(
    page: Any, live_server: Any, emulator: Any, user: Any, language: str, message: str
) -> None:
    login(page, live_server, "tripper", PASSWORD)
    page.click(f"form.langswitch button[value={language}]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/dashboard/integrations/?tab=ai")
    page.wait_for_selector("#ai-models-table")
    page.fill("#ai-model-max-price", "abc")
    page.wait_for_selector("#ai-models-price-error")
    assert message in page.locator("#ai-models-price-error").inner_text()
    _shot(page, f"max_price_{language}")
    page.fill("#ai-model-max-price", "0")
    page.wait_for_selector("#ai-models-price-error", state="detached")
    assert page.locator("#ai-models-table tbody tr").count() == 1
    assert page.js_errors == []


def test_an_sms_result_reads_as_labelled_fields(
    page: Any, live_server: Any, emulator: Any, user: Any
) -> None:
    login(page, live_server, "tripper", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/ai/sms-classification/")
    page.fill("#id_text", "Jag vill avboka (cancellation)")
    page.click("form[data-working] button[type=submit]")
    page.wait_for_selector("#result-card")
    labels = page.locator("#result-card dt").all_inner_texts()
    values = [v.strip() for v in page.locator("#result-card dd").all_inner_texts()]
    assert list(zip(labels, values, strict=True)) == [("Kategori", "avbokning"), ("Säkerhet", "50,0\u00a0%")]
    _shot(page, "sms_result")
    assert page.js_errors == []
