"""The whole journey of a new tenant in headless Chromium, in Swedish and in English.

Log in → AI tab (configure, test, save) → every AI feature (the chat streams) → the OpenRouter
dashboard updates live → a history sync with a date range, watched while it runs → ROI settings and
a bookings CSV → the ROI report and its CSV (checked against the page) → an API token used with the
``openai`` SDK → log out. Then a second tenant walks the same pages and sees none of it, and the
first tenant's object URLs are 404s for them.

OpenRouter is the in-process emulator (the live server runs in this process, so the app reaches it
through the mounted transport); Celery is eager in the test settings. The sync's task is held back
like a broker would hold it, so the page shows the queued run and its progress, and is then run as
a worker would run it. Screenshots of each step: ``var/artifacts/screenshots/<lang>/NN-step.png``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from django.conf import settings

from apps.accounts.models import APIToken
from apps.ai_gateway.models import ChatConversation
from apps.emulator.demo import DEMO
from apps.roi.models import Booking, ROISettings
from apps.usage.models import AIUsageLog, SyncRun
from tests.factories import PASSWORD, AISettingsFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(
    os.environ.get("JOURNEY_SCREENSHOT_DIR") or Path(settings.BASE_DIR) / "var" / "artifacts" / "screenshots"
)
POLL_SECONDS = 10  # the OpenRouter dashboard's metrics poll (hx-trigger="every 10s")
# Resolves once no htmx request has been in flight for three checks in a row (the page's own
# partials, and any they load in turn, are on screen).
HTMX_SETTLED = """() => new Promise(resolve => {
  let quiet = 0;
  const tick = () => {
    quiet = document.querySelector('.htmx-request') ? 0 : quiet + 1;
    if (quiet >= 3) resolve(true); else setTimeout(tick, 50);
  };
  tick();
})"""
AI_TAB = "/dashboard/integrations/?tab=ai"

# What only Anna (the first tenant) typed or owns; none of it may reach Bertil's pages.
ANNA_COMPANY = "Annas Hårsalong Kvarnholmen"
ANNA_CHAT = "Har Annas salong öppet på lördag?"
ANNA_PROMPT = "Skriv en hälsning från Annas salong"
ANNA_SMS = "Hej Anna, jag vill avboka min tid (cancellation)"
ANNA_BRIEF = "Påminn om Annas höstrea på klippning"
ANNA_REVIEWS = "Fantastisk klippning hos Anna, trevlig personal!\nLite lång väntetid men bra resultat."
ANNA_TOKEN_NAME = "Annas bokningssystem"
ANNA_BOOKING_IDS = [f"ANNA-BOK-{n:03d}" for n in range(1, 7)]
ANNA_BOOKING_TEXT = "Klippning Anna-kund"
ANNA_MODEL_CHAT = "anthropic/claude-haiku-4.5"
ANNA_DEFAULT_MODEL = "openai/gpt-oss-120b"
SYNC_DAYS = 5

TEXT = {
    "sv": {
        "succeeded": "Lyckades",
        "syncing": "Synkar",
        "bookings": "bokningar",
    },
    "en": {
        "succeeded": "Succeeded",
        "syncing": "Syncing",
        "bookings": "bookings",
    },
}


class Shots:
    """Numbered full-page screenshots for one language."""

    def __init__(self, page: Any, language: str) -> None:
        self.page = page
        self.folder = SHOTS / language
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.n = 0

    def __call__(self, step: str, page: Any | None = None) -> None:
        self.n += 1
        self.page = page or self.page
        self.page.screenshot(path=str(self.folder / f"{self.n:02d}-{step}.png"), full_page=True)

    @contextlib.contextmanager
    def on_failure(self) -> Iterator[None]:
        """A failing step leaves a picture of the page it failed on (``NN-failed.png``)."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self("failed")
            raise


