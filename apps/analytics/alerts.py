"""The periodic spend-alert job: every tenant's budget alerts, and the credits alert when the
OpenRouter runway forecast (the one the OpenRouter dashboard shows) says the credits run out
within ``CREDITS_RUNWAY_ALERT_DAYS`` days. Each alert is sent once per event and month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.formatting import format_usd
from apps.core.services import notification_send
from apps.integrations.models import AISettings
from apps.integrations.selectors import credit_snapshot_latest
from apps.usage.alerts import budget_alerts_send, email_alerts_wanted, users_with_budgets

from .selectors import runway_get

CREDITS_RUNWAY_ALERT_DAYS = 7
CREDITS_EVENT = "credits_runway"


@dataclass(frozen=True)
class AlertRun:
    budget_alerts: int
    credit_alerts: int


def credits_alert_send(*, user: Any, now: dt.datetime) -> bool:
    """Alert once a month when the latest credits snapshot lasts at most 7 more days at the burn rate."""
    latest = credit_snapshot_latest(user=user)
    if latest is None or latest.remaining is None:
        return False
    today = now.astimezone(dt.UTC).date()
    runway = runway_get(user=user, remaining_usd=latest.remaining, today=today)
    if runway.days is None or runway.days > CREDITS_RUNWAY_ALERT_DAYS or runway.runs_out_on is None:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        note = notification_send(
            user=user,
            event=CREDITS_EVENT,
            period=today.strftime("%Y-%m"),
            title=_("OpenRouter credits run out within %(days)s days") % {"days": CREDITS_RUNWAY_ALERT_DAYS},
            body=_(
                "%(remaining)s of OpenRouter credits are left. At the last days' spend of %(burn)s a day "
                "they run out around %(date)s. Top up at openrouter.ai to keep the AI features working."
            )
            % {
                "remaining": format_usd(runway.remaining_usd),
                "burn": format_usd(runway.burn_per_day_usd),
                "date": runway.runs_out_on.isoformat(),
            },
            email=email_alerts_wanted(user=user),
        )
    return note is not None


def spend_alerts_run(*, now: dt.datetime | None = None) -> AlertRun:
    """Run every tenant's alerts; idempotent, so running it twice sends nothing more."""
    moment = now or timezone.now()
    budget_sent = sum(len(budget_alerts_send(user_id=uid, now=moment)) for uid in users_with_budgets())
    # cross-tenant: the job visits every tenant with OpenRouter configured, one at a time.
    user_ids = AISettings.objects.exclude(api_key_last4="", management_key_last4="").values_list(
        "user_id", flat=True
    )
    credit_sent = 0
    for user in get_user_model().objects.filter(pk__in=list(user_ids), is_active=True).order_by("pk"):
        credit_sent += int(credits_alert_send(user=user, now=moment))
    return AlertRun(budget_sent, credit_sent)
