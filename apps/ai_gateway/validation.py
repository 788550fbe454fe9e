"""What a caller may send upstream: an allow-list, so no field can redirect a key elsewhere.

Every field, and every key nested inside a structured field (``reasoning``, ``response_format``,
``tools``, ``tool_choice``, ``metadata``, ``stream_options``), is checked against what the
OpenRouter chat API defines; anything else is refused with a message naming the field, never
dropped silently. Model ids follow the one rule in ``apps.integrations.validators``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.integrations.validators import is_model_id

MAX_MESSAGES = 200
MAX_MESSAGE_CHARS = 200_000
ROLES = {"system", "developer", "user", "assistant", "tool"}

# Sampling and output parameters passed through unchanged (all are in the OpenRouter spec).
SCALAR_PARAMS: dict[str, tuple[type, ...]] = {
    "temperature": (int, float),
    "top_p": (int, float),
    "top_k": (int,),
    "min_p": (int, float),
    "top_a": (int, float),
    "frequency_penalty": (int, float),
    "presence_penalty": (int, float),
    "repetition_penalty": (int, float),
    "seed": (int,),
    "max_tokens": (int,),
    "max_completion_tokens": (int,),
    "logprobs": (bool,),
    "top_logprobs": (int,),
    "parallel_tool_calls": (bool,),
    # OpenAI's end-user id: OpenRouter hashes it and reports it as ``external_user``.
    "user": (str,),
}
MAX_USER_CHARS = 256
REASONING_KEYS = {"effort", "max_tokens", "exclude", "enabled", "summary"}
REASONING_EFFORTS = {"max", "xhigh", "high", "medium", "low", "minimal", "none"}
RESPONSE_FORMAT_TYPES = {"text", "json_object", "json_schema"}
JSON_SCHEMA_KEYS = {"name", "schema", "strict", "description"}
TOOL_KEYS = {"type", "function"}
FUNCTION_KEYS = {"name", "description", "parameters", "strict"}
TOOL_CHOICES = {"none", "auto", "required"}
METADATA_MAX_PAIRS = 16
METADATA_MAX_KEY = 64
METADATA_MAX_VALUE = 512
MAX_TOOLS = 128
MAX_FALLBACK_MODELS = 5
# Token limits OpenRouter refuses below 1: refused here, so the answer does not depend on which
# of the two reaches OpenRouter first.
POSITIVE_PARAMS = {"max_tokens", "max_completion_tokens"}
STREAM_OPTION_KEYS = {"include_usage"}
PROVIDER_KEYS = {
    "order",
    "allow_fallbacks",
    "require_parameters",
    "data_collection",
    "zdr",
    "only",
    "ignore",
    "quantizations",
    "sort",
    "max_price",
}
# OpenRouter's deprecated ``usage: {include: true}``: usage is always reported, so it changes nothing.
IGNORED_PARAMS = {"usage"}


class RequestRejected(ValueError):
    """The request holds something the gateway will not send upstream. The message says what."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def validate_model_id(model: Any, *, field: str = "model") -> str:
    # The value is never repeated in the message: callers paste API keys into this field.
    if not is_model_id(model):
        raise RequestRejected(
            _("“%(field)s” is not a valid model id (expected vendor/model, e.g. openai/gpt-4o-mini).")
            % {"field": field},
            field=field,
        )
    return str(model)


