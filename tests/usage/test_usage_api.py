from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.usage.models import AIUsageLog
from tests.factories import AIUsageLogFactory

pytestmark = pytest.mark.django_db


def test_logs_list_only_my_rows_with_filters(api_a: Any, user_a: Any, user_b: Any) -> None:
    mine = AIUsageLogFactory(
        user=user_a, created_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC), use_case="lead_enrichment"
    )
    AIUsageLogFactory(user=user_a, created_at=dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC))
    AIUsageLogFactory(
        user=user_b, created_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC), use_case="lead_enrichment"
    )
    response = api_a.get("/api/usage/logs/", {"use_case": "lead_enrichment", "user": user_b.pk})
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["id"] == mine.pk
    assert body["results"][0]["cost_usd"] == "0.001000000000"
    assert "user" not in body["results"][0]


def test_days_are_utc_days(api_a: Any, user_a: Any) -> None:
    AIUsageLogFactory(
        user=user_a, created_at=dt.datetime(2026, 11, 2, 23, 30, tzinfo=dt.UTC)
    )  # 00:30 on the 3rd in Stockholm, still the 2nd in UTC
    assert api_a.get("/api/usage/logs/", {"start": "2026-11-02", "end": "2026-11-02"}).json()["results"] != []
    assert api_a.get("/api/usage/logs/", {"start": "2026-11-03", "end": "2026-11-03"}).json()["results"] == []


def test_another_users_log_is_404(api_a: Any, user_b: Any) -> None:
    theirs = AIUsageLogFactory(user=user_b, created_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC))
    assert api_a.get(f"/api/usage/logs/{theirs.pk}/").status_code == 404


def test_the_ledger_cannot_be_written_through_the_api(api_a: Any, user_a: Any) -> None:
    row = AIUsageLogFactory(user=user_a, created_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC))
    assert api_a.post("/api/usage/logs/", {"cost_usd": "0"}, format="json").status_code == 405
    assert api_a.patch(f"/api/usage/logs/{row.pk}/", {"cost_usd": "0"}, format="json").status_code == 405
    assert api_a.delete(f"/api/usage/logs/{row.pk}/").status_code == 405
    row.refresh_from_db()
    assert row.cost_usd == Decimal("0.001")


def test_invalid_filters_are_400(api_a: Any) -> None:
    response = api_a.get("/api/usage/logs/", {"status": "hacked", "start": "2026-11-01"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"status"}
    response = api_a.get("/api/usage/logs/", {"start": "yesterday"}, HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"start": ["Ange ett giltigt datum (ÅÅÅÅ-MM-DD)."]}


@pytest.mark.parametrize("path", ["/api/usage/logs/", "/api/usage/summary/"])
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            {"start": "2026-11-05", "end": "2026-11-01"},
            "start",
            "Startdatumet får inte vara efter slutdatumet.",
        ),
        ({"end": "9999-12-31"}, "end", "Datum måste ligga mellan 2000-01-01 och 2099-12-31."),
    ],
)
def test_a_bad_period_is_a_400_on_every_usage_endpoint_in_the_users_language(
    api_a: Any, path: str, query: dict[str, str], field: str, message: str
) -> None:
    # API messages follow Accept-Language (English when none is sent).
    response = api_a.get(path, query, HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [message]}


def test_list_query_count_is_pinned(api_a: Any, user_a: Any) -> None:
    for day in range(1, 4):
        AIUsageLogFactory(user=user_a, created_at=dt.datetime(2026, 11, day, 10, tzinfo=dt.UTC))
    with CaptureQueriesContext(connection) as few:
        api_a.get("/api/usage/logs/")
    for day in range(4, 10):
        AIUsageLogFactory(user=user_a, created_at=dt.datetime(2026, 11, day, 10, tzinfo=dt.UTC))
    with CaptureQueriesContext(connection) as many:
        api_a.get("/api/usage/logs/")
    assert len(few) == len(many) == 1  # one keyset query: no COUNT over the ledger


