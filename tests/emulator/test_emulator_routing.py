"""Model fallbacks (models[]) and provider routing filters."""

from __future__ import annotations

import httpx

from apps.emulator import Emulator

from .test_emulator_helpers import (
    chat_body,
    example,
    expected_cost,
    json_decimal,
    key_usage,
)


def test_fallback_serves_and_bills_the_next_model(emulator: Emulator, api: httpx.Client, key: str) -> None:
    emulator.inject("status", status=502, model="openai/gpt-4o-mini")
    body = {**example("chat_request.json"), "provider": {"allow_fallbacks": True}}

    response = json_decimal(api.post("/chat/completions", json=body))

    assert response["model"] == "anthropic/claude-haiku-4.5"
    assert response["provider"] == "Anthropic"
    assert response["usage"]["cost"] == expected_cost("anthropic/claude-haiku-4.5", response["usage"])
    [generation] = emulator.generations
    assert generation.model == "anthropic/claude-haiku-4.5"
    assert [a["status"] for a in generation.provider_responses] == [502, 200]
    detail = api.get("/generation", params={"id": response["id"]}).json()["data"]
    assert detail["model"] == "anthropic/claude-4.5-haiku-20251001"
    assert key_usage(emulator, key) == response["usage"]["cost"]


def test_rate_limited_first_model_falls_back(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("rate_limit")

    response = api.post("/chat/completions", json={**example("chat_request.json"), "provider": {}})

    assert response.status_code == 200
    assert response.json()["model"] == "anthropic/claude-haiku-4.5"


def test_no_fallback_when_provider_disallows_it(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("status", status=502)
    body = {**example("chat_request.json"), "provider": {"order": ["openai"], "allow_fallbacks": False}}

    response = api.post("/chat/completions", json=body)

    assert response.status_code == 502
    assert response.json()["error"]["message"] == "Provider returned error"
    assert emulator.generations == []


def test_every_model_failing_returns_the_last_error(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("status", status=503, times=2)

    response = api.post("/chat/completions", json={**example("chat_request.json"), "provider": {}})

    assert response.status_code == 503
    assert emulator.generations == []


def test_max_price_also_filters_the_fallback_models(emulator: Emulator, api: httpx.Client) -> None:
    # chat_request.json caps completion at $2/M, which claude-haiku-4.5 ($5/M) exceeds.
    emulator.inject("status", status=502)

    response = api.post("/chat/completions", json=example("chat_request.json"))

    assert response.status_code == 502
    assert emulator.generations == []


def test_provider_filters_that_remove_every_endpoint_give_404(api: httpx.Client) -> None:
    only = api.post("/chat/completions", json=chat_body(provider={"only": ["anthropic"]}))
    too_cheap = api.post("/chat/completions", json=chat_body(provider={"max_price": {"prompt": 0.1}}))

    for response in (only, too_cheap):
        assert response.status_code == 404
        assert response.json()["error"] == {
            "message": "No endpoints found for openai/gpt-4o-mini.",
            "code": 404,
        }


def test_require_parameters_skips_models_that_lack_one(emulator: Emulator, api: httpx.Client) -> None:
    # gpt-5-mini does not take temperature; claude-haiku-4.5 does.
    body = {
        **chat_body(model="openai/gpt-5-mini", temperature=0.2),
        "models": ["openai/gpt-5-mini", "anthropic/claude-haiku-4.5"],
        "provider": {"require_parameters": True},
    }

    served = api.post("/chat/completions", json=body)
    alone = api.post("/chat/completions", json={**body, "models": ["openai/gpt-5-mini"]})

    assert served.json()["model"] == "anthropic/claude-haiku-4.5"
    assert alone.status_code == 404
    assert alone.json()["error"]["message"] == "No endpoints found for openai/gpt-5-mini."
