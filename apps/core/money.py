"""Money is Decimal; USD is canonical and SEK is derived at a stored, dated rate."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .models import FxRate

USD_PLACES = Decimal("0.000000001")  # OpenRouter bills in fractions of a cent.
# Exact: a USD amount (at most 12 places) times a rate (at most 6 places) fits in 18 places, so
# summing SEK per row equals converting the USD sum; rounding happens only for display.
SEK_PLACES = Decimal("1e-18")


def to_decimal(value: Decimal | int | str | None) -> Decimal:
    """Decimal from an exact representation. Floats are refused: they cannot carry money."""
    if value is None:
        return Decimal(0)
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value)


def usd_sek_rate(on: dt.date) -> Decimal:
    """The USD→SEK rate in force on the UTC date ``on``; the configured default if none is stored."""
    rate = (
        FxRate.objects.filter(valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("usd_sek", flat=True)
        .first()
    )
    return rate if rate is not None else Decimal(settings.USD_SEK_RATE)


def usd_to_sek(amount_usd: Decimal, rate: Decimal) -> Decimal:
    return (amount_usd * rate).quantize(SEK_PLACES, rounding=ROUND_HALF_UP)