def _text_of(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return sum(len(str(part.get("text", ""))) for part in content)
    raise RequestRejected(_("Message content must be text or a list of parts."), field="messages")


def _message_fields_check(message: dict[str, Any]) -> None:
    """The optional message fields have their OpenAI types (null counts as left out)."""
    for key in ("name", "tool_call_id"):
        if message.get(key) is not None and not isinstance(message[key], str):
            raise RequestRejected(
                _("“%(name)s” in a message must be text.") % {"name": key}, field="messages"
            )
    calls = message.get("tool_calls")
    if calls is not None and not (isinstance(calls, list) and all(isinstance(c, dict) for c in calls)):
        raise RequestRejected(_("“tool_calls” in a message must be a list of objects."), field="messages")


def validate_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise RequestRejected(_("“messages” must be a non-empty list."), field="messages")
    if len(messages) > MAX_MESSAGES:
        raise RequestRejected(_("Too many messages (at most %(n)d).") % {"n": MAX_MESSAGES}, field="messages")
    total = 0
    clean = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise RequestRejected(
                _("Each message needs a role (system, user, assistant or tool)."), field="messages"
            )
        if "content" not in message and "tool_calls" not in message:
            raise RequestRejected(_("Each message needs content."), field="messages")
        _message_fields_check(message)
        total += _text_of(message.get("content") or "")
        allowed = {"role", "content", "name", "tool_calls", "tool_call_id"}
        clean.append({k: v for k, v in message.items() if k in allowed})
    if total > MAX_MESSAGE_CHARS:
        raise RequestRejected(_("The messages are too long."), field="messages")
    return clean


def _unknown_keys(value: dict[str, Any], allowed: set[str], field: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise RequestRejected(
            _("Unsupported option(s) in “%(field)s”: %(keys)s.")
            % {"field": field, "keys": ", ".join(str(k)[:40] for k in unknown[:5])},
            field=field,
        )


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RequestRejected(_("“%(name)s” must be an object.") % {"name": field}, field=field)
    return value


def _validate_provider(value: Any) -> dict[str, Any]:
    _unknown_keys(_object(value, "provider"), PROVIDER_KEYS, "provider")
    return dict(value)


def _validate_reasoning(value: Any) -> dict[str, Any]:
    _unknown_keys(_object(value, "reasoning"), REASONING_KEYS, "reasoning")
    if "effort" in value and value["effort"] not in REASONING_EFFORTS:
        raise RequestRejected(_("“reasoning.effort” has an unknown value."), field="reasoning")
    return dict(value)


def _validate_response_format(value: Any) -> dict[str, Any]:
    _object(value, "response_format")
    kind = value.get("type")
    if kind not in RESPONSE_FORMAT_TYPES:
        raise RequestRejected(
            _("“response_format.type” must be text, json_object or json_schema."), field="response_format"
        )
    _unknown_keys(value, {"type", "json_schema"} if kind == "json_schema" else {"type"}, "response_format")
    if kind == "json_schema":
        schema = _object(value.get("json_schema"), "response_format.json_schema")
        _unknown_keys(schema, JSON_SCHEMA_KEYS, "response_format.json_schema")
        if not isinstance(schema.get("name"), str):
            raise RequestRejected(
                _("“response_format.json_schema.name” is required."), field="response_format"
            )
    return dict(value)


def _validate_tools(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_TOOLS:
        raise RequestRejected(_("“tools” must be a list of at most 128 tools."), field="tools")
    for tool in value:
        _unknown_keys(_object(tool, "tools"), TOOL_KEYS, "tools")
        function = _object(tool.get("function"), "tools.function")
        _unknown_keys(function, FUNCTION_KEYS, "tools.function")
        if tool.get("type") != "function" or not isinstance(function.get("name"), str):
            raise RequestRejected(_("Each tool needs type “function” and a function name."), field="tools")
        if "parameters" in function:
            _object(function["parameters"], "tools.function.parameters")
    return value


def _validate_tool_choice(value: Any) -> str | dict[str, Any]:
    if isinstance(value, str) and value in TOOL_CHOICES:
        return value
    choice = _object(value, "tool_choice")
    _unknown_keys(choice, {"type", "function"}, "tool_choice")
    function = _object(choice.get("function"), "tool_choice.function")
    _unknown_keys(function, {"name"}, "tool_choice.function")
    if choice.get("type") != "function" or not isinstance(function.get("name"), str):
        raise RequestRejected(_("“tool_choice” names no function."), field="tool_choice")
    return choice


def _validate_metadata(value: Any) -> dict[str, str]:
    pairs = _object(value, "metadata")
    if len(pairs) > METADATA_MAX_PAIRS or not all(
        isinstance(v, str) and len(k) <= METADATA_MAX_KEY and len(v) <= METADATA_MAX_VALUE
        for k, v in pairs.items()
    ):
        raise RequestRejected(
            _("“metadata” takes at most 16 pairs of text (keys up to 64, values up to 512 characters)."),
            field="metadata",
        )
    return pairs


def _validate_stop(value: Any) -> str | list[str]:
    if isinstance(value, str) or (
        isinstance(value, list) and len(value) <= 4 and all(isinstance(v, str) for v in value)
    ):
        return value
    raise RequestRejected(_("“stop” must be a text or a list of at most 4 texts."), field="stop")


def _validate_logit_bias(value: Any) -> dict[str, Any]:
    bias = _object(value, "logit_bias")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bias.values()):
        raise RequestRejected(_("“logit_bias” values must be numbers."), field="logit_bias")
    return bias


STRUCTURED_PARAMS = {
    "stop": _validate_stop,
    "response_format": _validate_response_format,
    "tools": _validate_tools,
    "tool_choice": _validate_tool_choice,
    "reasoning": _validate_reasoning,
    "logit_bias": _validate_logit_bias,
    "metadata": _validate_metadata,
    "provider": _validate_provider,
}


def validate_stream_options(value: Any) -> bool:
    """OpenAI's ``stream_options``: whether the stream ends with a usage chunk."""
    if value is None:
        return False
    _unknown_keys(_object(value, "stream_options"), STREAM_OPTION_KEYS, "stream_options")
    include = value.get("include_usage", False)
    if not isinstance(include, bool):
        raise RequestRejected(
            _("“stream_options.include_usage” must be true or false."), field="stream_options"
        )
    return include


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``params`` to send upstream; anything unknown is rejected, not dropped."""
    clean: dict[str, Any] = {}
    for name, value in params.items():
        if name in IGNORED_PARAMS or value is None:
            continue
        if name in SCALAR_PARAMS:
            if (isinstance(value, bool) and bool not in SCALAR_PARAMS[name]) or not isinstance(
                value, SCALAR_PARAMS[name]
            ):
                raise RequestRejected(_("“%(name)s” has the wrong type.") % {"name": name}, field=name)
            if name == "user" and len(str(value)) > MAX_USER_CHARS:
                raise RequestRejected(_("“user” is longer than 256 characters."), field="user")
            if name in POSITIVE_PARAMS and isinstance(value, int) and value < 1:
                raise RequestRejected(_("“%(name)s” must be at least 1.") % {"name": name}, field=name)
            clean[name] = value
        elif name in STRUCTURED_PARAMS:
            clean[name] = STRUCTURED_PARAMS[name](value)
        elif name == "models":
            if not isinstance(value, list) or len(value) > MAX_FALLBACK_MODELS:
                raise RequestRejected(_("“models” must be a list of at most 5 model ids."), field="models")
            clean[name] = [validate_model_id(m, field="models") for m in value]
        else:
            raise RequestRejected(
                _("The field “%(name)s” is not allowed.") % {"name": str(name)[:60]}, field=str(name)[:60]
            )
    return clean
