"""The request body of ``POST /api/v1/chat/completions``, documented exactly as the door checks it.

The door does not validate with a serializer: the gateway's allow-list
(``apps.ai_gateway.validation``) does, field by field. This serializer only documents that
allow-list for generated clients, built from the same constants, so what the schema calls valid
is accepted and what it rules out is refused (schemathesis checks both). Every optional field may
be null (the door treats null as left out).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.ai_gateway import validation as v
from apps.integrations.api.serializers import ModelIdField
from apps.integrations.validators import MODEL_ID_MAX_LENGTH, MODEL_ID_PATTERN

_ANY: dict[str, Any] = {}


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """An object with exactly these keys (the allow-list refuses any other)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _documented(schema: dict[str, Any], help_text: str) -> Any:
    """A JSON field documented by ``schema`` (nullable: null is the same as leaving it out)."""

    @extend_schema_field({**schema, "nullable": True})
    class Documented(serializers.JSONField):
        pass

    return Documented(required=False, allow_null=True, help_text=help_text)


def _number() -> serializers.FloatField:
    return serializers.FloatField(required=False, allow_null=True)


def _integer(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, **kwargs)


def _boolean(**kwargs: Any) -> serializers.BooleanField:
    return serializers.BooleanField(required=False, allow_null=True, **kwargs)


_CONTENT = {
    "oneOf": [
        {"type": "string", "maxLength": v.MAX_MESSAGE_CHARS},
        {"type": "array", "items": {"type": "object", "additionalProperties": _ANY}},
    ]
}
_FUNCTION = _closed(
    {
        "name": {"type": "string"},
        "description": _ANY,
        "parameters": {"type": "object", "additionalProperties": _ANY, "description": "A JSON Schema."},
        "strict": _ANY,
    },
    ["name"],
)
_TOOL = _closed(
    {"type": {"type": "string", "enum": ["function"]}, "function": _FUNCTION}, ["type", "function"]
)
_TOOL_CHOICE = {
    "oneOf": [
        {"type": "string", "enum": sorted(v.TOOL_CHOICES)},
        _closed(
            {
                "type": {"type": "string", "enum": ["function"]},
                "function": _closed({"name": {"type": "string"}}, ["name"]),
            },
            ["type", "function"],
        ),
    ]
}
_RESPONSE_FORMAT = {
    "oneOf": [
        _closed({"type": {"type": "string", "enum": ["json_object", "text"]}}, ["type"]),
        _closed(
            {
                "type": {"type": "string", "enum": ["json_schema"]},
                "json_schema": _closed(
                    {"name": {"type": "string"}, **{k: _ANY for k in sorted(v.JSON_SCHEMA_KEYS - {"name"})}},
                    ["name"],
                ),
            },
            ["type", "json_schema"],
        ),
    ]
}
_REASONING = _closed(
    {
        "effort": {"type": "string", "enum": sorted(v.REASONING_EFFORTS)},
        **{k: _ANY for k in sorted(v.REASONING_KEYS - {"effort"})},
    }
)


class ChatMessageInputSerializer(serializers.Serializer[Any]):
    """One message; it needs ``content`` or ``tool_calls``. Other keys are not sent upstream."""

    role = serializers.ChoiceField(choices=sorted(v.ROLES))
    content = _documented(_CONTENT, "Text, or a list of content parts (objects).")
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    tool_calls = _documented(
        {"type": "array", "items": {"type": "object", "additionalProperties": _ANY}},
        "The tool calls of an earlier assistant answer.",
    )
    tool_call_id = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, trim_whitespace=False
    )

    # Documented as anyOf, which a serializer cannot say (apps.core.api.schema.AutoSchema adds it).
    request_schema_extra = {"anyOf": [{"required": ["content"]}, {"required": ["tool_calls"]}]}


class CreateChatCompletion(serializers.Serializer[Any]):
    """OpenAI's CreateChatCompletionRequest, as far as the gateway serves it (plus OpenRouter's
    sampling options). Unknown fields are refused with a 400 naming them."""

    refuses_unknown_fields = True

    model = ModelIdField(
        required=False,
        allow_null=True,
        max_length=MODEL_ID_MAX_LENGTH,
        help_text="vendor/model; the tenant's default if left out.",
    )
    messages = ChatMessageInputSerializer(  # type: ignore[call-arg]  # DRF passes these to the list
        many=True, min_length=1, max_length=v.MAX_MESSAGES
    )
    stream = _boolean(default=False)
    stream_options = _documented(
        _closed({"include_usage": {"type": "boolean"}}),
        "include_usage: end the stream with a usage chunk (only with stream=true).",
    )
    temperature = _number()
    top_p = _number()
    top_k = _integer()
    min_p = _number()
    top_a = _number()
    frequency_penalty = _number()
    presence_penalty = _number()
    repetition_penalty = _number()
    max_tokens = _integer(min_value=1)
    max_completion_tokens = _integer(min_value=1)
    seed = _integer()
    logprobs = _boolean()
    top_logprobs = _integer()
    stop = _documented(
        {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4}]},
        "A text or up to 4 texts.",
    )
    tools = _documented({"type": "array", "items": _TOOL, "maxItems": v.MAX_TOOLS}, "Function tools.")
    tool_choice = _documented(_TOOL_CHOICE, "none, auto, required or a function.")
    parallel_tool_calls = _boolean()
    response_format = _documented(_RESPONSE_FORMAT, "text, json_object or json_schema.")
    reasoning = _documented(_REASONING, "OpenRouter's reasoning options.")
    logit_bias = _documented(
        {"type": "object", "additionalProperties": {"type": "number"}}, "Token id -> bias."
    )
    metadata = _documented(
        {
            "type": "object",
            "maxProperties": v.METADATA_MAX_PAIRS,
            "additionalProperties": {"type": "string", "maxLength": v.METADATA_MAX_VALUE},
        },
        # OpenAPI 3.0 has no propertyNames, so the key length is said in words only.
        f"Up to {v.METADATA_MAX_PAIRS} pairs of text; keys up to {v.METADATA_MAX_KEY} characters.",
    )
    models = _documented(
        {
            "type": "array",
            "maxItems": v.MAX_FALLBACK_MODELS,
            "items": {"type": "string", "pattern": MODEL_ID_PATTERN, "maxLength": MODEL_ID_MAX_LENGTH},
        },
        "Fallback models, in order.",
    )
    provider = _documented(
        _closed({k: _ANY for k in sorted(v.PROVIDER_KEYS)}), "OpenRouter's provider routing."
    )
    usage = _documented(_ANY, "Ignored: usage is always reported.")
    user = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        max_length=v.MAX_USER_CHARS,
        help_text="Your end user's id (sent to OpenRouter).",
    )
    n = _integer(min_value=1, max_value=1)
    store = _documented({"type": "boolean", "enum": [False]}, "Only false: answers are not stored.")
