"""Both dashboards in a real browser: charts, presets, a bad range, live updates, a phone-sized screen.

Screenshots are kept as artifacts under ``var/screenshots`` (or ``$SCREENSHOT_DIR``).
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.browser.conftest import login
from tests.factories import PASSWORD, AIUsageLogFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(settings.BASE_DIR) / "var" / "screenshots")
TITLES = {"sv": ("OpenRouter", "Analys"), "en": ("OpenRouter", "Analytics")}
LIVE_WAIT_MS = 25_000  # the metrics poll every 10 s


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture
def tenant(db: Any) -> Any:
    """A tenant with calls today and last month, and a neighbour whose calls must never show."""
    user = UserFactory(username="demo")
    now = dt.datetime.now(dt.UTC)
    last_month = now.replace(day=1) - dt.timedelta(days=3)
    AIUsageLogFactory(user=user, created_at=now - dt.timedelta(seconds=5), cost_usd=Decimal("0.02"))
    AIUsageLogFactory(
        user=user,
        created_at=now - dt.timedelta(seconds=4),
        model="anthropic/claude-3.5-haiku",
        use_case="lead_enrichment",
        cost_usd=Decimal("0.05"),
    )
    AIUsageLogFactory(
        user=user,
        created_at=now - dt.timedelta(seconds=3),
        model="system/model",
        provider="system",
        is_fallback=True,
        cost_usd=Decimal("0.01"),
        cost_source="computed",
    )
    AIUsageLogFactory(user=user, created_at=last_month, cost_usd=Decimal("1.5"))
    AIUsageLogFactory(user=UserFactory(username="neighbour"), created_at=now, cost_usd=Decimal("99"))
    return user


def _switch_language(page: Any, code: str) -> None:
    page.click(f"form.langswitch button[value={code}]")
    page.wait_for_load_state()


def _chart_drawn(page: Any, canvas_id: str) -> bool:
    return bool(page.evaluate(f"() => !!(window.Chart && Chart.getChart('{canvas_id}'))"))


@pytest.mark.parametrize("language", ["sv", "en"])
def test_both_dashboards_render_data_and_charts(
    page: Any, live_server: Any, tenant: Any, language: str
) -> None:
    login(page, live_server, "demo", PASSWORD)
    _switch_language(page, language)
    page.goto(f"{live_server.url}/dashboard/openrouter/")
    assert TITLES[language][0] in page.locator("h1").inner_text()
    assert page.locator("#total-calls").inner_text() == "2"
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-by-day')")
    assert all(_chart_drawn(page, c) for c in ("chart-by-model", "chart-by-use-case", "chart-by-day"))
    page.locator("#or-account .stat-label, #or-account .empty").first.wait_for()
    _shot(page, f"{language}_openrouter")
    page.goto(f"{live_server.url}/dashboard/analytics/")
    assert TITLES[language][1] in page.locator("h1").inner_text()
    assert page.locator("#total-calls").inner_text() == "3"
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-distribution')")
    assert _chart_drawn(page, "chart-by-model")
    ai_label = "AI & Modeller (OpenRouter)" if language == "sv" else "AI & Models (OpenRouter)"
    assert ai_label in page.locator("#table-distribution").text_content()
    _shot(page, f"{language}_analytics")
    assert page.js_errors == []


def test_presets_and_a_custom_range_change_the_numbers(page: Any, live_server: Any, tenant: Any) -> None:
    login(page, live_server, "demo", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/openrouter/")
    assert page.locator("#total-calls").inner_text() == "2"
    page.click("[data-preset=last_month]")
    page.wait_for_url("**preset=last_month")
    assert page.locator("#total-calls").inner_text() == "1"
    page.click("[data-preset=this_year]" if _today().month > 1 else "[data-preset=30d]")
    assert page.locator("#total-calls").inner_text() == "3"
    today = _today().isoformat()
    page.fill("#period-start", today)
    page.fill("#period-end", today)
    page.click("#period-submit")
    page.wait_for_url(f"**start={today}**")
    assert page.locator("#total-calls").inner_text() == "2"
    assert page.js_errors == []


def test_a_bad_range_shows_its_message_beside_the_picker(page: Any, live_server: Any, tenant: Any) -> None:
    login(page, live_server, "demo", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/openrouter/")
    page.fill("#period-start", "2026-11-20")
    page.fill("#period-end", "2026-11-01")
    page.click("#period-submit")
    page.wait_for_url("**start=2026-11-20**")
    assert (
        page.locator("#period-error").inner_text().startswith("Startdatumet får inte vara efter slutdatumet.")
    )
    assert page.locator("#period-start").get_attribute("aria-invalid") == "true"
    assert page.locator("#total-calls").count() == 0
    _shot(page, "sv_openrouter_bad_range")


def test_live_updates_arrive_without_a_reload_and_charts_update_in_place(
    page: Any, live_server: Any, tenant: Any
) -> None:
    login(page, live_server, "demo", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/openrouter/?preset=today")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-by-model')")
    page.evaluate(
        "() => { window.__sameDocument = true; window.__chart = Chart.getChart('chart-by-model'); }"
    )
    AIUsageLogFactory(
        user=tenant, model="mistral/small", cost_usd=Decimal("0.03"), created_at=dt.datetime.now(dt.UTC)
    )
    page.wait_for_function(
        "() => document.getElementById('total-calls').textContent.trim() === '3'", timeout=LIVE_WAIT_MS
    )
    assert page.evaluate("() => window.__sameDocument === true")
    assert page.evaluate("() => Chart.getChart('chart-by-model') === window.__chart")
    assert "mistral/small" in page.evaluate("() => Chart.getChart('chart-by-model').data.labels")
    assert page.locator("#or-realtime").get_attribute("data-live") == "on"
    assert page.js_errors == []


@pytest.mark.parametrize("path", ["/dashboard/openrouter/", "/dashboard/analytics/", "/dashboard/"])
def test_a_390_px_screen_has_no_horizontal_overflow(
    browser: Any, live_server: Any, tenant: Any, path: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="sv-SE")
    page = context.new_page()
    try:
        login(page, live_server, "demo", PASSWORD)
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        _shot(page, "sv_390_" + (path.strip("/").replace("/", "_") or "root"))
        assert width <= 390
    finally:
        context.close()


def test_the_activity_history_is_a_row_per_day_that_opens_in_place(
    page: Any, live_server: Any, tenant: Any
) -> None:
    """Days fold their models; opening one swaps its rows in (htmx) and leaves the chart alone."""
    from apps.usage.models import ActivityRecord
    from tests.factories import AISettingsFactory

    AISettingsFactory(
        user=tenant, openrouter_management_key="sk-or-v1-" + "m" * 64, management_key_last4="mmmm"
    )
    yesterday = _today() - dt.timedelta(days=1)
    days = [yesterday - dt.timedelta(days=n) for n in range(5)]
    for day in days:
        for model in ("openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "google/gemini-2.5-flash"):
            ActivityRecord.objects.create(
                user=tenant, date=day, model=model, model_permaslug=model, endpoint_id="e1",
                provider_name="P", usage=Decimal("0.25"), requests=2, prompt_tokens=10, completion_tokens=5,
            )  # fmt: skip
    login(page, live_server, "demo", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/openrouter/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-activity')")
    assert page.locator("#activity-history tbody.activity-day").count() == 5
    assert page.locator("#activity-history tr.activity-model").count() == 0
    page.evaluate("() => { window.__activityChart = Chart.getChart('chart-activity'); }")
    day = days[1].isoformat()
    toggle = page.locator(f"#activity-day-{day} button")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    page.wait_for_selector(f"#activity-day-{day} tr.activity-model")
    assert page.locator(f"#activity-day-{day} tr.activity-model").count() == 3
    assert page.locator(f"#activity-day-{day} button").get_attribute("aria-expanded") == "true"
    assert page.locator("#activity-history tr.activity-model").count() == 3  # only that day opened
    assert page.evaluate("() => Chart.getChart('chart-activity') === window.__activityChart")
    _shot(page, "sv_activity_day_open")
    page.locator(f"#activity-day-{day} button").click()
    page.wait_for_function(f"() => !document.querySelector('#activity-day-{day} tr.activity-model')")
    assert page.locator(f"#activity-day-{day} button").get_attribute("aria-expanded") == "false"
    assert page.js_errors == []
