"""No request field or header can change where a key is sent (``api_base``, ``base_url``, nested
variants, model ids with ``#``, ``@``, ``/../``, ``%2F``, CR/LF): all rejected with 400."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from apps.ai_gateway.errors import GatewayError
from apps.ai_gateway.services import complete
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import HELLO, chat_requests

pytestmark = pytest.mark.django_db

HOSTILE_PARAMS = [
    {"api_base": "https://evil.example"},
    {"base_url": "https://evil.example"},
    {"extra_headers": {"Host": "evil.example"}},
    {"provider": {"base_url": "https://evil.example"}},
    {"provider": {"order": ["x"], "api_base": "https://evil.example"}},
    {"models": ["openai/gpt-4o-mini", "https://evil.example/x"]},
    {"temperature": "hot"},
]
HOSTILE_MODELS = [
    "openai/gpt-4o-mini#@evil.example",
    "openai/gpt-4o-mini@evil.example",
    "openai/../../keys",
    "openai%2F..%2Fkeys",
    "openai/gpt-4o-mini\r\nHost: evil.example",
    "https://evil.example/v1",
    "",
    "a" * 300,
]


@pytest.mark.parametrize("params", HOSTILE_PARAMS)
def test_unknown_or_nested_routing_fields_are_rejected(
    user_a: Any, configured_a: Any, emulator: Any, params: dict[str, Any]
) -> None:
    with pytest.raises(GatewayError) as caught:
        complete(user=user_a, use_case="chat", messages=HELLO, **params)
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_request")
    assert emulator.requests == []
    assert AIUsageLog.objects.count() == 0


@pytest.mark.parametrize("model", HOSTILE_MODELS)
def test_model_ids_that_could_change_the_path_or_host_are_rejected(
    user_a: Any, configured_a: Any, emulator: Any, model: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        complete(user=user_a, use_case="chat", messages=HELLO, model=model or None, models=[model])
    assert caught.value.status_code == 400
    assert emulator.requests == []


@pytest.mark.parametrize(
    "messages",
    [[], "hi", [{"role": "hacker", "content": "x"}], [{"role": "user"}], [{"role": "user", "content": 5}]],
)
def test_malformed_messages_are_rejected(
    user_a: Any, configured_a: Any, emulator: Any, messages: Any
) -> None:
    with pytest.raises(GatewayError) as caught:
        complete(user=user_a, use_case="chat", messages=messages)
    assert caught.value.status_code == 400
    assert emulator.requests == []


def test_allowed_parameters_reach_upstream_unchanged(user_a: Any, configured_a: Any, emulator: Any) -> None:
    complete(
        user=user_a,
        use_case="chat",
        messages=HELLO,
        temperature=0.2,
        max_tokens=50,
        seed=7,
        provider={"sort": "price"},
        options={"user": "customer-17"},  # a request field named like an argument of complete()
        usage={"include": True},
    )
    body = emulator.requests[0].body
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 50
    assert body["seed"] == 7
    assert body["provider"] == {"sort": "price"}
    assert body["user"] == "customer-17"
    assert "usage" not in body  # OpenRouter's deprecated usage.include: usage is always reported


# ------------------------------------------------------------------ issue 12, items 12 and 13

NESTED_UNKNOWN = [
    {"metadata": {"order": {"base_url": "https://evil.example"}}},
    {"metadata": {f"k{i}": "v" for i in range(17)}},
    {"reasoning": {"effort": "high", "api_base": "https://evil.example"}},
    {"reasoning": {"effort": "extreme"}},
    {"response_format": {"type": "json_object", "base_url": "https://evil.example"}},
    {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}, "url": "u"}}},
    {"response_format": {"type": "xml"}},
    {"tools": [{"type": "function", "function": {"name": "f"}, "server": "https://evil.example"}]},
    {"tools": [{"type": "function", "function": {"name": "f", "endpoint": "https://evil.example"}}]},
    {"tools": [{"type": "web_search"}]},
    {"tool_choice": {"type": "function", "function": {"name": "f", "url": "u"}}},
    {"tool_choice": "sometimes"},
    {"stop": ["a", "b", "c", "d", "e"]},
    {"logit_bias": {"50256": "ban"}},
]


@pytest.mark.parametrize("params", NESTED_UNKNOWN)
def test_item13_unknown_nested_keys_are_a_400(
    user_a: Any, configured_a: Any, emulator: Any, params: dict[str, Any]
) -> None:
    with pytest.raises(GatewayError) as caught:
        complete(user=user_a, use_case="chat", messages=HELLO, options=params)
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_request")
    assert next(iter(params)) in caught.value.message
    assert emulator.requests == []
    assert AIUsageLog.objects.count() == 0


def test_item13_known_nested_keys_pass_through_unchanged(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    params = {
        "metadata": {"order": "42"},
        "reasoning": {"effort": "low", "exclude": True},
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": {"type": "object"}},
        },
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "stop": ["\n\n"],
    }
    complete(user=user_a, use_case="chat", messages=HELLO, options=params)
    body = emulator.requests[0].body
    assert {name: body[name] for name in params} == params


@pytest.mark.parametrize(
    "model", ["openai/gpt-4o-mini..x", "openai/gpt-4o-mini:free..x", "openai/..", "~openai/../x"]
)
def test_item13_double_dots_are_refused_everywhere(
    user_a: Any, configured_a: Any, emulator: Any, model: str
) -> None:
    from django.core.exceptions import ValidationError

    from apps.integrations.validators import model_id_clean

    with pytest.raises(GatewayError) as caught:
        complete(user=user_a, use_case="chat", messages=HELLO, model=model)
    assert caught.value.status_code == 400
    with pytest.raises(ValidationError):
        model_id_clean(model)
    assert emulator.requests == []
    assert AIUsageLog.objects.count() == 0


@pytest.mark.parametrize(
    "model", ["Qwen/Qwen3-Coder", "~anthropic/claude-sonnet-latest", "openai/gpt-oss-20b:free"]
)
def test_item13_a_default_model_the_settings_accept_is_accepted_by_the_gateway(
    user_a: Any, configured_a: Any, emulator: Any, model: str
) -> None:
    from apps.integrations.validators import model_id_clean

    configured_a.default_model = model_id_clean(model)  # the settings' rule, catalogue unavailable
    configured_a.save()
    with contextlib.suppress(GatewayError):  # whether the emulator serves it is not the point
        complete(user=user_a, use_case="chat", messages=HELLO)
    assert chat_requests(emulator)[0].body["model"] == model  # the gateway let it through


def test_item12_a_key_pasted_into_the_model_field_is_never_echoed(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    pasted = "sk-or-v1-" + "0123456789abcdef" * 4
    with pytest.raises(GatewayError) as caught:
        complete(user=user_a, use_case="chat", messages=HELLO, model=pasted)
    assert caught.value.status_code == 400
    assert "0123456789abcdef" not in caught.value.message
    assert caught.value.message == (
        "“model” is not a valid model id (expected vendor/model, e.g. openai/gpt-4o-mini)."
    )
    assert emulator.requests == []