def test_summary_totals_are_exact_and_mine_alone(api_a: Any, user_a: Any, user_b: Any) -> None:
    AIUsageLogFactory(
        user=user_a, created_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC), cost_usd=Decimal("0.000000885")
    )
    AIUsageLogFactory(
        user=user_a,
        created_at=dt.datetime(2026, 11, 2, 11, tzinfo=dt.UTC),
        cost_usd=Decimal("0.0041115"),
        model="mistral/large",
        use_case="lead_enrichment",
    )
    AIUsageLogFactory(
        user=user_a, created_at=dt.datetime(2026, 11, 3, 11, tzinfo=dt.UTC), cost_usd=None, status="error"
    )
    AIUsageLogFactory(
        user=user_b, created_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC), cost_usd=Decimal("99")
    )
    body = api_a.get("/api/usage/summary/", {"start": "2026-11-01", "end": "2026-11-30"}).json()
    assert body["totals"]["calls"] == 3
    assert body["totals"]["successful"] == 2
    assert Decimal(body["totals"]["cost_usd"]) == Decimal("0.004112385")
    assert body["totals"]["unpriced"] == 1
    assert [m["model"] for m in body["by_model"]] == ["mistral/large", "openai/gpt-4o-mini"]
    assert [d["day"] for d in body["by_day"]] == ["2026-11-02", "2026-11-03"]
    assert {u["use_case"] for u in body["by_use_case"]} == {"chat", "lead_enrichment"}


def test_summary_lists_synced_spend_without_calls(api_a: Any, user_a: Any, user_b: Any) -> None:
    """A sync adjustment adds cost and tokens, no call; it is its own use case, not ``generic``."""
    from apps.usage.services import Adjustment, TokenCounts, usage_adjustments_write

    AIUsageLogFactory(
        user=user_a,
        created_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC),
        cost_usd=Decimal("0.01"),
        use_case="generic",
    )
    for user, usd in ((user_a, Decimal("0.5")), (user_b, Decimal("70"))):
        usage_adjustments_write(
            user=user,
            day=dt.date(2026, 11, 2),
            adjustments={"outside/model": Adjustment(usd, TokenCounts(prompt=100, completion=20))},
        )
    body = api_a.get("/api/usage/summary/", {"start": "2026-11-01", "end": "2026-11-30"}).json()
    assert (body["totals"]["calls"], body["totals"]["successful"]) == (1, 1)
    assert Decimal(body["totals"]["cost_usd"]) == Decimal("0.51")
    assert body["totals"]["total_tokens"] == 15 + 120
    by_use_case = {u["use_case"]: (u["calls"], Decimal(u["cost_usd"])) for u in body["by_use_case"]}
    assert by_use_case == {"activity_sync": (0, Decimal("0.5")), "generic": (1, Decimal("0.01"))}
    by_model = {m["model"]: m["calls"] for m in body["by_model"]}
    assert by_model == {"outside/model": 0, "openai/gpt-4o-mini": 1}


def test_summary_rejects_a_reversed_range(api_a: Any) -> None:
    response = api_a.get("/api/usage/summary/", {"start": "2026-11-05", "end": "2026-11-01"})
    assert response.status_code == 400


def test_anonymous_is_401(db: Any) -> None:
    assert APIClient().get("/api/usage/summary/").status_code == 401
    assert APIClient().get("/api/usage/logs/").status_code == 401


def _row(user: Any, when: str, cost: str | None = "0.001", **fields: Any) -> Any:
    values: dict[str, Any] = {"user": user, "created_at": dt.datetime.fromisoformat(when)}
    if cost is None:
        values.update(cost_usd=None, cost_source="unpriced")
    else:
        values["cost_usd"] = Decimal(cost)
    values.update(fields)
    return AIUsageLogFactory(**values)


