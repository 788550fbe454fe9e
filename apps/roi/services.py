from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .models import Booking


def booking_create(
    *, user: Any, date: dt.date, value_sek: Decimal, description: str = "", external_id: str | None = None
) -> Booking:
    return Booking.objects.create(
        user=user, date=date, value_sek=value_sek, description=description, external_id=external_id or None
    )
