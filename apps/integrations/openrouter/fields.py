"""Field types shared by the OpenRouter schemas: exact money, integer tokens, UTC dates.

OpenRouter prints money as JSON numbers (``0.00000885``) and prices as strings (``"0.00000015"``).
Bodies are decoded with :func:`load_json`, which turns every JSON number with a fraction or an
exponent into a ``Decimal`` so that no float ever carries money. ``Money`` then refuses floats
outright, so a body decoded some other way fails loudly instead of losing precision.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def load_json(body: bytes | str) -> Any:
    """Decode a JSON body with every non-integer number as an exact ``Decimal``."""
    return json.loads(body, parse_float=Decimal)


def _money(value: Any) -> Any:
    if isinstance(value, bool | float):
        raise ValueError("money must be a Decimal, an int or a numeric string, never a float")
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value[:40]!r}") from exc
    return value


def _money_or_zero(value: Any) -> Any:
    return Decimal(0) if value is None or value == "" else _money(value)


def _utc_date(value: Any) -> Any:
    """``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` or ISO-8601 (any offset) → the UTC calendar date."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text)
    else:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date()


def _aware_datetime(value: Any) -> Any:
    """ISO-8601 timestamps; a naive one is taken to be UTC (OpenRouter's clock)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


Money = Annotated[Decimal, BeforeValidator(_money)]
"""USD as an exact Decimal (``None`` not allowed)."""
Price = Annotated[Decimal, BeforeValidator(_money_or_zero)]
"""A per-token price; a missing or null price is 0 (OpenRouter leaves out zero prices)."""
UtcDate = Annotated[dt.date, BeforeValidator(_utc_date)]
Timestamp = Annotated[dt.datetime, BeforeValidator(_aware_datetime)]


class OpenRouterModel(BaseModel):
    """Base for response bodies: unknown fields are ignored (the API gains fields often)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
