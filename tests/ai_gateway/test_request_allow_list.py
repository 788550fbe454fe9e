"""No request field or header can change where a key is sent (``api_base``, ``base_url``, nested
variants, model ids with ``#``, ``@``, ``/../``, ``%2F``, CR/LF): all rejected with 400."""

from __future__ import annotations

from typing import Any

import pytest

from apps.ai_gateway.errors import GatewayError
from apps.ai_gateway.services import complete
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import HELLO

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
        stream_options={"include_usage": True},
    )
    body = emulator.requests[0].body
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 50
    assert body["seed"] == 7
    assert body["provider"] == {"sort": "price"}
    assert "stream_options" not in body
