from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.models import AuditAction
from apps.core.services import audit_record, encryption_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the newest FIELD_ENCRYPTION_KEYS key. "
        "Idempotent: run it after adding a key in front; remove the old key only afterwards."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = encryption_keys_rotate()
        if result.values_rotated:
            audit_record(
                action=AuditAction.KEYS_ROTATED,
                target="FIELD_ENCRYPTION_KEYS",
                detail={"rows_checked": result.rows_checked, "values_rotated": result.values_rotated},
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Checked {result.rows_checked} rows; re-encrypted {result.values_rotated} values."
            )
        )
