"""What a caller may send upstream: an allow-list, so no field can redirect a key elsewhere.

Model ids are checked against a strict pattern: a slug cannot carry ``#``, ``@``, ``%``, ``..``,
white space or control characters, so it can never change the path or host of a request.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

MODEL_ID = re.compile(
    r"^~?[a-z0-9][a-z0-9._-]{0,63}/[a-z0-9][a-z0-9._-]{0,127}(?::[a-z0-9][a-z0-9_-]{0,31})?$"
)
MAX_MESSAGES = 200
MAX_MESSAGE_CHARS = 200_000
ROLES = {"system", "developer", "user", "assistant", "tool"}

# Sampling and output parameters passed through unchanged (all are in the OpenRouter spec).
SCALAR_PARAMS = {
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
    "user": (str,),
}
STRUCTURED_PARAMS = {"stop", "response_format", "tools", "tool_choice", "reasoning", "logit_bias", "metadata"}
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
# Accepted for compatibility with OpenAI clients and dropped: they change nothing upstream.
IGNORED_PARAMS = {"stream_options", "usage", "n"}


class RequestRejected(ValueError):
    """The request holds something the gateway will not send upstream. The message says what."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def validate_model_id(model: Any, *, field: str = "model") -> str:
    if not isinstance(model, str) or not MODEL_ID.fullmatch(model):
        raise RequestRejected(
            _("“%(model)s” is not a valid model id (expected vendor/model, e.g. openai/gpt-4o-mini).")
            % {"model": str(model)[:80]},
            field=field,
        )
    return model


def _text_of(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(str(part.get("text", ""))) for part in content if isinstance(part, dict))
    raise RequestRejected(_("Message content must be text or a list of parts."), field="messages")


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
        total += _text_of(message.get("content") or "")
        allowed = {"role", "content", "name", "tool_calls", "tool_call_id"}
        clean.append({k: v for k, v in message.items() if k in allowed})
    if total > MAX_MESSAGE_CHARS:
        raise RequestRejected(_("The messages are too long."), field="messages")
    return clean


def _validate_provider(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not set(value) <= PROVIDER_KEYS:
        unknown = sorted(set(value) - PROVIDER_KEYS) if isinstance(value, dict) else []
        raise RequestRejected(
            _("Unsupported provider routing option(s): %(keys)s.") % {"keys": ", ".join(unknown) or "?"},
            field="provider",
        )
    return value


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
            clean[name] = value
        elif name in STRUCTURED_PARAMS:
            clean[name] = value
        elif name == "provider":
            clean[name] = _validate_provider(value)
        elif name == "models":
            if not isinstance(value, list) or len(value) > 5:
                raise RequestRejected(_("“models” must be a list of at most 5 model ids."), field="models")
            clean[name] = [validate_model_id(m, field="models") for m in value]
        else:
            raise RequestRejected(
                _("The field “%(name)s” is not allowed.") % {"name": name[:60]}, field=name[:60]
            )
    return clean
