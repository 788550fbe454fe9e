from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.services import periodic_tasks_setup


class Command(BaseCommand):
    help = "Write the beat schedule defined in config/celery.py to django-celery-beat (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = periodic_tasks_setup()
        self.stdout.write(
            self.style.SUCCESS(
                "Periodic tasks: {created} created, {updated} updated, {disabled} disabled.".format(**counts)
            )
        )
