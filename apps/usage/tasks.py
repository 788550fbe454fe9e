"""Celery entry points for the ledger. Thin: load by id, call one service."""

from __future__ import annotations

from celery import shared_task

from .services import usage_expire_stale_pending
from .settlement import usage_cost_settle


@shared_task(name="apps.usage.tasks.expire_stale_pending")
def expire_stale_pending() -> int:
    return usage_expire_stale_pending()


@shared_task(name="apps.usage.tasks.settle_cost", acks_late=True)
def settle_cost(*, log_id: int) -> str | None:
    source = usage_cost_settle(log_id=log_id)
    return source.value if source else None
