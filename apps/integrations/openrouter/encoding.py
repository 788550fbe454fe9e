"""JSON request bodies that may hold ``Decimal`` money, written without passing through float."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from decimal import Decimal
from typing import Any


def encode_json(body: Any) -> bytes:
    """``body`` as UTF-8 JSON. Decimals become exact JSON numbers; dates become ISO strings."""
    nonce = secrets.token_hex(8)
    numbers: list[str] = []

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError("a non-finite Decimal cannot be sent as JSON")
            numbers.append(format(value, "f"))
            return f"{nonce}:{len(numbers) - 1}"
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    text = json.dumps(body, default=default, ensure_ascii=False, separators=(",", ":"))
    for index, number in enumerate(numbers):
        text = text.replace(f'"{nonce}:{index}"', number, 1)
    return text.encode("utf-8")
