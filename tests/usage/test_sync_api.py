"""The sync API (`/api/usage/sync/`) and stored activity (`/api/integrations/openrouter/activity/`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.usage.models import ActivityRecord, AIUsageLog, SyncRun, SyncState
from tests.usage.conftest import YESTERDAY

pytestmark = pytest.mark.django_db

SYNC = "/api/usage/sync/"
ACTIVITY = "/api/integrations/openrouter/activity/"
D1 = dt.date(2026, 11, 25)
ALLOWED = "Choose completed UTC days from 2026-10-29 to 2026-11-27 (at most 30 days)."


def _run_body(run: SyncRun, **changes: Any) -> dict[str, Any]:
    body = {
        "id": run.pk,
        "start": "2026-11-25",
        "end": "2026-11-27",
        "trigger": "api",
        "state": "queued",
        "days_total": 0,
        "days_done": 0,
        "progress_percent": 0,
        "records": 0,
        "adjustments": 0,
        "settled": 0,
        "error_code": "",
        "error": "",
        "created_at": "2026-11-28T13:00:00+01:00",
        "started_at": None,
        "finished_at": None,
    }
    return body | changes


def test_post_starts_a_sync_and_answers_202_with_the_run(
    frozen: Any,
    api_a: APIClient,
    user_a: Any,
    tenant: Any,
    billed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.25", requests=3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_a.post(SYNC, {"start": "2026-11-25", "end": "2026-11-27"}, format="json")
    assert response.status_code == 202
    run = SyncRun.objects.get()
    assert response.json() == _run_body(run)
    assert len(callbacks) == 1  # the task is queued once the run is committed
    run.refresh_from_db()
    assert (run.state, run.user_id, run.days_done, run.records, run.adjustments) == (
        "succeeded",
        user_a.pk,
        3,
        1,
        1,
    )
    detail = api_a.get(f"{SYNC}{run.pk}/")
    assert detail.status_code == 200
    assert detail.json() == _run_body(
        run,
        state="succeeded",
        days_total=3,
        days_done=3,
        progress_percent=100,
        records=1,
        adjustments=1,
        started_at="2026-11-28T13:00:00+01:00",
        finished_at="2026-11-28T13:00:00+01:00",
    )


def test_a_second_post_joins_the_active_run(frozen: Any, api_a: APIClient, user_a: Any, tenant: Any) -> None:
    tenant(user_a)
    first = api_a.post(SYNC, {"start": "2026-11-25", "end": "2026-11-27"}, format="json")
    second = api_a.post(SYNC, {"start": "2026-11-01", "end": "2026-11-02"}, format="json")
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["id"] == first.json()["id"]
    assert SyncRun.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2026-11-27", "2026-11-28", "end", "Today and future days cannot be synced yet. "),
        ("2026-11-27", "2027-01-01", "end", "Today and future days cannot be synced yet. "),
        ("2026-11-27", "2026-11-26", "start", "The start must not be after the end. "),
        ("2026-10-20", "2026-10-25", "start", "OpenRouter keeps only the last 30 days. "),
        ("2026-10-20", "2026-11-27", "start", "The range is longer than 30 days. "),
    ],
)
def test_a_range_outside_the_window_is_a_400_saying_what_is_allowed(
    frozen: Any, api_a: APIClient, start: str, end: str, field: str, message: str
) -> None:
    response = api_a.post(SYNC, {"start": start, "end": end}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid", "message": "Invalid input.", "fields": {field: [message + ALLOWED]}}
    }
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"start": "2026-11-25"},
        {"start": "yesterday", "end": "2026-11-27"},
        {"start": "9999-12-31", "end": "9999-12-31"},
    ],
)
def test_missing_or_malformed_dates_are_400(frozen: Any, api_a: APIClient, body: dict[str, str]) -> None:
    response = api_a.post(SYNC, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not SyncRun.objects.exists()


def test_runs_list_is_mine_newest_first_and_another_users_run_is_404(
    frozen: Any, api_a: APIClient, user_a: Any, user_b: Any
) -> None:
    old = SyncRun.objects.create(
        user=user_a, start=D1, end=D1, trigger="scheduled", state=SyncState.SUCCEEDED
    )
    new = SyncRun.objects.create(user=user_a, start=D1, end=YESTERDAY, trigger="api", state=SyncState.FAILED)
    theirs = SyncRun.objects.create(user=user_b, start=D1, end=D1, trigger="api")
    response = api_a.get(SYNC, {"user": user_b.pk})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [new.pk, old.pk]
    assert api_a.get(f"{SYNC}{theirs.pk}/").status_code == 404
    missing = api_a.get(f"{SYNC}{theirs.pk + 1000}/")
    other = api_a.get(f"{SYNC}{theirs.pk}/")
    assert (other.status_code, other.json()) == (missing.status_code, missing.json())
    assert missing.json() == {
        "error": {"code": "not_found", "message": "Not found."}
    }  # English: no Accept-Language


def test_runs_list_query_count_is_pinned(frozen: Any, api_a: APIClient, user_a: Any) -> None:
    SyncRun.objects.create(user=user_a, start=D1, end=D1, trigger="api", state=SyncState.SUCCEEDED)
    with CaptureQueriesContext(connection) as one:
        api_a.get(SYNC)
    for _ in range(5):
        SyncRun.objects.create(user=user_a, start=D1, end=D1, trigger="api", state=SyncState.SUCCEEDED)
    with CaptureQueriesContext(connection) as six:
        api_a.get(SYNC)
    assert len(one) == len(six) == 2


def test_the_api_cannot_change_or_delete_runs(api_a: APIClient, user_a: Any) -> None:
    run = SyncRun.objects.create(user=user_a, start=D1, end=D1, trigger="api")
    assert api_a.put(f"{SYNC}{run.pk}/", {"state": "succeeded"}, format="json").status_code == 405
    assert api_a.delete(f"{SYNC}{run.pk}/").status_code == 405


def test_anonymous_is_refused(db: Any) -> None:
    client = APIClient()
    assert client.get(SYNC).status_code in (401, 403)
    assert client.post(SYNC, {"start": "2026-11-25", "end": "2026-11-27"}, format="json").status_code in (
        401,
        403,
    )
    assert client.get(ACTIVITY).status_code in (401, 403)
    assert not SyncRun.objects.exists()


def test_stored_activity_lists_my_records_and_keeps_days_outside_the_window(
    frozen: Any, api_a: APIClient, user_a: Any, user_b: Any, emulator: Any
) -> None:
    def record(user: Any, day: dt.date, model: str, usage: str) -> None:
        ActivityRecord.objects.create(
            user=user,
            date=day,
            model=model,
            model_permaslug=model,
            endpoint_id="e1",
            provider_name="OpenAI",
            usage=Decimal(usage),
            requests=3,
            prompt_tokens=10,
            completion_tokens=5,
        )

    record(user_a, dt.date(2026, 9, 1), "openai/gpt-4o-mini", "0.5")  # long out of OpenRouter's window
    record(user_a, D1, "openai/gpt-4o-mini", "0.1")
    record(user_a, D1, "anthropic/claude-sonnet-4.6", "1.2")
    record(user_b, D1, "openai/gpt-4o-mini", "9")
    SyncRun.objects.create(
        user=user_a,
        start=D1,
        end=D1,
        trigger="api",
        state=SyncState.SUCCEEDED,
        finished_at=dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC),
    )
    response = api_a.get(ACTIVITY, {"user": user_b.pk})
    assert response.status_code == 200
    body = response.json()
    assert {
        k: body[k] for k in ("count", "next", "previous", "stale", "problem", "age_seconds", "fetched_at")
    } == {
        "count": 3,
        "next": None,
        "previous": None,
        "stale": False,
        "problem": None,
        "age_seconds": 3600,
        "fetched_at": "2026-11-28T12:00:00+01:00",
    }
    assert [(r["date"], r["model"], r["usage"]) for r in body["results"]] == [
        ("2026-11-25", "anthropic/claude-sonnet-4.6", "1.200000000"),
        ("2026-11-25", "openai/gpt-4o-mini", "0.100000000"),
        ("2026-09-01", "openai/gpt-4o-mini", "0.500000000"),
    ]
    assert body["results"][1] == {
        "date": "2026-11-25",
        "model": "openai/gpt-4o-mini",
        "model_permaslug": "openai/gpt-4o-mini",
        "endpoint_id": "e1",
        "provider_name": "OpenAI",
        "usage": "0.100000000",
        "byok_usage_inference": "0.000000000",
        "requests": 3,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "reasoning_tokens": 0,
        "cached_tokens": 0,
    }
    one_day = api_a.get(ACTIVITY, {"date": "2026-09-01"}).json()
    assert [r["usage"] for r in one_day["results"]] == ["0.500000000"]
    assert emulator.requests == []  # stored records: OpenRouter is not asked
    assert api_a.get(ACTIVITY, {"start": "2026-11-26", "end": "2026-11-25"}).status_code == 400
    assert not AIUsageLog.objects.exists()
