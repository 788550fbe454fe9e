"""The Celery app and the beat schedule.

The schedule lives here, in code; ``manage.py setup_periodic_tasks`` writes it into
django-celery-beat's database scheduler (idempotently), which the beat process reads.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("openrouter_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# name -> (task path, schedule, kwargs). Times are UTC (CELERY_TIMEZONE).
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "usage-expire-stale-pending": {
        "task": "apps.usage.tasks.expire_stale_pending",
        "schedule": crontab(minute="*/5"),
        "kwargs": {},
    },
    "usage-settle-unpriced": {
        "task": "apps.usage.tasks.settle_unpriced",
        "schedule": crontab(minute="7,37"),
        "kwargs": {},
    },
    "usage-sync-activity-nightly": {
        "task": "apps.usage.tasks.sync_activity_nightly",
        "schedule": crontab(hour=3, minute=0),
        "kwargs": {},
    },
    "analytics-spend-alerts": {
        "task": "apps.analytics.tasks.spend_alerts",
        "schedule": crontab(minute=15),
        "kwargs": {},
    },
    "core-clear-expired-sessions": {
        "task": "apps.core.tasks.clear_expired_sessions",
        "schedule": crontab(hour=2, minute=30),
        "kwargs": {},
    },
}
