"""Celery entry points of the dashboards. Thin: call one service."""

from __future__ import annotations

from celery import shared_task

from .alerts import spend_alerts_run


@shared_task(name="apps.analytics.tasks.spend_alerts")
def spend_alerts() -> dict[str, int]:
    """Budget and credits alerts for every tenant (each sent once per event and month)."""
    run = spend_alerts_run()
    return {"budget": run.budget_alerts, "credits": run.credit_alerts}
