"""Schema helpers: the one error shape, documented once and referenced by every operation."""

from __future__ import annotations

from typing import Any

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
