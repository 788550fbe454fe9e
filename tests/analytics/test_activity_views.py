"""The Activity history section of the OpenRouter dashboard (htmx partials)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.usage.models import ActivityRecord, Reconciliation, SyncRun, SyncState

pytestmark = pytest.mark.django_db

D1 = dt.date(2026, 11, 25)


@pytest.fixture
def page_a(user_a: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user_a)
    return client


def _record(user: Any, day: dt.date, model: str, usage: str) -> None:
    ActivityRecord.objects.create(
        user=user,
        date=day,
        model=model,
        model_permaslug=model,
        endpoint_id="e1",
        provider_name="OpenAI",
        usage=Decimal(usage),
        requests=4,
        prompt_tokens=100,
        completion_tokens=20,
    )


def test_without_a_management_key_the_section_explains_and_links_the_ai_tab(
    frozen: Any, page_a: Client, user_a: Any, tenant: Any
) -> None:
    tenant(user_a, management=False)
    response = page_a.get(reverse("analytics:activity_history"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Add a management key on the AI tab" in html
    assert f'href="{reverse("integrations:index")}?tab=ai"' in html
    assert "Sync from OpenRouter" not in html


def test_the_section_shows_openrouters_figures_beside_the_ledgers(
    frozen: Any, page_a: Client, user_a: Any, user_b: Any, tenant: Any
) -> None:
    tenant(user_a)
    _record(user_a, D1, "openai/gpt-4o-mini", "0.25")
    _record(user_a, D1, "anthropic/claude-sonnet-4.6", "1.50")
    _record(user_b, D1, "secret/model-of-b", "7")
    Reconciliation.objects.create(
        user=user_a, date=D1, model="openai/gpt-4o-mini", billed_usd=Decimal("0.25"), gateway_usd=Decimal("0.05"),
        adjustment_usd=Decimal("0.20"),
    )  # fmt: skip
    SyncRun.objects.create(
        user=user_a, start=D1, end=D1, trigger="scheduled", state=SyncState.SUCCEEDED, days_done=1, records=2,
        finished_at=dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC),
    )  # fmt: skip
    response = page_a.get(reverse("analytics:activity_history"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sync from OpenRouter" in html
    assert "secret/model-of-b" not in html
    assert html.count("<tr>") == 1 + 1 + 1  # header, one row for the day (folded), total
    assert 'id="activity-day-2026-11-25"' in html
    assert "2 models" in html
    assert "1 model not reconciled" in html  # claude's day was never reconciled
    assert "differs" not in html
    assert "1 days, 2 records, 0 adjustments" in html
    chart = json.loads(response.context["chart"] and json.dumps(response.context["chart"]))
    assert chart["labels"][0] == "2026-10-29"
    assert chart["labels"][-1] == "2026-11-27"
    assert [(d["label"], d["data"][chart["labels"].index("2026-11-25")]) for d in chart["datasets"]] == [
        ("anthropic/claude-sonnet-4.6", 1.5),
        ("openai/gpt-4o-mini", 0.25),
    ]
    rows = response.context["rows"]
    assert [(r.model, r.billed_usd, r.billed_sek, r.ledger_usd) for r in rows] == [
        ("anthropic/claude-sonnet-4.6", Decimal("1.50"), Decimal("15.75"), None),
        ("openai/gpt-4o-mini", Decimal("0.25"), Decimal("2.625"), Decimal("0.25")),
    ]
    [day] = response.context["days"]
    assert (day.date, day.models, day.requests, day.tokens) == (D1, 2, 8, 240)
    assert (day.billed_usd, day.billed_sek, day.ledger_usd, day.unreconciled) == (
        Decimal("1.75"),
        Decimal("18.375"),
        Decimal("0.25"),  # the reconciled model only
        1,
    )
    assert not day.differs


def test_a_sync_from_the_page_runs_and_polls_until_done(
    frozen: Any,
    page_a: Client,
    user_a: Any,
    tenant: Any,
    billed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.25")
    response = page_a.post(reverse("analytics:activity_sync"), {"start": "2026-11-25", "end": "2026-11-25"})
    assert response.status_code == 200
    run = SyncRun.objects.get()
    assert (run.user_id, run.trigger, run.state, run.start, run.end) == (
        user_a.pk,
        "manual",
        "queued",
        D1,
        D1,
    )
    html = response.content.decode()
    assert reverse("analytics:activity_sync_status", args=[run.pk]) in html  # polls while queued
    assert 'hx-trigger="every 2s"' in html
    with django_capture_on_commit_callbacks(execute=True):
        from apps.usage.tasks import sync_activity

        sync_activity.delay(run_id=run.pk)
    status = page_a.get(reverse("analytics:activity_sync_status", args=[run.pk]))
    assert status.status_code == 200
    html = status.content.decode()
    assert "Succeeded" in html
    assert "every 2s" not in html
    assert reverse("analytics:activity_history") in html  # reloads the section once


def test_the_page_clamps_the_range_and_says_so(frozen: Any, page_a: Client, user_a: Any, tenant: Any) -> None:
    tenant(user_a)
    response = page_a.post(reverse("analytics:activity_sync"), {"start": "2026-01-01", "end": "2026-12-31"})
    assert response.status_code == 200
    assert "the range became 2026-10-29 to 2026-11-27" in response.content.decode()
    assert SyncRun.objects.values_list("start", "end").get() == (dt.date(2026, 10, 29), dt.date(2026, 11, 27))


def test_needs_attention_shows_the_reason(frozen: Any, page_a: Client, user_a: Any, tenant: Any) -> None:
    tenant(user_a)
    SyncRun.objects.create(
        user=user_a, start=D1, end=D1, trigger="scheduled", state=SyncState.NEEDS_ATTENTION,
        error="OpenRouter refused the management key (bad key).",
    )  # fmt: skip
    html = page_a.get(reverse("analytics:activity_history")).content.decode()
    assert "Needs attention" in html
    assert "OpenRouter refused the management key (bad key)." in html
    line = page_a.get(reverse("analytics:activity_last_sync")).content.decode()
    assert "Needs attention" in line
    assert "#activity-history" in line


def test_another_users_run_is_404_and_anonymous_is_sent_to_login(page_a: Client, user_b: Any) -> None:
    theirs = SyncRun.objects.create(user=user_b, start=D1, end=D1, trigger="api")
    assert page_a.get(reverse("analytics:activity_sync_status", args=[theirs.pk])).status_code == 404
    anonymous = Client()
    for url in (
        reverse("analytics:activity_history"),
        reverse("analytics:activity_last_sync"),
        reverse("analytics:activity_sync_status", args=[theirs.pk]),
    ):
        assert anonymous.get(url).status_code == 302
    assert anonymous.post(reverse("analytics:activity_sync"), {}).status_code == 302
    assert SyncRun.objects.count() == 1


def test_the_dashboard_loads_the_section_and_the_ai_tab_links_it(page_a: Client, user_a: Any) -> None:
    html = page_a.get(reverse("analytics:openrouter")).content.decode()
    assert f'hx-get="{reverse("analytics:activity_history")}"' in html
    tab = page_a.get(reverse("integrations:index") + "?tab=ai").content.decode()
    assert f'hx-get="{reverse("analytics:activity_last_sync")}"' in tab


def test_the_history_is_one_row_per_day_and_a_day_opens_into_its_models(
    frozen: Any, page_a: Client, user_a: Any, user_b: Any, tenant: Any
) -> None:
    """30 days of several models each stay a 30-row table; a day unfolds in place (htmx) and folds back."""
    tenant(user_a)
    models = ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4.6", "google/gemini-2.5-flash", "x/y")
    days = [D1 - dt.timedelta(days=n) for n in range(27)]
    for day in days:
        for model in models:
            _record(user_a, day, model, "0.5")
    D2 = days[1]
    Reconciliation.objects.create(
        user=user_a, date=D2, model="x/y", billed_usd=Decimal("0.5"), gateway_usd=Decimal("0.4"),
        adjustment_usd=Decimal("0"),
    )  # fmt: skip
    _record(user_b, D2, "secret/model-of-b", "7")
    html = page_a.get(reverse("analytics:activity_history")).content.decode()
    assert html.count("<tr>") + html.count('<tr class="activity-model">') == 1 + 27 + 1
    assert '<td class="mono">' not in html  # the models are folded away (the chart still has them)
    assert 'aria-expanded="false"' in html
    assert f'hx-get="{reverse("analytics:activity_history_day", args=[D2.isoformat()])}"' in html
    assert "differs" in html  # the day folds its reconciled model's difference

    url = reverse("analytics:activity_history_day", args=[D2.isoformat()])
    opened = page_a.get(url, HTTP_HX_REQUEST="true")
    assert opened.status_code == 200
    body = opened.content.decode()
    assert body.strip().startswith(f'<tbody id="activity-day-{D2.isoformat()}"')
    assert 'aria-expanded="true"' in body
    assert body.count('<tr class="activity-model">') == 4
    assert all(model in body for model in models)
    assert "secret/model-of-b" not in body
    assert f'hx-get="{url}?open=0"' in body
    assert body.count("differs") == 2  # the day's row and x/y's own row
    assert opened.context["day"].billed_usd == Decimal("2.0")

    folded = page_a.get(url + "?open=0").content.decode()
    assert 'aria-expanded="false"' in folded
    assert '<tr class="activity-model">' not in folded


def test_another_users_day_and_a_bad_date_are_404(page_a: Client, user_a: Any, user_b: Any) -> None:
    _record(user_b, D1, "secret/model-of-b", "7")
    for day in (D1.isoformat(), "2026-13-01", "yesterday"):
        assert page_a.get(reverse("analytics:activity_history_day", args=[day])).status_code == 404
    assert Client().get(reverse("analytics:activity_history_day", args=[D1.isoformat()])).status_code == 302


def test_the_section_says_what_is_synced_and_links_the_setting(
    frozen: Any, page_a: Client, user_a: Any, user_b: Any, tenant: Any
) -> None:
    from apps.integrations.models import AISettings

    tenant(user_a)
    tenant(user_b)
    AISettings.objects.filter(user=user_b).update(activity_whole_account=True)
    html = " ".join(page_a.get(reverse("analytics:activity_history")).content.decode().split())
    assert "Synced: the spend of your API key only." in html  # Bob's choice is not Alice's
    assert f'<a href="{reverse("integrations:index")}?tab=ai">Change on the AI tab</a>' in html
    AISettings.objects.filter(user=user_a).update(activity_whole_account=True)
    html = page_a.get(reverse("analytics:activity_history")).content.decode()
    assert "Synced: every key of your OpenRouter account." in html
