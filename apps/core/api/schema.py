"""Schema helpers: the one error shape, documented once and referenced by every operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as _AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable, machine-readable cause.")
    message = serializers.CharField(help_text="What happened and what to do, for people.")


# "fields" cannot be a class attribute (it is the serializer's own field map), so it is declared here.
ErrorDetailSerializer._declared_fields["fields"] = serializers.DictField(
    required=False, help_text="Per-field messages for invalid input."
)


class ErrorSerializer(serializers.Serializer[Any]):
    """``{"error": {"code", "message", "fields"?}}``: the one error shape of the whole API."""

    error = ErrorDetailSerializer()


_DESCRIPTIONS = {
    400: "Invalid input, or a provider problem the tenant can fix (bad key, unknown model)",
    401: "Not authenticated",
    402: "Out of OpenRouter credits",
    403: "Forbidden (CSRF, key limit reached, moderation)",
    404: "Not found (or another tenant's object)",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type (send application/json)",
    422: "Idempotency key reused with a different request",
    429: "Rate limited (see Retry-After)",
    502: "The provider failed or answered with something unusable",
    503: "Provider or service unavailable",
    504: "The provider did not answer in time",
}


def error_responses(*codes: int) -> dict[int, Any]:
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in codes}


# What every authenticated operation can answer besides its own statuses.
COMMON = (400, 401, 403, 405, 429)
AI_CALL = (*COMMON, 402, 404, 409, 502, 503, 504)


_ERROR_COMPONENT = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable cause."},
                "message": {"type": "string", "description": "What happened and what to do, for people."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "Per-field messages.",
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def _error_response(code: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def add_common_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing: every operation documents the errors any request can get.

    All authenticated operations: 400, 401, 403, 405 and 429; anything with an id in its path or
    a page number: 404; anything with a request body: 413 and 415 (a body over the size limit, or
    in a content type the API does not parse). Operations keep whatever they documented themselves.
    """
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault("Error", _ERROR_COMPONENT)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = list(COMMON)
            parameters = {p.get("name") for p in operation.get("parameters", [])}
            if "{" in path or "page" in parameters:
                codes.append(404)
            if "requestBody" in operation:
                codes.extend((413, 415))
            for code in codes:
                operation["responses"].setdefault(str(code), _error_response(code))
    return result


# ------------------------------------------------------------------ request schemas that say what is accepted

# Text a field trims and then requires: at least one character that ``str.strip`` keeps. The
# characters are listed (not ``\s``): regex engines disagree on \s (U+0085, U+001C..U+001F…) and
# Python's ``str.isspace`` is what DRF's trimming uses.
_SPACES = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_NOT_BLANK = f"[^{_SPACES}]"


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimal strings ``field`` accepts: its digits, its sign and a power-of-ten maximum.

    drf-spectacular's own pattern also matches "", "-" and "." and ignores min/max."""
    places = field.decimal_places or 0
    whole = (field.max_digits or 30) - places
    fraction = rf"(?:\.[0-9]{{0,{places}}})?" if places else ""
    numbers = [rf"[0-9]{{1,{whole}}}{fraction}"] + ([rf"\.[0-9]{{1,{places}}}"] if places else [])
    maximum = field.max_value
    digits = len(str(int(maximum))) - 1 if maximum is not None and maximum >= 1 else whole
    if maximum is not None and digits < whole and maximum == 10**digits:
        # At most 10**digits: any number of up to ``digits`` whole digits, or exactly that power.
        zeros = rf"(?:\.0{{0,{places}}})?" if places else ""
        numbers = [rf"[0-9]{{1,{digits}}}{fraction}", rf"1{'0' * digits}{zeros}", *numbers[1:]]
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    return rf"^{sign}(?:{'|'.join(numbers)})$"


class AutoSchema(_AutoSchema):
    """drf-spectacular's schema, with request schemas as strict as the code behind them.

    Valid input must be accepted and invalid input refused (schemathesis checks both), so: a
    nested list of objects keeps its minimum and maximum size; a mapping with ``request_keys``
    lists them as its only properties; trimmed text that must not be blank says so with a pattern; decimal strings get a pattern
    with their real digits, sign and maximum; fields with a ``request_pattern`` carry it; and a
    serializer that refuses unknown fields (``refuses_unknown_fields``) says
    ``additionalProperties: false``; a serializer's ``request_schema_extra`` (say, an ``anyOf`` of
    required fields) is added to its request schema.
    """

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not isinstance(schema, dict):
            return schema
        keys = getattr(field, "request_keys", None)
        if keys and schema.get("type") == "object" and "additionalProperties" in schema:
            # A mapping whose keys are a fixed set (say, use cases): named properties, no others.
            value = schema.pop("additionalProperties")
            schema["properties"] = {key: value for key in keys}
            schema["additionalProperties"] = False
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            # drf-spectacular leaves out the sizes of a nested list (many=True) of objects.
            # (django-stubs' ListSerializer lacks min_length/max_length, which DRF has.)
            shortest, longest = getattr(field, "min_length", None), getattr(field, "max_length", None)
            least = shortest if shortest is not None else (0 if field.allow_empty else 1)
            if least:
                schema["minItems"] = least
            if longest is not None:
                schema["maxItems"] = longest
        if schema.get("type") != "string":
            return schema
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        elif getattr(field, "request_pattern", None):
            schema["pattern"] = field.request_pattern
        elif (
            isinstance(field, serializers.CharField)
            and not field.allow_blank
            and field.trim_whitespace
            and not {"pattern", "format", "enum"} & set(schema)
        ):
            schema["pattern"] = _NOT_BLANK
        return schema

    def _map_serializer(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request":
            if getattr(serializer, "refuses_unknown_fields", False):
                schema["additionalProperties"] = False
            schema.update(getattr(serializer, "request_schema_extra", None) or {})
        return schema
