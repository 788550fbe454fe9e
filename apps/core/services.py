"""Writes owned by core: audit events, encryption-key rotation and the periodic-task schedule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import transaction

from . import crypto
from .fields import EncryptedTextField
from .models import AuditAction, AuditEvent, Notification


def audit_record(
    *,
    action: AuditAction,
    actor: Any = None,
    user: Any = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append an audit event. ``detail`` must never hold secrets: pass last-4 fingerprints only."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        user=user if getattr(user, "pk", None) else None,
        target=target[:200],
        detail=detail or {},
        ip_address=ip_address,
    )


@dataclass(frozen=True)
class RotationResult:
    rows_checked: int
    values_rotated: int


def _encrypted_fields() -> list[tuple[type[Any], list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def encryption_keys_rotate() -> RotationResult:
    """Re-encrypt every encrypted column under the newest key.

    Idempotent: values already under the newest key are left alone, so a second run changes
    nothing. Reads raw ciphertext (not through the field) so it never decrypts to memory more
    than one value at a time, and writes each row in its own transaction.
    """
    checked = rotated = 0
    for model, names in _encrypted_fields():
        # cross-tenant: rotation re-encrypts every tenant's secrets by design.
        for row in model._default_manager.values("pk", *[f"{n}" for n in names]).iterator():
            checked += 1
            rotated += _rotate_row(model, row["pk"], names)
    return RotationResult(rows_checked=checked, values_rotated=rotated)


def _raw_values(model: type[Any], pk: Any, names: list[str]) -> dict[str, str]:
    """The stored ciphertext of ``names``: cast to plain text, so the field's decryption never runs
    (and no SQL is built from strings)."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    raw = {f"raw_{n}": Cast(n, output_field=TextField()) for n in names}
    values = model._default_manager.filter(pk=pk).values(**raw).first() or {}
    return {n: values.get(f"raw_{n}") or "" for n in names}


def _rotate_row(model: type[Any], pk: Any, names: list[str]) -> int:
    with transaction.atomic():
        raw = _raw_values(model, pk, names)
        stale = {n: v for n, v in raw.items() if v and not crypto.encrypted_with_newest(v)}
        if not stale:
            return 0
        # The plaintext goes back through the field, which encrypts it under the newest key.
        plain = {n: crypto.decrypt(v) for n, v in stale.items()}
        model._default_manager.filter(pk=pk).update(**plain)
        return len(stale)


def periodic_tasks_setup() -> dict[str, int]:
    """Write ``config.celery.BEAT_SCHEDULE`` into django-celery-beat's tables (idempotent).

    Entries are matched by name; a scheduled entry that is no longer in the code is disabled,
    not deleted, so staff can see what changed.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from config.celery import BEAT_SCHEDULE

    created = updated = 0
    with transaction.atomic():
        for name, entry in BEAT_SCHEDULE.items():
            sched = entry["schedule"]
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=_cron_field(sched._orig_minute),
                hour=_cron_field(sched._orig_hour),
                day_of_week=_cron_field(sched._orig_day_of_week),
                day_of_month=_cron_field(sched._orig_day_of_month),
                month_of_year=_cron_field(sched._orig_month_of_year),
                timezone="UTC",
            )
            _, was_created = PeriodicTask.objects.update_or_create(
                name=name,
                defaults={
                    "task": entry["task"],
                    "crontab": crontab,
                    "interval": None,
                    "kwargs": json.dumps(entry.get("kwargs", {}), sort_keys=True),
                    "enabled": True,
                },
            )
            created += was_created
            updated += not was_created
        disabled = (
            PeriodicTask.objects.exclude(name__in=list(BEAT_SCHEDULE))
            .exclude(name__startswith="celery.")
            .update(enabled=False)
        )
    return {"created": created, "updated": updated, "disabled": disabled}


def _cron_field(value: Any) -> str:
    return str(value)


def notification_send(
    *, user: Any, event: str, period: str, title: str, body: str, email: bool, level: str = "warning"
) -> Notification | None:
    """Notify ``user`` once per ``event`` and ``period``; ``None`` when it was already sent.

    The unique (user, event, period) row is the idempotency: the insert that loses the race, or
    a second run of an alert job, sends nothing. The e-mail goes through Django's e-mail backend
    (console/file on the embedded defaults) only when ``email`` is on and the user has an address.
    """
    from django.conf import settings as django_settings
    from django.core.mail import send_mail
    from django.db import IntegrityError
    from django.utils import timezone

    try:
        with transaction.atomic():
            note = Notification.objects.create(
                user=user, event=event, period=period, title=title[:200], body=body, level=level
            )
    except IntegrityError:
        return None
    address = getattr(user, "email", "")
    if email and address:
        send_mail(
            subject=title[:200],
            message=body,
            from_email=django_settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
            fail_silently=True,
        )
        Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
    return note


def notification_mark_read(*, user: Any, notification_id: int) -> bool:
    from django.utils import timezone

    return bool(
        Notification.objects.for_user(user)
        .filter(pk=notification_id, read_at__isnull=True)
        .update(read_at=timezone.now())
    )
