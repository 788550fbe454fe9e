from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.celery import BEAT_SCHEDULE, app

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple]:
    return sorted(
        (t.name, t.task, t.kwargs, t.enabled, str(t.crontab))
        for t in PeriodicTask.objects.select_related("crontab")
    )


def test_setup_periodic_tasks_twice_gives_the_same_rows() -> None:
    call_command("setup_periodic_tasks", stdout=StringIO())
    first = _snapshot()
    crontabs = CrontabSchedule.objects.count()
    call_command("setup_periodic_tasks", stdout=StringIO())
    assert _snapshot() == first
    assert CrontabSchedule.objects.count() == crontabs
    assert {row[0] for row in first} == set(BEAT_SCHEDULE)


def test_entries_removed_from_code_are_disabled_not_deleted() -> None:
    PeriodicTask.objects.create(
        name="obsolete",
        task="apps.core.tasks.gone",
        crontab=CrontabSchedule.objects.create(minute="0", hour="1"),
    )
    call_command("setup_periodic_tasks", stdout=StringIO())
    assert PeriodicTask.objects.get(name="obsolete").enabled is False


def test_every_scheduled_task_is_registered() -> None:
    app.loader.import_default_modules()
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]
