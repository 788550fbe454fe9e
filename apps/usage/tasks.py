"""Celery entry points for the ledger. Thin: load by id, call one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from .alerts import budget_alerts_send
from .models import SyncRun
from .services import usage_expire_stale_pending
from .settlement import usage_cost_settle, usage_settlement_fan_out
from .sync import sync_nightly_fan_out, sync_run_execute


@shared_task(name="apps.usage.tasks.expire_stale_pending")
def expire_stale_pending() -> int:
    return usage_expire_stale_pending()


@shared_task(name="apps.usage.tasks.settle_cost", acks_late=True)
def settle_cost(*, log_id: int) -> str | None:
    source = usage_cost_settle(log_id=log_id)
    return source.value if source else None


@shared_task(name="apps.usage.tasks.sync_activity", bind=True, acks_late=True)
def sync_activity(self: Any, *, run_id: int) -> str:
    """Run one queued sync; progress goes to the run row and the task state as days complete.

    Idempotent: a redelivered task finds the run ended (or held by a live worker) and returns.
    """

    def progress(run: SyncRun) -> None:
        if self.request.id:
            self.update_state(state="PROGRESS", meta={"done": run.days_done, "total": run.days_total})

    return str(sync_run_execute(run_id=run_id, progress=progress).state)


@shared_task(name="apps.usage.tasks.sync_activity_nightly")
def sync_activity_nightly() -> int:
    """The 03:00 UTC fan-out: one sync per user with a management key, previous two days."""
    return len(sync_nightly_fan_out())


@shared_task(name="apps.usage.tasks.settle_unpriced")
def settle_unpriced() -> int:
    """Queue ``/generation`` settlement for recent rows that kept a generation id but no cost."""
    return usage_settlement_fan_out()


@shared_task(name="apps.usage.tasks.budget_alerts", acks_late=True)
def budget_alerts(*, user_id: int, events: list[str] | None = None) -> list[str]:
    """Send one tenant's due budget alerts (idempotent: each event once a month)."""
    return budget_alerts_send(user_id=user_id, events=events or ())
