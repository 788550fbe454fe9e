"""JSON output in OpenRouter's wire style.

OpenRouter is a JavaScript service: money is a plain JSON number (``0.00000885``, never
``8.85e-06``) and bodies are compact with the keys in insertion order. ``json.dumps`` cannot print a
``Decimal`` without going through ``float`` (which would round money), so this module walks the value
itself and prints every ``Decimal`` in positional notation.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def decimal_text(value: Decimal) -> str:
    """``Decimal`` as a JSON number: positional notation, no trailing zeros, no exponent."""
    if not value.is_finite():
        raise ValueError(f"not a JSON number: {value}")
    if value.is_zero():
        return "0"
    return format(value.normalize(), "f")


def dumps(value: Any) -> str:
    """Serialise ``value`` compactly; ``Decimal`` values become plain JSON numbers."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def dumps_bytes(value: Any) -> bytes:
    return dumps(value).encode("utf-8")


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(decimal_text(value))
    elif isinstance(value, dict):
        _write_dict(value, out)
    elif isinstance(value, list | tuple):
        _write_list(value, out)
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def _write_dict(value: dict[Any, Any], out: list[str]) -> None:
    out.append("{")
    for index, (key, item) in enumerate(value.items()):
        if index:
            out.append(",")
        out.append(json.dumps(str(key), ensure_ascii=False))
        out.append(":")
        _write(item, out)
    out.append("}")


def _write_list(value: list[Any] | tuple[Any, ...], out: list[str]) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        _write(item, out)
    out.append("]")
