"""Budget alerts: at the soft threshold, at degrade, at block, and when allowed over the limit.

Each is an in-app notification plus an e-mail (unless the tenant unsubscribed), sent once per
event and month: the notification's unique (user, event, month) row is the idempotency, so the
periodic job, a retry and the gateway's immediate trigger can all run and only one is sent.
The gateway never sends on its hot path: it queues :func:`budget_alerts_send` (once per event,
month and hour per tenant, remembered in the shared cache) after the response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.after_response import after_response
from apps.core.formatting import format_sek
from apps.core.localcache import MISSING, LocalCache
from apps.core.services import notification_send
from apps.integrations.budget_selectors import budget_rules_for_call

from .budgets import BudgetStatus, budget_status, month_of

EVENTS = ("soft", "degrade", "block", "over")
QUEUE_AGAIN_AFTER = 3600
_queued: LocalCache[tuple[int, str, str], bool] = LocalCache("budget-alerts-queued", ttl=600.0)


def event_name(event: str) -> str:
    return f"budget_{event}"


def budget_alerts_queue(*, user_id: int, events: Iterable[str]) -> None:
    """Queue the alert task for events a call noticed, at most once an hour per event and month."""
    month = month_of(timezone.now())[0].strftime("%Y-%m")
    # Remembered in this process too, so a tenant over a threshold does not pay a cache round trip
    # on every call.
    wanted = [e for e in events if _queued.get((user_id, month, e)) is MISSING]
    for event in wanted:
        _queued.set((user_id, month, event), True)
    fresh = [
        e for e in wanted if cache.add(f"budget:alert-queued:{user_id}:{month}:{e}", 1, QUEUE_AGAIN_AFTER)
    ]
    if not fresh:
        return
    from .tasks import budget_alerts

    def queue() -> None:
        budget_alerts.delay(user_id=user_id, events=fresh)

    if not after_response(queue):
        queue()


def _texts(event: str, status: BudgetStatus | None, fallback_model: str) -> tuple[str, str]:
    figures = (
        {"spent": format_sek(status.spent_sek), "limit": format_sek(status.limit_sek)}
        if status is not None
        else {"spent": "-", "limit": "-"}
    )
    reset = status.resets_at.strftime("%Y-%m-%d") if status is not None else ""
    if event == "soft":
        return (
            _("AI budget: %(percent)s %% used") % {"percent": status.percent if status else "-"},
            _("Your AI calls have used %(spent)s of this month's budget of %(limit)s.") % figures,
        )
    if event == "degrade":
        return (
            _("AI budget spent: calls switched to a cheaper model"),
            _(
                "This month's AI budget of %(limit)s is spent (%(spent)s). AI calls now use the "
                "cheaper model %(model)s until the budget resets on %(reset)s or is raised."
            )
            % {**figures, "model": fallback_model or "-", "reset": reset},
        )
    if event == "block":
        return (
            _("AI budget spent: AI calls are blocked"),
            _(
                "This month's AI budget of %(limit)s is spent (%(spent)s). AI calls are blocked "
                "until the budget resets on %(reset)s or is raised under Integrations → AI."
            )
            % {**figures, "reset": reset},
        )
    return (
        _("AI budget exceeded"),
        _(
            "This month's AI budget of %(limit)s is exceeded (%(spent)s). Calls continue, as the "
            "budget allows; raise it or change its policy under Integrations → AI."
        )
        % figures,
    )


def budget_alerts_send(
    *, user_id: int, events: Iterable[str] = (), now: dt.datetime | None = None
) -> list[str]:
    """Send the alerts due for ``user_id``: ``events`` a call noticed plus what this month's spend
    (read from the rollups) says. Returns the events actually sent (each once a month)."""
    rules = budget_rules_for_call(user_id=user_id)
    if rules is None:
        return []
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return []
    moment = now or timezone.now()
    status = budget_status(user_id=user_id, now=moment, fresh=True)
    due = {e for e in events if e in EVENTS}
    if status is not None:
        if status.state != "ok":
            due.add("soft")
        due.update({"degraded": ["degrade"], "blocked": ["block"], "over": ["over"]}.get(status.state, []))
    sent = []
    # Users have no language of their own: alerts are written in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        for event in [e for e in EVENTS if e in due]:
            title, body = _texts(event, status, rules.fallback_model)
            note = notification_send(
                user=user,
                event=event_name(event),
                period=month_of(moment)[0].strftime("%Y-%m"),
                title=title,
                body=body,
                email=rules.email_alerts,
                level="info" if event == "soft" else "warning",
            )
            if note is not None:
                sent.append(event)
    return sent


def users_with_budgets() -> list[int]:
    from apps.integrations.models import Budget

    # cross-tenant: the periodic alert job visits every tenant that has a budget.
    return sorted(set(Budget.objects.values_list("user_id", flat=True)))


def email_alerts_wanted(*, user: Any) -> bool:
    rules = budget_rules_for_call(user_id=user.pk)
    return True if rules is None else rules.email_alerts