def _amount(text: str, language: str) -> Decimal:
    """A displayed SEK amount ("12 345,67 kr" / "12,345.67 kr", a U+2212 minus too) as a Decimal."""
    text = text.replace("kr", "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "").strip()
    text = text.replace("\u2212", "-")
    text = text.replace(",", ".") if language == "sv" else text.replace(",", "")
    return Decimal(text)


def _cents(value: Decimal) -> Decimal:
    """Rounded to öre as the CSV rounds (half up)."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _bookings_csv(today: dt.date) -> bytes:
    lines = ["date;value_sek;external_id;description"]
    values = ["1 250,00", "890,50", "2 400", "375,25", "1 100,00", "640,75"]
    for n, (external_id, value) in enumerate(zip(ANNA_BOOKING_IDS, values, strict=True)):
        lines.append(f"{today - dt.timedelta(days=n * 3)};{value};{external_id};{ANNA_BOOKING_TEXT} {n + 1}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def context_for(browser: Any) -> Any:
    """New browser contexts (one per tenant), each collecting its page's JavaScript errors."""
    contexts: list[Any] = []

    def make(locale: str) -> Any:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale=locale, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.js_errors = errors
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def worker(monkeypatch: Any) -> list[int]:
    """The sync task's queue: ``delay`` only records the run, as a broker would hold the message."""
    from apps.usage import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.sync_activity, "delay", lambda *, run_id: queued.append(run_id))
    return queued


