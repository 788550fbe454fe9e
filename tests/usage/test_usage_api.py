from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

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
    assert body["count"] == 1
    assert body["results"][0]["id"] == mine.pk
    assert body["results"][0]["cost_usd"] == "0.001000000000"
    assert "user" not in body["results"][0]


def test_days_are_utc_days(api_a: Any, user_a: Any) -> None:
    AIUsageLogFactory(
        user=user_a, created_at=dt.datetime(2026, 11, 2, 23, 30, tzinfo=dt.UTC)
    )  # 00:30 on the 3rd in Stockholm, still the 2nd in UTC
    assert api_a.get("/api/usage/logs/", {"start": "2026-11-02", "end": "2026-11-02"}).json()["count"] == 1
    assert api_a.get("/api/usage/logs/", {"start": "2026-11-03", "end": "2026-11-03"}).json()["count"] == 0


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
    response = api_a.get("/api/usage/logs/", {"status": "hacked", "start": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"status", "start"}


def test_list_query_count_is_pinned(api_a: Any, user_a: Any) -> None:
    for day in range(1, 4):
        AIUsageLogFactory(user=user_a, created_at=dt.datetime(2026, 11, day, 10, tzinfo=dt.UTC))
    with CaptureQueriesContext(connection) as few:
        api_a.get("/api/usage/logs/")
    for day in range(4, 10):
        AIUsageLogFactory(user=user_a, created_at=dt.datetime(2026, 11, day, 10, tzinfo=dt.UTC))
    with CaptureQueriesContext(connection) as many:
        api_a.get("/api/usage/logs/")
    assert len(few) == len(many) == 2


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


def test_summary_rejects_a_reversed_range(api_a: Any) -> None:
    response = api_a.get("/api/usage/summary/", {"start": "2026-11-05", "end": "2026-11-01"})
    assert response.status_code == 400


def test_anonymous_is_401(db: Any) -> None:
    assert APIClient().get("/api/usage/summary/").status_code == 401
    assert APIClient().get("/api/usage/logs/").status_code == 401
