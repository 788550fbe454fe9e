"""Both dashboards: every number equals an independent sum over the ledger, per tenant."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from apps.core.templatetags.money import percent, sek, tokens, usd
from apps.integrations.models import CreditSnapshot, CreditSource
from apps.usage.models import AIUsageLog, CostSource
from apps.usage.services import Adjustment, TokenCounts, usage_adjustments_write
from tests.factories import AISettingsFactory, AIUsageLogFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
GPT, CLAUDE, SYSTEM = "openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "system/model"
OUTSIDE = "mistralai/outside-only"  # a model only ever called outside the gateway (synced spend)
SYNCED_LABEL = "Synkat från OpenRouter (utanför gatewayen)"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _at(day: int, month: int = 11, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=dt.UTC)


def _history(user: Any, scale: Decimal) -> None:
    """The same shape of usage for each tenant (overlapping days, models, use cases), other amounts."""
    AIUsageLogFactory(user=user, created_at=_at(20, month=10), cost_usd=Decimal("0.5") * scale)  # last month
    AIUsageLogFactory(user=user, created_at=_at(2), cost_usd=Decimal("0.000123") * scale, latency_ms=300)
    AIUsageLogFactory(user=user, created_at=_at(2, hour=23), model=CLAUDE, cost_usd=Decimal("0.02") * scale)
    AIUsageLogFactory(
        user=user,
        created_at=_at(15),
        model=CLAUDE,
        use_case="lead_enrichment",
        cost_usd=None,
        status="error",
        total_tokens=0,
        prompt_tokens=0,
        completion_tokens=0,
        latency_ms=None,
    )
    AIUsageLogFactory(
        user=user,
        created_at=_at(15),
        model=SYSTEM,
        provider="system",
        is_fallback=True,
        use_case="sms_classification",
        cost_usd=Decimal("0.003") * scale,
        cost_source="computed",
    )
    AIUsageLogFactory(user=user, created_at=_at(28, hour=9), cost_usd=Decimal("0.01") * scale)  # today
    AIUsageLogFactory(
        user=user,
        created_at=_at(28, hour=11),
        model=CLAUDE,
        cost_usd=Decimal("0.04") * scale,
        cost_source="estimated",
    )
    AIUsageLog.objects.create(user=user, provider="openrouter", model=GPT, use_case="chat", created_at=NOW)
    # Sync adjustments (spend OpenRouter billed outside the gateway): cost and tokens, no calls.
    # One beside a model the gateway called, one for a model it never did, and one today (the
    # summary reads today from the ledger, other days from the rollups).
    usage_adjustments_write(
        user=user,
        day=dt.date(2026, 11, 2),
        adjustments={
            GPT: Adjustment(Decimal("0.07") * scale, TokenCounts(prompt=300, completion=50)),
            OUTSIDE: Adjustment(Decimal("0.09") * scale, TokenCounts(prompt=700, completion=90)),
        },
    )
    usage_adjustments_write(
        user=user,
        day=NOW.date(),
        adjustments={CLAUDE: Adjustment(Decimal("0.011") * scale, TokenCounts(prompt=20, completion=2))},
    )


def _calls(rows: list[AIUsageLog]) -> list[AIUsageLog]:
    """A call is a gateway row; sync adjustments are spend without calls."""
    return [r for r in rows if r.source == "gateway"]


@pytest.fixture
def tenants(user_a: Any, user_b: Any) -> tuple[Any, Any]:
    _history(user_a, Decimal(1))
    _history(user_b, Decimal(1000))
    return user_a, user_b


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)<', html, re.S)
    assert match, element_id
    return " ".join(match.group(1).split())


def _json(html: str, element_id: str) -> Any:
    return json.loads(html.split(f'id="{element_id}" type="application/json">')[1].split("</script>")[0])


def _ledger(user: Any, start: dt.date, end: dt.date, provider: str | None = None) -> list[AIUsageLog]:
    """The independent side: plain rows, summed in Python below, never through the selectors."""
    rows = [
        r
        for r in AIUsageLog.objects.filter(user=user).exclude(status="pending")
        if start <= r.created_at.astimezone(dt.UTC).date() <= end
    ]
    return [r for r in rows if provider is None or r.provider == provider]


def _money(rows: list[AIUsageLog], field: str) -> Decimal:
    return sum((getattr(r, field) or Decimal(0) for r in rows), Decimal(0))


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def _sv(value: Any, fmt: Any) -> str:
    with translation.override("sv"):
        return str(fmt(value)).replace("\u00a0", " ")


@pytest.mark.parametrize("who", [0, 1])
@pytest.mark.parametrize(
    ("query", "start"), [("", dt.date(2026, 11, 1)), ("?preset=this_year", dt.date(2026, 1, 1))]
)
def test_every_number_on_the_openrouter_dashboard_is_the_ledgers(
    tenants: tuple[Any, Any], who: int, query: str, start: dt.date
) -> None:
    user = tenants[who]
    rows = _ledger(user, start, NOW.date(), provider="openrouter")
    calls = _calls(rows)
    html = _client(user).get(f"/dashboard/openrouter/{query}").content.decode()
    # Cost and tokens: every row, adjustments included; calls, rates and averages: gateway rows.
    assert _text(html, "total-cost-sek") == _sv(_money(rows, "cost_sek"), sek)
    assert _text(html, "total-cost-usd") == _sv(_money(rows, "cost_usd"), usd)
    assert _text(html, "total-calls") == str(len(calls))
    assert _text(html, "total-tokens") == _sv(sum(r.total_tokens for r in rows), tokens)
    errors = sum(r.status != "success" for r in calls)
    assert _text(html, "error-rate") == _sv(Decimal(errors) / len(calls), percent)
    assert _text(html, "fallback-rate") == _sv(0, percent)
    assert _text(html, "average-cost") == _sv(_money(calls, "cost_sek") / len(calls), sek)
    synced = [r for r in rows if r.source == "activity_sync"]
    assert synced
    assert _sv(_money(synced, "cost_sek"), sek) in _text(html, "average-cost-note")
    charts = _json(html, "chart-data")
    per_model: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        per_model[r.model] += r.cost_sek or 0
    assert dict(zip(charts["by_model"]["labels"], map(Decimal, charts["by_model"]["sek"]), strict=True)) == {
        m: v for m, v in per_model.items()
    }
    whole = _money(rows, "cost_sek")
    assert list(map(Decimal, charts["by_model"]["share"])) == [
        _ratio(per_model[m], whole) for m in charts["by_model"]["labels"]
    ]
    per_day: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        per_day[r.created_at.date().isoformat()] += r.cost_sek or 0
    days = charts["by_day"]["labels"]
    assert (days[0], days[-1], len(days)) == (start.isoformat(), "2026-11-28", (NOW.date() - start).days + 1)
    assert {d: Decimal(v) for d, v in zip(days, charts["by_day"]["sek"], strict=True) if Decimal(v)} == {
        d: v for d, v in per_day.items() if v
    }
    stats = re.findall(
        r'<td class="mono">([^<]+)</td>\s*<td class="num">(\d+)</td>', html.split('id="or-model-stats"')[1]
    )
    # Every model with cost is listed, the one only synced too (0 calls, no averages).
    assert dict(stats) == {m: str(sum(r.model == m for r in calls)) for m in per_model}
    assert dict(stats)[OUTSIDE] == "0"
    quality = dict(re.findall(r'data-source="(\w+)">\s*<td>[^<]+</td>\s*<td class="num">(\d+)</td>', html))
    assert quality == {s: str(sum(r.cost_source == s for r in calls)) for s in CostSource.values}
    per_use_case: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        per_use_case[SYNCED_LABEL if r.source == "activity_sync" else r.get_use_case_display()] += (
            r.cost_sek or 0
        )
    by_use_case = charts["by_use_case"]
    assert dict(zip(by_use_case["labels"], map(Decimal, by_use_case["sek"]), strict=True)) == dict(
        per_use_case
    )
    assert "Fri prompt" not in by_use_case["labels"]  # no generic call was made
    assert "1 call still in progress" in html or "1 anrop pågår" in html


@pytest.mark.parametrize("who", [0, 1])
def test_every_number_on_the_analytics_dashboard_is_the_ledgers(tenants: tuple[Any, Any], who: int) -> None:
    user = tenants[who]
    rows = _ledger(user, dt.date(2026, 11, 1), NOW.date())
    html = _client(user).get("/dashboard/analytics/").content.decode()
    assert _text(html, "total-cost-sek") == _sv(_money(rows, "cost_sek"), sek)
    assert _text(html, "total-calls") == str(len(_calls(rows)))
    distribution = _json(html, "distribution-data")
    system = _money([r for r in rows if r.provider == "system"], "cost_sek")
    assert distribution["labels"] == ["AI & Modeller (OpenRouter)"]
    assert list(map(Decimal, distribution["sek"])) == [_money(rows, "cost_sek")]
    assert distribution["share"] == ["1.000"]
    assert distribution["notes"] == [
        f"varav {_sv(system, sek)} från systemets AI-leverantör".replace(" kr", "\u00a0kr")
    ]
    per_model: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        per_model[r.model] += r.cost_sek or 0
    top = sorted(per_model, key=lambda m: -per_model[m])[:3]
    listed = re.findall(r'<li>\s*<span class="mono">([^<]+)</span>', html)
    assert listed == top
    openrouter = [r for r in rows if r.provider == "openrouter"]
    top5 = re.findall(
        r'<td class="mono">([^<]+)</td>', html.split('id="an-openrouter-top"')[1].split("</table>")[0]
    )
    assert top5 == sorted({r.model for r in openrouter}, key=lambda m: -per_model[m])
    assert "/dashboard/openrouter/" in html


def test_a_bad_range_is_a_message_beside_the_picker_never_a_fallback(tenants: tuple[Any, Any]) -> None:
    client = _client(tenants[0])
    for path in ("/dashboard/openrouter/", "/dashboard/analytics/"):
        response = client.get(path, {"start": "2026-11-20", "end": "2026-11-01"})
        html = response.content.decode()
        assert response.status_code == 400
        assert _text(html, "period-error") == (
            "Startdatumet får inte vara efter slutdatumet. Inget visas förrän perioden är rättad."
        )
        assert 'id="total-calls"' not in html
        assert 'value="2026-11-20"' in html


@pytest.mark.parametrize(
    "query", [{"end": "9999-12-31"}, {"start": "yesterday"}, {"preset": "forever"}, {"start": "2020-01-01"}]
)
def test_impossible_periods_are_400_not_500(tenants: tuple[Any, Any], query: dict[str, str]) -> None:
    client = _client(tenants[0])
    for path in ("/dashboard/openrouter/", "/dashboard/analytics/", "/dashboard/openrouter/live/"):
        response = client.get(path, query)
        assert response.status_code == 400
        assert 'id="period-error"' in response.content.decode()


def test_presets_change_the_numbers(tenants: tuple[Any, Any]) -> None:
    client = _client(tenants[0])
    calls = {
        preset: _text(
            client.get("/dashboard/openrouter/", {"preset": preset}).content.decode(), "total-calls"
        )
        for preset in ("today", "this_month", "last_month", "this_year")
    }
    assert calls == {"today": "2", "this_month": "5", "last_month": "1", "this_year": "6"}


def test_the_live_partial_carries_metrics_realtime_and_chart_data(tenants: tuple[Any, Any]) -> None:
    html = _client(tenants[0]).get("/dashboard/openrouter/live/", {"preset": "today"}).content.decode()
    assert _text(html, "total-calls") == "2"
    assert 'data-live="on"' in html  # the pending call started this very minute
    assert _json(html, "chart-data")["by_model"]["labels"] == [CLAUDE, GPT]
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        later = _client(tenants[0]).get("/dashboard/openrouter/live/").content.decode()
    assert 'data-live="off"' in later


def test_the_page_polls_the_live_partial_with_the_chosen_period(tenants: tuple[Any, Any]) -> None:
    html = _client(tenants[0]).get("/dashboard/openrouter/", {"preset": "7d"}).content.decode()
    assert 'hx-get="/dashboard/openrouter/live/?preset=7d"' in html
    assert "hx-trigger=\"every 10s [document.visibilityState === 'visible']\"" in html
    assert 'hx-get="/dashboard/openrouter/account/"' in html
    assert 'id="ai-models-card"' in html  # the AI tab's model list


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        # The sync's last run and reconciliation gaps: two reads each where the panel shows them.
        # The usage summary is one query for its groups (rollups + today's ledger in one union)
        # and one for the per-day series, which the account panel and the overview do not read.
        # Every full page: + the budget (for its banner) and + the unread notifications.
        ("/dashboard/openrouter/", 12),
        ("/dashboard/openrouter/live/", 8),
        ("/dashboard/analytics/", 7),  # + the ROI settings for the fixed costs
        ("/dashboard/openrouter/account/", 5),
        ("/dashboard/analytics/overview/", 7),
    ],
)
def test_query_counts_are_pinned_whatever_the_rows(
    tenants: tuple[Any, Any], django_assert_num_queries: Any, path: str, queries: int
) -> None:
    client = _client(tenants[0])
    with django_assert_num_queries(queries):
        assert client.get(path).status_code == 200
    for day in range(3, 27):
        AIUsageLogFactory(user=tenants[0], created_at=_at(day), model=f"m/{day}")
        AIUsageLogFactory(user=tenants[0], created_at=_at(28, hour=1), model=f"m/{day}")
    with django_assert_num_queries(queries):
        assert client.get(path).status_code == 200


def test_account_panel_without_keys_asks_for_them(user_a: Any) -> None:
    html = _client(user_a).get("/dashboard/openrouter/account/").content.decode()
    assert "/dashboard/integrations/?tab=ai" in html
    assert 'id="or-runway"' not in html


def test_account_panel_shows_credits_history_and_the_runway(user_a: Any, user_b: Any) -> None:
    AISettingsFactory(user=user_a, openrouter_api_key="sk-or-v1-test-aaaa")
    for n, remaining in enumerate(("20", "18", "15")):
        taken = NOW - dt.timedelta(days=3 - n)
        CreditSnapshot.objects.create(
            user=user_a,
            taken_at=taken,
            minute=taken,
            source=CreditSource.ACCOUNT,
            remaining=Decimal(remaining),
        )
    CreditSnapshot.objects.create(
        user=user_b, taken_at=NOW, minute=NOW, source=CreditSource.ACCOUNT, remaining=Decimal(999)
    )
    AIUsageLogFactory(user=user_a, created_at=_at(25), cost_usd=Decimal("0.7"))  # 0.1 USD a day over 7 days
    AIUsageLogFactory(user=user_a, created_at=_at(20), cost_usd=Decimal("5"))  # before the 7 days
    AIUsageLogFactory(user=user_b, created_at=_at(25), cost_usd=Decimal("70"))
    from apps.analytics import selectors

    runway = selectors.runway_get(user=user_a, remaining_usd=Decimal(15), today=NOW.date())
    assert runway == selectors.Runway(Decimal(15), Decimal("0.1"), 150, dt.date(2027, 4, 27))
    points = selectors.sparkline(selectors.credit_history(user=user_a, now=NOW))
    assert points == "0.0,2.0 120.0,19.6 240.0,46.0"


def test_anonymous_visitors_are_sent_to_log_in(db: Any) -> None:
    for path in (
        "/dashboard/openrouter/",
        "/dashboard/openrouter/live/",
        "/dashboard/openrouter/account/",
        "/dashboard/analytics/",
        "/dashboard/analytics/overview/",
    ):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_overview_card_shows_this_months_figures_for_me_only(tenants: tuple[Any, Any]) -> None:
    user = tenants[0]
    rows = _ledger(user, dt.date(2026, 11, 1), NOW.date())
    html = _client(user).get("/dashboard/analytics/overview/").content.decode()
    assert _sv(_money(rows, "cost_sek"), sek).replace(" ", "\u00a0") in html
    assert html.count("<tr>") == 5


def test_landing_page_loads_the_overview(user_a: Any) -> None:
    html = _client(user_a).get("/dashboard/").content.decode()
    assert 'hx-get="/dashboard/analytics/overview/"' in html
