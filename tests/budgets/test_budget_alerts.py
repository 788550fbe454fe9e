"""Alerts: once per event and month however often the job runs; e-mail unless unsubscribed;
the credits alert from the runway forecast; the beat schedule carries the job."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.analytics.alerts import spend_alerts_run
from apps.analytics.tasks import spend_alerts
from apps.core.models import Notification
from apps.integrations.budget_services import budget_email_alerts_set
from tests.factories import AISettingsFactory, BudgetFactory, CreditSnapshotFactory, LedgerRowFactory

pytestmark = pytest.mark.django_db


def _events(user: Any) -> list[str]:
    return sorted(Notification.objects.for_user(user).values_list("event", flat=True))


def test_the_alert_job_run_twice_sends_each_alert_once(
    user_a: Any, user_b: Any, mailoutbox: list[Any]
) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"), policy="block")
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("12"))
    BudgetFactory(user=user_b, monthly_limit_sek=Decimal("100"), soft_threshold_percent=50)
    LedgerRowFactory(user=user_b, created_at=timezone.now(), cost_sek=Decimal("60"))
    first = spend_alerts_run()
    second = spend_alerts_run()
    assert (first.budget_alerts, second.budget_alerts) == (3, 0)
    assert _events(user_a) == ["budget_block", "budget_soft"]
    assert _events(user_b) == ["budget_soft"]
    assert len(mailoutbox) == 3
    assert sorted(m.to[0] for m in mailoutbox) == sorted([user_a.email, user_a.email, user_b.email])
    spend_alerts.delay()  # the Celery task (eager in tests) is the same idempotent job
    assert len(mailoutbox) == 3


def test_degrade_alert_names_the_cheaper_model(user_a: Any, mailoutbox: list[Any]) -> None:
    BudgetFactory(
        user=user_a, monthly_limit_sek=Decimal("10"), policy="degrade", fallback_model="openai/gpt-4o-mini"
    )
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("12"))
    spend_alerts_run()
    note = Notification.objects.for_user(user_a).get(event="budget_degrade")
    assert "openai/gpt-4o-mini" in note.body


def test_unsubscribed_tenants_get_the_notification_but_no_mail(user_a: Any, mailoutbox: list[Any]) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"))
    budget_email_alerts_set(user=user_a, enabled=False)
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("12"))
    spend_alerts_run()
    assert _events(user_a) == ["budget_block", "budget_soft"]
    assert mailoutbox == []


def test_under_the_threshold_nothing_is_sent(user_a: Any, mailoutbox: list[Any]) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("100"))
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("10"))
    assert spend_alerts_run().budget_alerts == 0
    assert mailoutbox == []


def test_credits_running_out_within_seven_days_alerts_once(
    user_a: Any, user_b: Any, mailoutbox: list[Any]
) -> None:
    now = timezone.now()
    for user, remaining in ((user_a, "5"), (user_b, "500")):
        AISettingsFactory(user=user)
        for day in range(7):
            LedgerRowFactory(
                user=user,
                created_at=now - dt.timedelta(days=day),
                cost_sek=Decimal("10"),
                fx_rate=Decimal("10"),
            )  # $1 a day
        CreditSnapshotFactory(user=user, total_credits=Decimal(remaining), total_usage=Decimal(0))
    assert spend_alerts_run().credit_alerts == 1
    assert spend_alerts_run().credit_alerts == 0
    assert _events(user_a) == ["credits_runway"]
    assert _events(user_b) == []
    assert len(mailoutbox) == 1
    assert "openrouter.ai" in mailoutbox[0].body


def test_the_beat_schedule_has_the_alert_job() -> None:
    from config.celery import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["analytics-spend-alerts"]
    assert entry["task"] == "apps.analytics.tasks.spend_alerts"
