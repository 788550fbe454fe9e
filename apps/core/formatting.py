"""Numbers for people, one rule on every page, in admin, in chart tooltips and in the chat.

Rounding (half-up on the exact Decimal):
- an amount of 0.10 or more (either sign) gets two decimals: ``42.738 → 42.74``, ``0.15``;
- a non-zero amount under 0.10 gets two significant digits, so a call's cost never reads as zero
  or as a misleading "0.00"/"0.02": ``0.000031 → 0.000031``, ``0.02123 → 0.021``,
  ``0.0000885 → 0.000089``; one that rounds up to 0.10 reads ``0.10``;
- exact zero reads ``0`` (no decimals), so "nothing" and "almost nothing" never look alike.

Forms, by the active language (``django.utils.translation.get_language``):
- Swedish: decimal comma, U+00A0 (no-break space) between thousands, the currency after SEK and
  before USD: ``4 033,50 kr``, ``0,021 kr``, ``$0,000031``, ``-$1,50``, ``12 345`` tokens,
  ``12,5 %``.
- English: decimal point, comma between thousands, the same currency positions: ``4,033.50 kr``,
  ``$0.000031``, ``-$1.50``, ``12,345`` tokens, ``12.5%``.
- No value (None, "", not a number) reads ``—``.

``static/js/money.js`` mirrors these rules for the browser; keep the two in step.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import get_language

NO_VALUE = "—"
NBSP = "\u00a0"
TINY = Decimal("0.1")
PER_MILLION = Decimal(1_000_000)

# (decimal mark, thousands separator, text between a number and "%") per language.
_SEPARATORS = {"sv": (",", NBSP, NBSP), "en": (".", ",", "")}


def _separators(language: str | None) -> tuple[str, str, str]:
    code = (language or get_language() or "sv").split("-")[0].lower()
    return _SEPARATORS.get(code, _SEPARATORS["en"])


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal for any number-like value (floats through their shortest repr); None otherwise."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return amount if amount.is_finite() else None


def round_amount(amount: Decimal) -> Decimal:
    """The money rounding rule: two decimals, two significant digits under 0.10, zero as 0."""
    if amount == 0:
        return Decimal(0)
    if abs(amount) >= TINY:
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    places = -amount.adjusted() + 1  # 0.000031 -> adjusted -5 -> 6 places
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if abs(rounded) >= TINY:  # 0.0999 rounds to 0.10: show it as a normal amount
        return rounded.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return rounded


def _digits(amount: Decimal, language: str | None) -> str:
    """An unsigned, already rounded Decimal with the language's decimal mark and grouping."""
    decimal_mark, thousands, _ = _separators(language)
    text = f"{abs(amount):f}"
    whole, _dot, fraction = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    grouped = thousands.join(groups)
    return f"{grouped}{decimal_mark}{fraction}" if fraction else grouped


def format_amount(value: Any, *, language: str | None = None) -> str:
    """A money amount without a currency: ``4 033,50`` / ``4,033.50``; ``—`` for no value."""
    amount = to_decimal(value)
    if amount is None:
        return NO_VALUE
    rounded = round_amount(amount)
    sign = "-" if rounded < 0 else ""
    return sign + _digits(rounded, language)


def format_usd(value: Any, *, language: str | None = None) -> str:
    """``$42.74`` / ``$42,74``, ``$0.000031``, ``-$1.50``, ``$0``; ``—`` for no value."""
    text = format_amount(value, language=language)
    if text == NO_VALUE:
        return text
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def format_sek(value: Any, *, language: str | None = None) -> str:
    """``4 033,50 kr`` / ``4,033.50 kr``, ``0,021 kr``, ``0 kr``; ``—`` for no value."""
    text = format_amount(value, language=language)
    return text if text == NO_VALUE else f"{text}{NBSP}kr"


def format_tokens(value: Any, *, language: str | None = None) -> str:
    """A whole count with grouping (tokens, context lengths): ``12 345`` / ``12,345``."""
    amount = to_decimal(value)
    if amount is None:
        return NO_VALUE
    whole = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return ("-" if whole < 0 else "") + _digits(whole, language)


def format_percent(value: Any, *, language: str | None = None) -> str:
    """A ratio as a percentage with one decimal: ``0.125 → 12,5 %`` / ``12.5%``; ``—`` for none."""
    ratio = to_decimal(value)
    if ratio is None:
        return NO_VALUE
    rounded = (ratio * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    _mark, _thousands, before_percent = _separators(language)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{_digits(rounded, language)}{before_percent}%"


def format_usd_per_million(price_per_token: Any, *, language: str | None = None) -> str | None:
    """A per-token USD price shown per million tokens: ``$0.15``; None when it is free (0) or a
    router's negative "variable" marker, which the caller words."""
    price = to_decimal(price_per_token)
    if price is None:
        return NO_VALUE
    if price <= 0:
        return None
    return format_usd(price * PER_MILLION, language=language)
