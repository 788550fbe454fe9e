"""Keeps ``BookingDay`` equal to the bookings: recomputed per touched date inside each booking write.

Every booking write runs ``with booking_write(user_id=...) as touched:`` and adds the dates it
changes (old and new) to ``touched``. The block takes a lock on the tenant's user row first, so
two writers for one tenant run one after the other and each recomputes from committed bookings;
on leaving, the touched dates are recomputed from the bookings in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Sum

from .models import Booking, BookingDay

_CHUNK = 500


@contextmanager
def booking_write(*, user_id: Any) -> Iterator[set[dt.date]]:
    touched: set[dt.date] = set()
    with transaction.atomic():
        # One booking writer per tenant at a time, so each recompute sees the other's bookings.
        get_user_model().objects.select_for_update().filter(pk=user_id).first()
        yield touched
        booking_days_refresh(user_id=user_id, dates=touched)


def booking_days_refresh(*, user_id: Any, dates: Iterable[dt.date]) -> None:
    """Recompute the rollup rows of ``dates`` for one tenant from its bookings."""
    ordered = sorted(set(dates))
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        sums = (
            Booking.objects.filter(user_id=user_id, date__in=chunk)
            .values("date")
            .annotate(n=Count("id"), total=Sum("value_sek"))
            .order_by()
        )
        BookingDay.objects.filter(user_id=user_id, date__in=chunk).delete()
        BookingDay.objects.bulk_create(
            [
                BookingDay(user_id=user_id, date=r["date"], bookings=r["n"], revenue_sek=r["total"])
                for r in sums
            ]
        )


def booking_days_rebuild(*, user_id: Any = None) -> int:
    """Recompute the whole rollup (one tenant, or all when ``user_id`` is None). Idempotent."""
    # cross-tenant: a full rebuild (staff command) covers every tenant by design.
    bookings = Booking.objects.all() if user_id is None else Booking.objects.filter(user_id=user_id)
    days = BookingDay.objects.all() if user_id is None else BookingDay.objects.filter(user_id=user_id)
    sums = bookings.values("user_id", "date").annotate(n=Count("id"), total=Sum("value_sek")).order_by()
    written = 0
    with transaction.atomic():
        days.delete()
        batch: list[BookingDay] = []
        for row in sums.iterator(chunk_size=5000):
            batch.append(
                BookingDay(
                    user_id=row["user_id"], date=row["date"], bookings=row["n"], revenue_sek=row["total"]
                )
            )
            if len(batch) >= 5000:
                written += len(BookingDay.objects.bulk_create(batch))
                batch = []
        written += len(BookingDay.objects.bulk_create(batch))
    return written
