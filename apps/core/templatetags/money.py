"""The one set of number filters for templates: ``usd``, ``sek``, ``tokens``, ``percent`` and
``per_million`` (a per-token price shown per million tokens).

Thin wrappers over ``apps.core.formatting``, which holds the rounding rule and the Swedish and
English forms, so a value reads the same in a template, in admin and in Python code.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from apps.core import formatting

register = template.Library()


@register.filter
def usd(value: Any) -> str:
    return formatting.format_usd(value)


@register.filter
def sek(value: Any) -> str:
    return formatting.format_sek(value)


@register.filter
def tokens(value: Any) -> str:
    return formatting.format_tokens(value)


@register.filter
def percent(value: Any) -> str:
    """A ratio as a percentage: ``0.125`` reads ``12,5 %``."""
    return formatting.format_percent(value)


@register.filter
def per_million(price_per_token: Any) -> str:
    """``$0.15`` per million tokens; ``Free`` for 0; ``Variable`` for a router's negative marker."""
    text = formatting.format_usd_per_million(price_per_token)
    if text is not None:
        return text
    price = formatting.to_decimal(price_per_token)
    return _("Free") if price == 0 else _("Variable")
