"""Chat completions: content, tokens, exact costs, structured output, validation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from apps.emulator import Emulator

from .test_emulator_helpers import (
    chat_body,
    expected_cost,
    json_decimal,
    key_usage,
)


@pytest.mark.parametrize(
    "model",
    [
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4.6",
        "google/gemini-2.5-flash",
        "deepseek/deepseek-chat-v3.1",
        "moonshotai/kimi-k2.5",
    ],
)
def test_cost_is_tokens_times_catalogue_prices_exactly(
    emulator: Emulator, api: httpx.Client, model: str
) -> None:
    body = chat_body("How should a small bakery price its bread?", model=model)

    response = api.post("/chat/completions", json=body)

    usage = json_decimal(response)["usage"]
    expected = expected_cost(model, usage)
    assert usage["cost"] == expected > 0
    assert usage["cost_details"]["upstream_inference_cost"] == expected
    details = usage["cost_details"]
    assert (
        details["upstream_inference_prompt_cost"] + details["upstream_inference_completions_cost"] == expected
    )
    assert emulator.generations[-1].cost == expected
    assert emulator.generations[-1].model == model


def test_free_model_costs_nothing(emulator: Emulator, api: httpx.Client, key: str) -> None:
    response = api.post("/chat/completions", json=chat_body(model="openai/gpt-oss-120b:free"))

    usage = response.json()["usage"]
    assert usage["cost"] == 0
    assert usage["cost_details"] == {
        "upstream_inference_cost": 0,
        "upstream_inference_prompt_cost": 0,
        "upstream_inference_completions_cost": 0,
    }
    assert key_usage(emulator, key) == 0
    assert response.json()["provider"] == "Chutes"


def test_cost_prints_as_plain_decimal_without_exponent(api: httpx.Client) -> None:
    response = api.post("/chat/completions", json=chat_body("hi", model="openai/gpt-oss-120b"))

    assert '"cost":0.00000' in response.text
    assert "e-" not in response.text.lower().split('"usage"')[1]


def test_cache_control_writes_then_reads_the_cache_at_cache_prices(
    emulator: Emulator, api: httpx.Client
) -> None:
    document = "Opening hours: Mon-Fri 9-17. " * 40
    body = {
        "model": "anthropic/claude-sonnet-4.6",
        "messages": [
            {
                "role": "system",
                "content": [{"type": "text", "text": document, "cache_control": {"type": "ephemeral"}}],
            },
            {"role": "user", "content": "When are you open?"},
        ],
    }

    first = json_decimal(api.post("/chat/completions", json=body))["usage"]
    second = json_decimal(api.post("/chat/completions", json=body))["usage"]

    prefix = -(-len(document) // 4) + 4
    assert first["prompt_tokens_details"]["cache_write_tokens"] == prefix
    assert first["prompt_tokens_details"]["cached_tokens"] == 0
    assert second["prompt_tokens_details"]["cached_tokens"] == prefix
    assert second["prompt_tokens_details"]["cache_write_tokens"] == 0
    assert first["cost"] == expected_cost("anthropic/claude-sonnet-4.6", first)
    assert second["cost"] == expected_cost("anthropic/claude-sonnet-4.6", second) < first["cost"]
    assert emulator.generations[-1].cached_tokens == prefix


def test_same_request_twice_gives_same_content_and_tokens(api: httpx.Client) -> None:
    body = chat_body("Write a welcome SMS for a new gym member", model="anthropic/claude-haiku-4.5")

    first, second = (
        api.post("/chat/completions", json=body).json(),
        api.post("/chat/completions", json=body).json(),
    )

    assert first["choices"] == second["choices"]
    assert first["usage"] == second["usage"]
    assert first["id"] != second["id"]


def test_answer_relates_to_the_question(api: httpx.Client) -> None:
    capital = api.post("/chat/completions", json=chat_body("What is the capital of Sweden?")).json()
    swedish = api.post("/chat/completions", json=chat_body("Hur kan vi öka försäljningen i butiken?")).json()
    echo = api.post("/chat/completions", json=chat_body("Reply with OK")).json()

    assert capital["choices"][0]["message"]["content"] == "The capital of Sweden is Stockholm."
    assert "öka försäljningen" in swedish["choices"][0]["message"]["content"]
    assert echo["choices"][0]["message"]["content"] == "OK"


REVIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "stars": {"type": "integer", "minimum": 1, "maximum": 5},
        "topics": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4},
        "needs_reply": {"type": "boolean"},
        "summary": {"type": "string", "maxLength": 80},
        "contact": {"$ref": "#/$defs/Contact"},
        "follow_up": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
    },
    "required": ["sentiment", "score", "stars", "topics", "needs_reply", "summary", "contact", "follow_up"],
    "additionalProperties": False,
    "$defs": {
        "Contact": {
            "type": "object",
            "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"}},
            "required": ["email", "name"],
            "additionalProperties": False,
        }
    },
}


def test_json_schema_response_is_valid_json_that_satisfies_the_schema(api: httpx.Client) -> None:
    body = chat_body(
        "Classify this review: the staff were friendly but the wait was long. Overall neutral.",
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "review", "strict": True, "schema": REVIEW_SCHEMA},
        },
    )

    content = api.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]

    value = json.loads(content)
    jsonschema.validate(value, REVIEW_SCHEMA)
    assert value["sentiment"] == "neutral"  # the enum value the prompt mentions
    assert 2 <= len(value["topics"]) <= 4


@pytest.mark.parametrize(
    "schema",
    [
        {
            "type": "object",
            "properties": {"label": {"type": "string", "enum": ["booking", "question", "spam"]}},
        },
        {"type": "array", "items": {"type": "integer", "exclusiveMinimum": 10}, "minItems": 3},
        {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "sku": {"type": "string", "minLength": 3},
                            "qty": {"type": ["integer", "null"]},
                        },
                    },
                }
            },
        },
        {
            "type": "object",
            "properties": {"kind": {"const": "lead"}, "ok": {"type": "boolean"}},
            "required": ["kind"],
        },
    ],
)
def test_json_schema_output_validates_for_assorted_schemas(api: httpx.Client, schema: dict[str, Any]) -> None:
    body = chat_body(
        "I want to book a table", response_format={"type": "json_schema", "json_schema": {"schema": schema}}
    )

    content = api.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]

    jsonschema.validate(json.loads(content), schema)


def test_parameters_the_model_does_not_support_are_dropped(emulator: Emulator, api: httpx.Client) -> None:
    # gpt-oss-120b:free has no structured outputs: OpenRouter silently drops a parameter the model
    # does not support (unless provider.require_parameters is true), here response_format.
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    body = chat_body(
        "What is the capital of France?",
        model="openai/gpt-oss-120b:free",
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )

    response = api.post("/chat/completions", json=body).json()

    assert response["choices"][0]["message"]["content"] == "The capital of France is Paris."
    assert response["usage"]["prompt_tokens"] == 12  # the dropped schema is not part of the prompt


def test_json_object_response_is_a_json_object(api: httpx.Client) -> None:
    body = chat_body("Give me a tip", response_format={"type": "json_object"})

    content = api.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]

    assert isinstance(json.loads(content), dict)


def test_max_tokens_truncates_with_finish_reason_length(emulator: Emulator, api: httpx.Client) -> None:
    body = chat_body("How do I grow my bakery business?", max_tokens=5)

    choice = api.post("/chat/completions", json=body).json()["choices"][0]

    assert choice["finish_reason"] == "length"
    assert choice["native_finish_reason"] == "length"
    assert len(choice["message"]["content"]) == 20
    assert emulator.generations[-1].completion_tokens == 5
    assert emulator.generations[-1].finish_reason == "length"


def test_reasoning_tokens_are_inside_completion_tokens(api: httpx.Client) -> None:
    body = chat_body("Plan a product launch", model="openai/gpt-5-mini", reasoning={"effort": "low"})

    response = json_decimal(api.post("/chat/completions", json=body))

    message, usage = response["choices"][0]["message"], response["usage"]
    assert isinstance(message["reasoning"], str)
    assert message["reasoning"]
    reasoning_tokens = usage["completion_tokens_details"]["reasoning_tokens"]
    assert 0 < reasoning_tokens < usage["completion_tokens"]
    assert usage["cost"] == expected_cost("openai/gpt-5-mini", usage)


def test_forced_tool_choice_returns_a_tool_call(api: httpx.Client) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
    body = chat_body(
        "Weather in Paris?", model="anthropic/claude-sonnet-4.6", tools=[tool], tool_choice="required"
    )

    choice = api.post("/chat/completions", json=body).json()["choices"][0]

    assert choice["finish_reason"] == "tool_calls"
    assert choice["native_finish_reason"] == "tool_use"
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert set(json.loads(call["function"]["arguments"])) == {"location"}


def test_default_model_and_deprecated_fields_are_accepted(emulator: Emulator, api: httpx.Client) -> None:
    body = {
        "messages": [{"role": "user", "content": "hi"}],
        "usage": {"include": True},
        "stream_options": {"include_usage": True},
        "transforms": ["middle-out"],
        "route": "fallback",
        "some_future_field": 1,
    }
    headers = {"HTTP-Referer": "https://app.example", "X-Title": "Demo", "X-OpenRouter-Title": "Demo"}

    response = api.post("/chat/completions", json=body, headers=headers)

    assert response.status_code == 200
    assert response.json()["model"] == "openai/gpt-4o-mini"
    recorded = emulator.requests[-1]
    assert recorded.path == "/chat/completions"
    assert recorded.body == body
    assert recorded.headers["x-title"] == "Demo"
    assert "authorization" not in recorded.headers
    assert recorded.key_hash == emulator.generations[-1].key_hash


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"model": "openai/gpt-4o-mini"}, 'Input required: specify "prompt" or "messages"'),
        ({"messages": []}, 'Input required: specify "prompt" or "messages"'),
        (
            {"messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
            "max_tokens must be a positive integer",
        ),
    ],
)
def test_invalid_chat_bodies_are_400(
    emulator: Emulator, api: httpx.Client, payload: Any, message: str
) -> None:
    response = api.post("/chat/completions", json=payload)

    assert response.status_code == 400
    assert response.json()["error"] == {"message": message, "code": 400}
    assert emulator.generations == []


def test_malformed_json_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
