"""A time the page labels "UTC" is shown in UTC, not in the site's zone (Europe/Stockholm).

Found by the browser journey: at 11:13 UTC the OpenRouter dashboard read "Last call
2026-11-28 12:13:22 UTC".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.test import Client

from apps.integrations.models import CreditSnapshot, CreditSource
from apps.usage.models import SyncRun, SyncState
from tests.factories import AISettingsFactory, AIUsageLogFactory

# Mid-winter: Stockholm is UTC+1, so the two readings differ by an hour.
AT = dt.datetime(2026, 1, 15, 9, 30, 5, tzinfo=dt.UTC)


def _tenant(user: Any) -> None:
    AISettingsFactory(user=user, openrouter_management_key="sk-or-v1-" + "m" * 64)
    AIUsageLogFactory(user=user, created_at=AT, cost_usd=Decimal("0.01"))
    CreditSnapshot.objects.create(
        user=user, taken_at=AT, minute=AT.replace(second=0), source=CreditSource.ACCOUNT, remaining=Decimal(5)
    )
    run = SyncRun.objects.create(
        user=user, start=AT.date(), end=AT.date(), trigger="manual", state=SyncState.SUCCEEDED
    )
    SyncRun.objects.filter(pk=run.pk).update(created_at=AT)


def test_the_openrouter_dashboard_shows_utc_times_as_utc(user_a: Any, page_a: Client) -> None:
    _tenant(user_a)
    html = page_a.get("/dashboard/openrouter/?start=2026-01-15&end=2026-01-15").content.decode()
    assert "2026-01-15 09:30:05 UTC" in html  # the last call
    assert "senaste avläsning 2026-01-15 09:30 UTC" in html  # the credit reading
    assert "Senaste synk 2026-01-15 09:30 UTC" in html
    assert "10:30 UTC" not in html  # (unlabelled times elsewhere follow the site zone)


def test_the_overview_shows_the_last_sync_in_utc(user_a: Any, page_a: Client) -> None:
    _tenant(user_a)
    html = page_a.get("/dashboard/analytics/overview/").content.decode()
    assert "Senaste synk 2026-01-15 09:30 UTC" in html
    assert "10:30 UTC" not in html  # (unlabelled times elsewhere follow the site zone)


def test_another_tenants_times_are_not_shown(user_a: Any, user_b: Any) -> None:
    _tenant(user_a)
    client = Client()
    client.force_login(user_b)
    html = client.get("/dashboard/openrouter/?start=2026-01-15&end=2026-01-15").content.decode()
    assert "09:30" not in html


def test_the_activity_sections_last_sync_is_in_utc(user_a: Any, page_a: Client) -> None:
    _tenant(user_a)
    SyncRun.objects.filter(user=user_a).update(finished_at=AT)
    html = page_a.get("/dashboard/openrouter/activity/").content.decode()
    assert "Senaste synk: 2026-01-15 09:30 UTC" in html
    assert "10:30" not in html
