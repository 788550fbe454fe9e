"""Money is Decimal; USD is canonical and SEK is derived at a stored, dated rate."""

from __future__ import annotations

import datetime as dt
import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .models import FxRate

USD_PLACES = Decimal("0.000000001")  # OpenRouter bills in fractions of a cent.
# Exact: a USD amount (at most 12 places) times a rate (at most 6 places) fits in 18 places, so
# summing SEK per row equals converting the USD sum; rounding happens only for display.
SEK_PLACES = Decimal("1e-18")


_RATE_TTL_SECONDS = 60.0
_rates: dict[dt.date, tuple[float, Decimal]] = {}


def usd_sek_rate(on: dt.date) -> Decimal:
    """The USD→SEK rate in force on the UTC date ``on``; the configured default if none is stored.

    Remembered per process for a minute: every AI call needs it, and rates change rarely (an edit
    in admin applies to calls finishing from a minute later; the rate used is stored on each row).
    """
    now = time.monotonic()
    cached = _rates.get(on)
    if cached is not None and now - cached[0] < _RATE_TTL_SECONDS:
        return cached[1]
    stored = (
        FxRate.objects.filter(valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("usd_sek", flat=True)
        .first()
    )
    rate = stored if stored is not None else Decimal(settings.USD_SEK_RATE)
    _rates[on] = (now, rate)
    return rate


def usd_sek_rate_forget() -> None:
    """Drop remembered rates (after an FX rate is saved in this process, and between tests)."""
    _rates.clear()


def usd_to_sek(amount_usd: Decimal, rate: Decimal) -> Decimal:
    return (amount_usd * rate).quantize(SEK_PLACES, rounding=ROUND_HALF_UP)