def _finished(rows: Any, timeout: float = 10.0) -> list[Any]:
    """The rows once none is pending (the server finishes a row in its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(rows.all())
        if all(row.status != "pending" for row in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _login(page: Any, base: str, username: str, language: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.click(f"form.langswitch button[value={language}]")
    page.wait_for_load_state()
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{base}/dashboard/")
    assert page.locator("html").get_attribute("lang") == language


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_whole_journey_and_a_second_tenant_sees_none_of_it(
    context_for: Any, live_server: Any, demo_emulator: Any, worker: list[int], language: str
) -> None:
    base = live_server.url
    text = TEXT[language]
    anna = UserFactory(username="anna")
    # Bertil is configured too (his own OpenRouter account), so his pages show his (empty) data.
    bertil_account = demo_emulator.add_account(credits=Decimal("7"), user_id="user_bertil0000000000000000000")
    bertil_key = demo_emulator.add_key(bertil_account, kind="inference", name="bertil")
    bertil_management = demo_emulator.add_key(bertil_account, kind="management", name="bertil-management")
    bertil = UserFactory(username="bertil")
    AISettingsFactory(user=bertil, openrouter_api_key=bertil_key, openrouter_management_key=bertil_management)

    page = context_for("sv-SE" if language == "sv" else "en-GB")
    shot = Shots(page, language)
    with shot.on_failure():
        # --- log in --------------------------------------------------------------------------------
        _login(page, base, "anna", language)
        shot("dashboard")

        # --- AI tab: configure keys, test the connection, save --------------------------------------
        page.goto(f"{base}{AI_TAB}")
        assert page.locator('#ai-status [data-status="none"]').count() == 2
        page.wait_for_selector("#ai-models-table")
        shot("ai-tab-new")
        page.click("#ai-configure-open")
        page.wait_for_selector("#ai-dialog[open] #ai-configure-form")
        page.fill("#id_api_key", DEMO.inference_key)
        page.fill("#id_management_key", DEMO.management_key)
        page.click("#ai-test-button")
        page.wait_for_selector('#ai-test-result [data-slot="api"][data-outcome="ok"]')
        assert page.locator('#ai-test-result [data-slot="management"][data-outcome="ok"]').count() == 1
        if language == "sv":
            assert "(monthly)" not in page.locator("#ai-test-result").inner_text()
        page.fill("#id_default_model", ANNA_DEFAULT_MODEL)
        page.fill("#id_model_chat", ANNA_MODEL_CHAT)
        shot("ai-connection-tested")
        page.click("#ai-save-button")
        page.wait_for_selector('#ai-status [data-slot="api"] [data-status="ok"]')
        assert page.locator('#ai-status [data-slot="management"] [data-status="ok"]').count() == 1
        assert f"…{DEMO.inference_key[-4:]}" in page.locator('#ai-status [data-slot="api"]').inner_text()
        page.wait_for_selector("#ai-credits-remaining")
        html = page.content()
        assert DEMO.inference_key not in html
        assert DEMO.management_key not in html
        shot("ai-tab-saved")

        # --- every AI feature ---------------------------------------------------------------------
        features = [
            ("lead-enrichment", {"#id_company": ANNA_COMPANY}, True),
            ("review-analysis", {"#id_reviews": ANNA_REVIEWS}, True),
            ("sms-classification", {"#id_text": ANNA_SMS}, True),
            ("message-generation", {"#id_brief": ANNA_BRIEF}, False),
            ("prompt", {"#id_prompt": ANNA_PROMPT}, False),
        ]
        for slug, fields, structured in features:
            page.goto(f"{base}/dashboard/ai/{slug}/")
            for selector, value in fields.items():
                page.fill(selector, value)
            page.click("form[data-working] button[type=submit]")
            page.wait_for_selector("#result-card")
            if structured:
                labels = page.locator("#result-card dt").all_inner_texts()
                assert labels, slug
                # Labels read as words in the UI language, never as raw JSON keys.
                assert not [label for label in labels if re.fullmatch(r"[a-z_]+", label)], (slug, labels)
            else:
                assert page.locator("#result-card pre.output").inner_text().strip(), slug
            shot(f"feature-{slug}")
        assert AIUsageLog.objects.filter(user=anna, status="success").count() == len(features)

        # The chat streams: the answer grows in the bubble piece by piece before it is complete.
        demo_emulator.inject("slow_trickle", delay=0.05)
        page.goto(f"{base}/dashboard/ai/chat/")
        page.evaluate(
            """() => {
                window.__lengths = [];
                new MutationObserver(() => {
                  const bubble = document.querySelector('.bubble.assistant');
                  if (bubble) window.__lengths.push(bubble.textContent.length);
                }).observe(document.getElementById('chat-log'), {subtree: true, childList: true, characterData: true});
            }"""
        )
        page.fill("#chat-message", ANNA_CHAT)
        page.click("#chat-send")
        page.wait_for_selector("#chat-conversations a.active")
        page.wait_for_selector("#chat-meta:not(:empty)")
        page.wait_for_selector("#chat-working", state="hidden")
        lengths = [n for n in page.evaluate("window.__lengths") if n]
        assert len(set(lengths)) > 2, lengths  # several partial answers were on screen
        assert page.locator("#chat-conversations a.active").inner_text() == ANNA_CHAT
        conversation = ChatConversation.objects.get(user=anna)
        chat_row = AIUsageLog.objects.filter(user=anna, use_case="chat").get()
        assert (chat_row.streamed, chat_row.status, chat_row.model) == (True, "success", ANNA_MODEL_CHAT)
        shot("chat-streamed")

        # --- the OpenRouter dashboard updates live ------------------------------------------------
        # The page's clock is the browser's, moved on by hand: the 10 s poll fires without a real wait.
        page.clock.install()
        page.goto(f"{base}/dashboard/openrouter/?preset=today")
        page.wait_for_function("() => window.Chart && Chart.getChart('chart-by-model')")
        assert page.locator("#or-realtime").get_attribute("data-live") == "on"
        calls_before = int(page.locator("#total-calls").inner_text())
        assert calls_before == len(features) + 1
        cost_before = page.locator("#total-cost-sek").inner_text()
        # Mark the document and keep the chart objects: an update must arrive in place, not by reload.
        page.evaluate(
            """() => {
                window.__sameDocument = true;
                window.__charts = ['chart-by-model', 'chart-by-use-case'].map(id => Chart.getChart(id));
                window.__byUseCase = JSON.stringify(Chart.getChart('chart-by-use-case').data.datasets[0].data);
            }"""
        )
        # A call made elsewhere (another tab) arrives on this page without a reload.
        other = page.context.new_page()
        other.goto(f"{base}/dashboard/ai/prompt/")
        other.fill("#id_prompt", ANNA_PROMPT + " igen")
        other.click("form[data-working] button[type=submit]")
        other.wait_for_selector("#result-card")
        other.close()
        assert page.locator("#total-calls").inner_text() == str(calls_before)
        page.clock.fast_forward(POLL_SECONDS * 1000)
        page.wait_for_function(
            f"() => document.getElementById('total-calls').textContent.trim() === '{calls_before + 1}'"
        )
        assert page.evaluate("() => window.__sameDocument === true")
        assert page.locator("#total-cost-sek").inner_text() != cost_before
        assert page.evaluate(
            "() => ['chart-by-model', 'chart-by-use-case'].every((id, n) => Chart.getChart(id) === window.__charts[n])"
        )
        # The new prompt call's cost is in the use-case chart's figures now.
        page.wait_for_function(
            "() => JSON.stringify(Chart.getChart('chart-by-use-case').data.datasets[0].data) !== window.__byUseCase"
        )
        assert ANNA_MODEL_CHAT in page.evaluate("() => Chart.getChart('chart-by-model').data.labels")
        # The model table and the data quality came with the same poll: they agree with the metrics.
        # Anna's default model answered the five features and the other tab's prompt (not the chat).
        default_model_calls = len(features) + 1
        assert page.locator(
            f"#or-model-stats tr:has(td.mono:text-is('{ANNA_DEFAULT_MODEL}')) td.num"
        ).first.inner_text() == str(default_model_calls)
        assert page.locator(
            "#or-data-quality tr[data-source=provider_reported] td.num"
        ).first.inner_text() == str(calls_before + 1)
        shot("openrouter-live")

        # --- sync the history for a date range and watch it run ------------------------------------
        end = _today() - dt.timedelta(days=1)
        start = end - dt.timedelta(days=SYNC_DAYS - 1)
        page.wait_for_selector("#activity-history form")
        page.locator("#activity-history").scroll_into_view_if_needed()
        page.fill("#activity-history #id_start", start.isoformat())
        page.fill("#activity-history #id_end", end.isoformat())
        page.click("#activity-history button[type=submit]")
        page.wait_for_selector("#activity-run progress")
        assert text["syncing"] in page.locator("#activity-run").inner_text()
        shot("sync-queued")
        # The worker picks the task up; the page's poll shows the result and the refreshed history.
        assert len(worker) == 1
        run = SyncRun.objects.get(pk=worker[0])
        assert (run.user_id, run.start, run.end) == (anna.pk, start, end)
        from apps.usage.tasks import sync_activity

        sync_activity.apply(kwargs={"run_id": run.pk})
        page.wait_for_selector(f"#activity-run .badge:has-text('{text['succeeded']}')", timeout=15_000)
        page.wait_for_selector("#activity-history table tbody tr")
        page.wait_for_function("() => window.Chart && Chart.getChart('chart-activity')")
        run.refresh_from_db()
        assert (run.state, run.days_done, run.days_total) == ("succeeded", SYNC_DAYS, SYNC_DAYS)
        history_rows = page.locator("#activity-history table tbody tr").count()
        assert history_rows >= SYNC_DAYS
        page.locator("#activity-history").scroll_into_view_if_needed()
        # The data-quality card learns of the sync with the next poll of the page.
        page.clock.fast_forward(POLL_SECONDS * 1000)
        page.wait_for_function(
            f"() => document.getElementById('or-sync').textContent.includes('({text['succeeded']})')"
        )
        shot("sync-done")

        # --- ROI settings and a bookings CSV -----------------------------------------------------------
        page.goto(f"{base}/dashboard/settings/?tab=roi")
        page.fill("#id_telephony_sek", "1 200,50" if language == "sv" else "1200.50")
        page.fill("#id_sms_sek", "300")
        page.fill("#id_email_sek", "150")
        page.fill("#id_support_sek", "2 000" if language == "sv" else "2000")
        page.click("#roi-settings-form button[type=submit]")
        page.wait_for_selector(".msg-success")
        assert ROISettings.objects.get(user=anna).telephony_sek == Decimal("1200.50")
        page.set_input_files(
            "#id_file",
            files=[{"name": "bokningar.csv", "mimeType": "text/csv", "buffer": _bookings_csv(_today())}],
        )
        page.click("#booking-upload button[type=submit]")
        page.wait_for_selector(".msg-success")
        assert Booking.objects.filter(user=anna).count() == len(ANNA_BOOKING_IDS)
        assert page.locator("#bookings table tbody tr").count() == len(ANNA_BOOKING_IDS)
        shot("roi-settings")

        # --- the ROI report and its CSV ----------------------------------------------------------------
        report_start = _today() - dt.timedelta(days=29)
        page.goto(f"{base}/dashboard/roi/?start={report_start}&end={_today()}")
        page.wait_for_selector("#roi-revenue")
        shown = {
            "revenue": _amount(page.locator("#roi-revenue").inner_text(), language),
            "cost": _amount(page.locator("#roi-cost").inner_text(), language),
            "profit": _amount(page.locator("#roi-profit").inner_text(), language),
            "ai": _amount(page.locator("#roi-ai").inner_text(), language),
            "openrouter": _amount(page.locator("#roi-openrouter").inner_text(), language),
        }
        assert shown["revenue"] == Decimal("6656.50")
        assert shown["ai"] > 0  # the gateway's calls and the synced history
        # Every figure of the projections is in view on a desktop screen (none scrolled out of its card).
        overflow = page.evaluate(
            "() => { const t = document.getElementById('roi-projections'); "
            "return t.parentElement.scrollWidth - t.parentElement.clientWidth; }"
        )
        assert overflow <= 0
        shot("roi-report")
        with page.expect_download() as download_info:
            page.click("#roi-csv")
        download = download_info.value
        body = Path(download.path()).read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))
        header, days = rows[0], rows[1:]
        assert len(days) == 30
        assert header[0] == ("Datum" if language == "sv" else "Date")

        def column(index: int) -> Decimal:
            return sum((Decimal(row[index]) for row in days), Decimal(0))

        assert column(1) == len(ANNA_BOOKING_IDS)
        assert column(2) == _cents(shown["revenue"])
        assert column(3) == _cents(shown["cost"])
        assert column(4) == _cents(shown["ai"])
        assert column(5) == _cents(shown["openrouter"])
        assert column(6) == _cents(shown["profit"])
        assert (
            f"{len(ANNA_BOOKING_IDS)} {text['bookings']}"
            in page.locator("#roi-revenue").locator("..").inner_text()
        )

        # --- an API token, used with the openai SDK against the live server --------------------------------
        page.goto(f"{base}/accounts/tokens/")
        page.fill("#id_name", ANNA_TOKEN_NAME)
        page.click("form.actions button[type=submit]")
        page.wait_for_selector("#issued-token")
        token = page.locator("#issued-token").inner_text().strip()
        shot("api-token")
        client = openai.OpenAI(base_url=f"{base}/api/v1", api_key=token, max_retries=0, timeout=30)
        model_ids = [m.id for m in client.models.list()]
        assert ANNA_DEFAULT_MODEL in model_ids
        streamed = client.chat.completions.create(
            model=ANNA_DEFAULT_MODEL,
            messages=[{"role": "user", "content": ANNA_PROMPT + " via API"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        pieces = [chunk.choices[0].delta.content or "" for chunk in streamed if chunk.choices]
        assert len([p for p in pieces if p]) > 1
        answer = client.chat.completions.create(
            model=ANNA_DEFAULT_MODEL, messages=[{"role": "user", "content": "Tack!"}]
        )
        assert answer.choices[0].message.content
        assert answer.usage is not None
        assert answer.usage.total_tokens > 0
        # Both calls are in Anna's ledger (a streamed call's row is finalised as its stream ends).
        api_rows = _finished(AIUsageLog.objects.filter(user=anna, source="gateway").order_by("-id")[:2])
        assert [(row.model, row.status) for row in api_rows] == [(ANNA_DEFAULT_MODEL, "success")] * 2
        assert [row.streamed for row in api_rows] == [False, True]
        page.reload()
        assert page.locator("#issued-token").count() == 0
        assert APIToken.objects.filter(user=anna).count() == 1
        assert APIToken.objects.get(user=anna).last_used_at is not None

        # --- log out ---------------------------------------------------------------------------------
        page.click("details.usermenu summary")
        page.click("details.usermenu form button[type=submit]")
        page.wait_for_load_state()
        shot("logged-out")
        page.goto(f"{base}/dashboard/")
        assert "/accounts/login/" in page.url
        assert page.locator("#login-submit").count() == 1
        assert page.js_errors == []

        # --- Bertil walks the same path and sees none of Anna's data -----------------------------------
        secrets = [
            ANNA_COMPANY,
            ANNA_CHAT,
            ANNA_PROMPT,
            ANNA_SMS,
            ANNA_BRIEF,
            "Annas",
            ANNA_TOKEN_NAME,
            ANNA_BOOKING_TEXT,
            *ANNA_BOOKING_IDS,
            token,
            token[:12],
            DEMO.inference_key[-4:],
            DEMO.management_key[-4:],
            page_amount_sek(shown["revenue"], language),
        ]
        # Models only Anna's usage names (the product default, openai/gpt-4o-mini, is on every tenant's
        # AI tab, so it is not one of them).
        usage_models = {
            ANNA_MODEL_CHAT,
            ANNA_DEFAULT_MODEL,
            "google/gemini-2.5-flash",
            "deepseek/deepseek-chat-v3.1",
        }
        other_page = context_for("sv-SE" if language == "sv" else "en-GB")
        _login(other_page, base, "bertil", language)
        bertil_pages = [
            "/dashboard/",
            AI_TAB,
            "/dashboard/openrouter/",
            "/dashboard/openrouter/?preset=today",
            "/dashboard/analytics/",
            "/dashboard/ai/",
            "/dashboard/ai/chat/",
            *[f"/dashboard/ai/{slug}/" for slug, _fields, _structured in features],
            "/dashboard/settings/?tab=roi",
            f"/dashboard/roi/?start={report_start}&end={_today()}",
            "/accounts/tokens/",
        ]
        for path in bertil_pages:
            response = other_page.goto(f"{base}{path}")
            assert response.status == 200, path
            other_page.wait_for_function(HTMX_SETTLED)
            seen = other_page.content()
            leaked = [s for s in secrets if s in seen]
            assert not leaked, (path, leaked)
            # The model catalogue (a public list) names every model; usage must not.
            usage_text = other_page.evaluate(
                """() => {
                    const copy = document.body.cloneNode(true);
                    copy.querySelectorAll('#ai-models-card, #ai-models, datalist, select').forEach(e => e.remove());
                    return copy.textContent;
                }"""
            )
            assert not [m for m in usage_models if m in usage_text], path
            shot("bertil-" + (re.sub(r"[^a-z0-9]+", "-", path).strip("-") or "root"), other_page)
        # The API with Bertil's session: his lists, his report, his CSV; nothing of Anna's.
        for path in [
            "/api/usage/logs/",
            "/api/usage/summary/",
            "/api/usage/sync/",
            "/api/roi/bookings/",
            "/api/roi/report/",
            f"/api/roi/export.csv?start={report_start}&end={_today()}",
            "/api/integrations/openrouter/activity/",
        ]:
            response = other_page.request.get(f"{base}{path}")
            assert response.status == 200, path
            seen = response.text()
            assert not [s for s in secrets if s in seen], path
            assert not [m for m in usage_models if m in seen], path
        # Anna's objects by their addresses: 404 for Bertil, pages and API alike.
        anna_log = AIUsageLog.objects.filter(user=anna).first()
        anna_booking = Booking.objects.filter(user=anna).first()
        anna_token = APIToken.objects.get(user=anna)
        for path in [
            f"/dashboard/ai/chat/{conversation.pk}/",
            f"/dashboard/openrouter/activity/sync/{run.pk}/",
            f"/api/usage/logs/{anna_log.pk}/",
            f"/api/usage/sync/{run.pk}/",
            f"/api/roi/bookings/{anna_booking.pk}/",
        ]:
            response = other_page.request.get(f"{base}{path}")
            assert response.status == 404, path
            assert ANNA_COMPANY not in response.text()
        # Revoking Anna's token by its id does nothing for Bertil.
        csrf = next(c["value"] for c in other_page.context.cookies(base) if c["name"] == "csrftoken")
        revoke = other_page.request.post(
            f"{base}/accounts/tokens/{anna_token.pk}/revoke/", headers={"X-CSRFToken": csrf, "Referer": base}
        )
        assert revoke.ok
        # Pushing a booking under one of Anna's external ids makes Bertil's own; Anna's is untouched.
        pushed = other_page.request.put(
            f"{base}/api/roi/bookings/by-external-id/{ANNA_BOOKING_IDS[0]}/",
            headers={"X-CSRFToken": csrf, "Referer": base},
            data={"date": _today().isoformat(), "value_sek": "10.00"},
        )
        assert pushed.status == 201
        assert Booking.objects.get(user=anna, external_id=ANNA_BOOKING_IDS[0]).value_sek == Decimal("1250.00")
        anna_token.refresh_from_db()
        assert anna_token.is_active
        # Anna's token still works, and only for Anna.
        listed = client.models.list()
        assert listed.data
        # The SDK keeps its connections open for reuse; the live server's thread for each one holds
        # a database connection until it closes.
        client.close()
        assert other_page.js_errors == [] or all("404" in e for e in other_page.js_errors)


def page_amount_sek(value: Decimal, language: str) -> str:
    """Anna's revenue as the pages print it (the number part)."""
    from apps.core.formatting import format_amount

    return format_amount(value, language=language)
