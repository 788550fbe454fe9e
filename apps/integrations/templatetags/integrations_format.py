"""Money and price formatting for the AI tab: ``$42.74``, ``$0.15`` per million tokens, "Free"."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()

PER_MILLION = Decimal(1_000_000)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def _places(value: Decimal) -> int:
    """Two decimals, or up to four for amounts under a dollar that would otherwise show as 0.00."""
    if value == 0 or abs(value) >= 1:
        return 2
    exponent = value.quantize(Decimal("0.0001")).normalize().as_tuple().exponent
    return min(4, max(2, -int(exponent)))


def format_usd(value: Any) -> str:
    """``$1,234.50`` in the active language's number format; ``—`` for no value."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    places = _places(abs(amount))
    # number_format cuts digits off; round first so $42.738 shows as $42.74.
    rounded = abs(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 and rounded else ""
    return f"{sign}${number_format(rounded, places, use_l10n=True, force_grouping=True)}"


@register.filter
def usd(value: Any) -> str:
    return format_usd(value)


@register.filter
def per_million(price_per_token: Any) -> str:
    """A per-token USD price shown per million tokens: ``$0.15``; ``Free`` for 0; ``Variable`` for a
    router's negative marker price."""
    price = _decimal(price_per_token)
    if price is None:
        return "—"
    if price < 0:
        return _("Variable")
    if price == 0:
        return _("Free")
    return format_usd(price * PER_MILLION)


@register.filter
def thousands(value: Any) -> str:
    """An integer with grouping (context lengths): ``128,000``."""
    if value in (None, ""):
        return "—"
    return number_format(value, 0, use_l10n=True, force_grouping=True)


_WINDOWS = {
    "daily": gettext_lazy("daily"),
    "weekly": gettext_lazy("weekly"),
    "monthly": gettext_lazy("monthly"),
}


@register.filter
def reset_window(value: Any) -> str:
    """OpenRouter's limit window (``daily``/``weekly``/``monthly``) in the reader's language."""
    return str(_WINDOWS.get(str(value), value or ""))
