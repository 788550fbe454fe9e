"""Money for people: ``$0.000031`` for one call, ``$42.74`` for a month, ``0,0003 kr``, ``12,50 kr``.

Amounts of a unit or more get two decimals; smaller ones get as many as it takes to show two
significant digits (so a call's cost never reads as zero), capped at six. Rounding is half-up on
the exact Decimal; the active language decides the decimal mark.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()

MAX_PLACES = 6


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def places_for(amount: Decimal) -> int:
    amount = abs(amount)
    if amount == 0 or amount >= 1:
        return 2
    first_significant = -amount.adjusted()  # 0.00031 -> 4
    return min(MAX_PLACES, max(2, first_significant + 1))


def _format(value: Any) -> str | None:
    amount = _decimal(value)
    if amount is None:
        return None
    places = places_for(amount)
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(rounded, places, use_l10n=True, force_grouping=True)


@register.filter
def usd(value: Any) -> str:
    text = _format(value)
    if text is None:
        return "—"
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


@register.filter
def sek(value: Any) -> str:
    text = _format(value)
    return "—" if text is None else f"{text}\u00a0kr"