def test_summary_reads_rollups_for_past_days_and_the_ledger_for_today_in_a_fixed_number_of_queries(
    api_a: Any, user_a: Any, user_b: Any
) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC), tick=False):
        _row(user_a, "2026-11-27T23:59:59+00:00", cost="0.25")
        _row(user_a, "2026-11-28T00:00:00+00:00", cost="0.5", status="error")
        _row(user_b, "2026-11-28T01:00:00+00:00", cost="7")
        # A pending call is in flight: not in any total until it finishes.
        AIUsageLog.objects.create(user=user_a, provider="openrouter", model="x", use_case="chat")
        with CaptureQueriesContext(connection) as queries:
            body = api_a.get("/api/usage/summary/", {"preset": "this_month"}).json()
        assert len(queries) == 2  # the groups (rollups and today's ledger in one union), the days
        for day in range(1, 27):
            _row(user_a, f"2026-11-{day:02d}T10:00:00+00:00", model=f"m/{day}")
        with CaptureQueriesContext(connection) as more:
            api_a.get("/api/usage/summary/", {"preset": "this_month"})
        assert len(more) == len(queries)
    assert body == {
        "start": "2026-11-01",
        "end": "2026-11-28",
        "totals": {
            "calls": 2,
            "successful": 1,
            "failed": 1,
            "fallbacks": 0,
            "prompt_tokens": 20,
            "completion_tokens": 10,
            "total_tokens": 30,
            "cost_usd": "0.750000000000",
            "cost_sek": "7.875000",
            "unpriced": 0,
        },
        "by_model": [
            {
                "calls": 2,
                "successful": 1,
                "failed": 1,
                "fallbacks": 0,
                "prompt_tokens": 20,
                "completion_tokens": 10,
                "total_tokens": 30,
                "cost_usd": "0.750000000000",
                "cost_sek": "7.875000",
                "unpriced": 0,
                "model": "openai/gpt-4o-mini",
            }
        ],
        "by_use_case": [
            {
                "calls": 2,
                "successful": 1,
                "failed": 1,
                "fallbacks": 0,
                "prompt_tokens": 20,
                "completion_tokens": 10,
                "total_tokens": 30,
                "cost_usd": "0.750000000000",
                "cost_sek": "7.875000",
                "unpriced": 0,
                "use_case": "chat",
            }
        ],
        "by_day": [
            {
                "calls": 1,
                "successful": 1,
                "failed": 0,
                "fallbacks": 0,
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "cost_usd": "0.250000000000",
                "cost_sek": "2.625000",
                "unpriced": 0,
                "day": "2026-11-27",
            },
            {
                "calls": 1,
                "successful": 0,
                "failed": 1,
                "fallbacks": 0,
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "cost_usd": "0.500000000000",
                "cost_sek": "5.250000",
                "unpriced": 0,
                "day": "2026-11-28",
            },
        ],
    }


def test_logs_are_keyset_pages_newest_first_without_gaps_or_repeats(api_a: Any, user_a: Any) -> None:
    rows = [_row(user_a, f"2026-11-{day:02d}T10:00:00+00:00") for day in range(1, 8)]
    _row(user_a, "2026-11-07T10:00:00+00:00")  # the same instant as another row: ordered by id
    seen: list[int] = []
    url: str | None = "/api/usage/logs/?page_size=3"
    while url:
        body = api_a.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 8
    assert seen[1:] == [row.pk for row in reversed(rows)]


def test_a_bad_page_link_is_a_400(api_a: Any) -> None:
    response = api_a.get("/api/usage/logs/", {"cursor": "not-a-cursor"}, HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "cursor": ["Länken till sidan är ogiltig; börja från första sidan."]
    }


def test_the_latest_calls_lists_gateway_calls_not_adjustments(page_a: Any, user_a: Any) -> None:
    """ "Latest AI calls" on the landing page: a sync adjustment is no call (it would read "Generic prompt")."""
    from apps.usage.services import Adjustment, TokenCounts, usage_adjustments_write

    now = timezone.now()
    AIUsageLogFactory(user=user_a, created_at=now - dt.timedelta(days=1), model="real/model", use_case="chat")
    usage_adjustments_write(
        user=user_a,
        day=now.date(),
        adjustments={"synced/model": Adjustment(Decimal("1"), TokenCounts(prompt=1, completion=1))},
    )
    html = page_a.get("/dashboard/analytics/overview/").content.decode()
    # The landing page's overview card names models only in its latest calls.
    assert "real/model" in html
    assert "synced/model" not in html
