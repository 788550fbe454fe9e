"""ROI writes: the fixed-cost settings (audited) and bookings, one at a time or in bulk, idempotently."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import AuditAction
from apps.core.services import audit_record

from .models import Booking, ROISettings
from .rollups import booking_write

SETTINGS_FIELDS = (
    "telephony_sek",
    "sms_sek",
    "email_sek",
    "support_sek",
    "integration_cost_sek",
    "integration_start",
)
BOOKING_FIELDS = ("date", "value_sek", "description")


def roi_settings_update(
    *, user: Any, values: dict[str, Any], actor: Any = None, ip_address: str | None = None
) -> ROISettings:
    """Create or change the user's ROI settings with already-validated ``values``.

    Every real change writes one audit event listing the fields with their old and new values
    (amounts, never secrets); saving the same values again changes nothing and audits nothing.
    """
    with transaction.atomic():
        settings, _created = ROISettings.objects.select_for_update().get_or_create(user=user)
        changed = {
            name: [_plain(getattr(settings, name)), _plain(values[name])]
            for name in SETTINGS_FIELDS
            if name in values and getattr(settings, name) != values[name]
        }
        if changed:
            for name in changed:
                setattr(settings, name, values[name])
            settings.save(update_fields=[*changed, "updated_at"])
            audit_record(
                action=AuditAction.SETTINGS_CHANGED,
                actor=actor or user,
                user=user,
                target="roi_settings",
                detail={"changed": changed},
                ip_address=ip_address,
            )
    return settings


def _plain(value: Any) -> str | None:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return None if value is None else str(value)


def booking_create(
    *, user: Any, date: dt.date, value_sek: Decimal, description: str = "", external_id: str | None = None
) -> Booking:
    with booking_write(user_id=user.pk) as touched:
        booking = Booking.objects.create(
            user=user,
            date=date,
            value_sek=value_sek,
            description=description,
            external_id=external_id or None,
        )
        touched.add(date)
    return booking


def booking_update(*, booking: Booking, values: dict[str, Any]) -> Booking:
    """Change a booking the caller already holds (scoped); ``values`` are validated fields."""
    with booking_write(user_id=booking.user_id) as touched:
        touched.add(booking.date)
        for name, value in values.items():
            setattr(booking, name, value)
        booking.save()
        touched.add(booking.date)
    return booking


def booking_delete(*, booking: Booking) -> None:
    with booking_write(user_id=booking.user_id) as touched:
        touched.add(booking.date)
        booking.delete()


class PushOutcome(models.TextChoices):
    CREATED = "created", _("created")
    UPDATED = "updated", _("updated")
    UNCHANGED = "unchanged", _("unchanged")


def booking_upsert(
    *, user: Any, external_id: str, date: dt.date, value_sek: Decimal, description: str = ""
) -> tuple[Booking, PushOutcome]:
    """Create the booking with this external id, or bring the existing one to these values.

    Idempotent: pushing the same booking twice leaves one row (the second push is "unchanged").
    """
    outcome, booking = bookings_upsert_many(
        user=user,
        items=[
            {"external_id": external_id, "date": date, "value_sek": value_sek, "description": description}
        ],
    )[0]
    return booking, outcome


def bookings_upsert_many(*, user: Any, items: list[dict[str, Any]]) -> list[tuple[PushOutcome, Booking]]:
    """Upsert validated bookings by external id (unique within ``items``), in one transaction.

    Items without an external id are always created. A fixed number of queries for any number of
    items: the tenant lock, the existing rows, one bulk insert, one bulk update and the rollup of
    the touched dates. Pushes for one tenant run one after another (the lock), so a concurrent
    push of the same new external id becomes an update rather than a conflict.
    """
    with booking_write(user_id=user.pk) as touched:
        ids = [item["external_id"] for item in items if item.get("external_id")]
        existing = {b.external_id: b for b in Booking.objects.for_user(user).filter(external_id__in=ids)}
        results: list[tuple[PushOutcome, Booking]] = []
        to_create: list[Booking] = []
        to_update: list[Booking] = []
        for item in items:
            booking = existing.get(item.get("external_id") or "")
            if booking is None:
                booking = Booking(user=user, external_id=item.get("external_id") or None)
                _assign(booking, item)
                to_create.append(booking)
                results.append((PushOutcome.CREATED, booking))
                touched.add(booking.date)
                continue
            touched.add(booking.date)
            if _assign(booking, item):
                to_update.append(booking)
                results.append((PushOutcome.UPDATED, booking))
                touched.add(booking.date)
            else:
                results.append((PushOutcome.UNCHANGED, booking))
        Booking.objects.bulk_create(to_create, batch_size=1000)
        Booking.objects.bulk_update(to_update, [*BOOKING_FIELDS, "updated_at"], batch_size=1000)
    return results


def _assign(booking: Booking, item: dict[str, Any]) -> bool:
    """Copy ``item`` onto ``booking``; True when something changed."""
    changed = False
    for name in BOOKING_FIELDS:
        value = item.get(name, "" if name == "description" else None)
        if getattr(booking, name) != value:
            setattr(booking, name, value)
            changed = True
    if changed and booking.pk:
        # bulk_update skips auto_now, so the change time is set here.
        booking.updated_at = timezone.now()
    return changed
