"""Build a value that satisfies a JSON Schema, for ``response_format: json_schema``.

Real models follow the schema (OpenRouter's structured outputs), so the emulator must too: it
walks the schema and picks sensible values. Strings are drawn from the prompt so they relate to
the request, and an ``enum`` choice that the prompt mentions wins over the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_MAX_DEPTH = 12
_STRING_FORMATS = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T12:00:00Z",
    "time": "12:00:00",
    "email": "info@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}


@dataclass(frozen=True)
class SchemaContext:
    root: dict[str, Any]
    prompt: str  # the last user message, lower-cased, for enum choices
    topic: str  # a short quote of it, for free-text strings
    answer: str  # the plain-text answer, for prose fields


def value_for(schema: Any, ctx: SchemaContext, name: str = "", depth: int = 0) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    schema = _resolve(schema, ctx.root)
    for keyword in ("const", "default"):
        if keyword in schema:
            return schema[keyword]
    if "enum" in schema:
        return _choose(list(schema["enum"]), ctx.prompt)
    variant = _first_variant(schema)
    if variant is not None:
        return value_for(variant, ctx, name, depth + 1)
    builder = _BUILDERS.get(_type_of(schema), _string)
    return builder(schema, ctx, name, depth)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/X``, as pydantic writes them)."""
    seen = 0
    while "$ref" in schema and seen < _MAX_DEPTH:
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) and part else target
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **extra} if isinstance(target, dict) else extra
        seen += 1
    return schema


def _first_variant(schema: dict[str, Any]) -> dict[str, Any] | None:
    for keyword in ("anyOf", "oneOf"):
        options = [s for s in schema.get(keyword, []) if isinstance(s, dict) and s.get("type") != "null"]
        if options:
            return options[0]
    if schema.get("allOf"):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            merged.update(part if isinstance(part, dict) else {})
        return merged
    return None


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    return str(kind)


def _choose(options: list[Any], prompt: str) -> Any:
    if not options:
        return None
    for option in options:
        if isinstance(option, str) and option and option.lower() in prompt:
            return option
    return options[0]


def _object(schema: dict[str, Any], ctx: SchemaContext, name: str, depth: int) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    return {key: value_for(sub, ctx, key, depth + 1) for key, sub in properties.items()}


def _array(schema: dict[str, Any], ctx: SchemaContext, name: str, depth: int) -> list[Any]:
    count = max(int(schema.get("minItems", 1)), 1)
    count = min(count, int(schema.get("maxItems", count)))
    raw_items = schema.get("items")
    items = _resolve(raw_items if isinstance(raw_items, dict) else {}, ctx.root)
    if schema.get("uniqueItems") and "enum" in items:
        return list(items["enum"])[:count]
    singular = name[:-1] if name.endswith("s") else name
    values = [value_for(items, ctx, singular, depth + 1) for _ in range(count)]
    if count > 1 and all(isinstance(v, str) for v in values):
        values = [f"{v} {i + 1}" if i else v for i, v in enumerate(values)]
    return values


def _number(schema: dict[str, Any], ctx: SchemaContext, name: str, depth: int) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    integer = _type_of(schema) == "integer"
    value = _pick_number(low, high, integer)
    return int(value) if integer else float(value)


def _pick_number(low: Any, high: Any, integer: bool) -> Decimal:
    """Middle of the range when both ends are given, else a small in-range value."""
    lo = Decimal(str(low)) if isinstance(low, int | float) else None
    hi = Decimal(str(high)) if isinstance(high, int | float) else None
    if lo is not None and hi is not None:
        middle = (lo + hi) / 2
        return middle.to_integral_value(rounding="ROUND_FLOOR") if integer else middle
    if lo is not None:
        return lo + 1
    if hi is not None:
        return min(hi - 1, Decimal(1))
    return Decimal(1)


def _boolean(schema: dict[str, Any], ctx: SchemaContext, name: str, depth: int) -> bool:
    return True


def _null(schema: dict[str, Any], ctx: SchemaContext, name: str, depth: int) -> None:
    return None


def _string(schema: dict[str, Any], ctx: SchemaContext, name: str, depth: int) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _STRING_FORMATS:
        return _STRING_FORMATS[fmt]
    text = _prose(name, ctx)
    min_length = int(schema.get("minLength", 0))
    max_length = int(schema.get("maxLength", max(len(text), min_length)))
    text = text.ljust(min_length, ".")
    return text[:max_length]


def _prose(name: str, ctx: SchemaContext) -> str:
    lowered = name.lower()
    if any(word in lowered for word in ("answer", "reply", "message", "text", "content", "response", "body")):
        return ctx.answer
    if any(word in lowered for word in ("summary", "description", "reason", "explanation", "comment")):
        return f"Summary of: {ctx.topic}"
    label = name.replace("_", " ").strip()
    return f"{label.capitalize()} for {ctx.topic}" if label else ctx.topic


_BUILDERS = {
    "object": _object,
    "array": _array,
    "number": _number,
    "integer": _number,
    "boolean": _boolean,
    "null": _null,
    "string": _string,
}
