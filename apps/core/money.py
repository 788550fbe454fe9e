"""Money is Decimal; USD is canonical and SEK is derived at a stored, dated rate."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache

from .models import FxRate

USD_PLACES = Decimal("0.000000001")  # OpenRouter bills in fractions of a cent.
# Exact: a USD amount (at most 12 places) times a rate (at most 6 places) fits in 18 places, so
# summing SEK per row equals converting the USD sum; rounding happens only for display.
SEK_PLACES = Decimal("1e-18")


_RATE_TTL_SECONDS = 60.0
# Bumped in the shared cache whenever an FX rate is saved or deleted (anywhere: admin, shell, a
# bulk delete), so every process drops its remembered rates on its next call.
_VERSION_KEY = "core:fx_rates:version"
_rates: dict[dt.date, tuple[float, int, Decimal]] = {}


# The gateway's throttle already makes one pipelined Redis round trip per API call; it reads the
# version in that same trip and leaves it here for this thread, so pricing the call costs no second
# round trip. A peeked value is used once (by the request that peeked it) and only while fresh.
_PEEK_FRESH_SECONDS = 1.0
_peeked = threading.local()


def rates_version_key() -> str:
    return _VERSION_KEY


def rates_version_peeked(raw: object) -> None:
    """The shared cache's version value, read by this thread a moment ago (see ``_peeked``)."""
    _peeked.value = (time.monotonic(), int(raw or 0))  # type: ignore[call-overload]


def _rates_version() -> int:
    peeked = getattr(_peeked, "value", None)
    if peeked is not None:
        _peeked.value = None
        if time.monotonic() - peeked[0] < _PEEK_FRESH_SECONDS:
            return int(peeked[1])
    return int(cache.get(_VERSION_KEY) or 0)


def usd_sek_rate(on: dt.date) -> Decimal:
    """The USD→SEK rate in force on the UTC date ``on``; the configured default if none is stored.

    Remembered per process (every AI call needs it) until an FX rate changes anywhere: each call
    compares the shared cache's version number with the one the rate was read under. The minute
    TTL only bounds staleness if the shared cache loses the version key.
    """
    now = time.monotonic()
    version = _rates_version()
    cached = _rates.get(on)
    if cached is not None and cached[1] == version and now - cached[0] < _RATE_TTL_SECONDS:
        return cached[2]
    stored = (
        FxRate.objects.filter(valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("usd_sek", flat=True)
        .first()
    )
    rate = stored if stored is not None else Decimal(settings.USD_SEK_RATE)
    _rates[on] = (now, version, rate)
    return rate


def usd_sek_rates_changed() -> None:
    """An FX rate was saved or deleted: every process re-reads rates on its next call."""
    cache.add(_VERSION_KEY, 0, timeout=None)
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:  # evicted between add and incr
        cache.set(_VERSION_KEY, 1, timeout=None)
    _rates.clear()


def usd_sek_rate_forget() -> None:
    """Drop remembered rates in this process (between tests)."""
    _rates.clear()


def usd_to_sek(amount_usd: Decimal, rate: Decimal) -> Decimal:
    return (amount_usd * rate).quantize(SEK_PLACES, rounding=ROUND_HALF_UP)
