"""Words for the AI tab that are not numbers (numbers and money come from ``core``'s ``money``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy

register = template.Library()

_WINDOWS = {
    "daily": gettext_lazy("daily"),
    "weekly": gettext_lazy("weekly"),
    "monthly": gettext_lazy("monthly"),
}


@register.filter
def reset_window(value: Any) -> str:
    """OpenRouter's limit window (``daily``/``weekly``/``monthly``) in the reader's language."""
    return str(_WINDOWS.get(str(value), value or ""))
