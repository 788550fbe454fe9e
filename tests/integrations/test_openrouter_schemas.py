"""Every recorded OpenRouter body parses into the values it holds (exact Decimals, ints, dates)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from apps.integrations.openrouter.encoding import encode_json
from apps.integrations.openrouter.schemas import (
    ActivityRow,
    ApiKey,
    ChatChunk,
    ChatResult,
    CreatedKey,
    Credits,
    Generation,
    KeyInfo,
    ModelList,
    Pricing,
    Usage,
    load_json,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "openrouter" / "examples"


def body(name: str) -> Any:
    return load_json((EXAMPLES / name).read_bytes())


@pytest.fixture(scope="module")
def catalogue() -> ModelList:
    return ModelList.model_validate(body("models.json"))


def test_load_json_gives_decimals_for_fractions_and_ints_for_integers() -> None:
    data = load_json(b'{"cost": 0.00000885, "tokens": 23, "tiny": 1e-7}')
    assert data == {"cost": Decimal("0.00000885"), "tokens": 23, "tiny": Decimal("1e-7")}
    assert type(data["tokens"]) is int


def test_money_refuses_a_float() -> None:
    with pytest.raises(ValidationError):
        Credits.model_validate({"total_credits": 1.5, "total_usage": 0})


def test_chat_completion_parses_usage_cost_and_derived_values() -> None:
    result = ChatResult.model_validate(body("chat_completion.json"))
    assert result.generation_id == "gen-1787412283-qX2mVtKd9LpRwZ7cHnAe"
    assert (result.model, result.provider) == ("openai/gpt-4o-mini", "OpenAI")
    assert result.content == "The capital of France is Paris."
    assert result.finish_reason == "stop"
    usage = result.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (23, 9, 32)
    assert (usage.reasoning_tokens, usage.cached_tokens, usage.cache_write_tokens) == (0, 0, 0)
    assert usage.cost == Decimal("0.00000885")
    assert isinstance(usage.cost, Decimal)
    assert usage.upstream_inference_cost == Decimal("0.00000885")
    assert result.cost == Decimal("0.00000885")
    assert result.attempts == 1


def test_chat_completion_with_tools_reasoning_and_cache() -> None:
    result = ChatResult.model_validate(body("chat_completion_tools_cache.json"))
    assert result.finish_reason == "tool_calls"
    assert result.native_finish_reason == "tool_use"
    assert result.content == ""
    assert result.message is not None
    assert result.message.reasoning == "The user wants the weather in Paris; call the tool."
    call = result.message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "toolu_01A09q90qw90lq917835lq9",
        "get_weather",
        '{"location":"Paris, FR"}',
    )
    usage = result.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12480, 640, 13120)
    assert (usage.cached_tokens, usage.cache_write_tokens, usage.reasoning_tokens) == (8192, 4096, 412)
    assert usage.cost == Decimal("0.0279936")
    assert usage.cost_details is not None
    assert usage.cost_details.upstream_inference_prompt_cost == Decimal("0.0183936")
    assert usage.cost_details.upstream_inference_completions_cost == Decimal("0.0096")


def test_usage_without_cost_is_none_never_zero() -> None:
    usage = Usage.model_validate({"prompt_tokens": 5, "completion_tokens": 2})
    assert usage.cost is None
    assert usage.total_tokens == 7


def test_a_negative_cost_is_not_a_charge_and_reads_as_unknown() -> None:
    assert Usage.model_validate({"prompt_tokens": 1, "cost": Decimal("-0.1")}).cost is None


def test_chat_result_without_usage_has_none_usage_and_cost() -> None:
    data = body("chat_completion.json")
    del data["usage"]
    result = ChatResult.model_validate(data)
    assert result.usage is None
    assert result.cost is None


def test_chat_result_with_invalid_usage_treats_it_as_missing() -> None:
    data = body("chat_completion.json")
    data["usage"] = {"prompt_tokens": -3, "completion_tokens": "many"}
    assert ChatResult.model_validate(data).usage is None


def test_chat_result_accepts_content_parts_and_ignores_unknown_fields() -> None:
    data = body("chat_completion.json")
    data["choices"][0]["message"]["content"] = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    data["openrouter_metadata"] = {"strategy": "x"}
    assert ChatResult.model_validate(data).content == "ab"


def test_credits_parses_totals_and_balance() -> None:
    credits = Credits.model_validate(body("credits.json")["data"])
    assert credits.total_credits == Decimal("150")
    assert credits.total_usage == Decimal("42.738215")
    assert credits.balance == Decimal("107.261785")


def test_key_current_shape() -> None:
    key = KeyInfo.model_validate(body("key.json")["data"])
    assert key.label == "sk-or-v1-a20...c62"
    assert key.is_management_key is False
    assert (key.limit, key.limit_remaining, key.limit_reset) == (
        Decimal(100),
        Decimal("92.634926647"),
        "monthly",
    )
    assert key.usage == Decimal("224.808602387")
    assert (key.usage_daily, key.usage_weekly, key.usage_monthly) == (
        Decimal("0.131735148"),
        Decimal("0.69418805"),
        Decimal("7.365073353"),
    )
    assert key.effective_budget is not None
    assert key.effective_budget.resets_at == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert key.budgets[0].scope == "key_limit"


def test_key_management_shape_reports_a_management_key() -> None:
    key = KeyInfo.model_validate(body("key_management.json")["data"])
    assert key.is_management_key is True
    assert key.limit is None
    assert key.usage == Decimal(0)
    assert key.budgets == []


def test_key_legacy_auth_key_shape() -> None:
    key = KeyInfo.model_validate(body("auth_key_legacy.json")["data"])
    assert key.label == "sk-or-v1-a20...c62"
    assert (key.usage, key.limit) == (Decimal("224.808602387"), Decimal(100))
    assert key.limit_remaining is None
    assert key.usage_daily is None
    assert key.is_management_key is False
    assert key.rate_limit is not None
    assert (key.rate_limit.requests, key.rate_limit.interval) == (200, "10s")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [({"is_provisioning_key": True}, True), ({"is_management_key": True}, True), ({}, False)],
)
def test_key_type_from_either_flag(flags: dict[str, bool], expected: bool) -> None:
    assert KeyInfo.model_validate({"label": "x", **flags}).is_management_key is expected


def test_models_catalogue_and_pagination(catalogue: ModelList) -> None:
    assert len(catalogue.data) == 10
    assert catalogue.total_count == 10
    assert catalogue.next is None
    mini = catalogue.get("openai/gpt-4o-mini")
    assert mini is not None
    assert mini.context_length == 128000
    assert mini.top_provider.max_completion_tokens == 16384
    assert "tools" in mini.supported_parameters
    assert mini.architecture.output_modalities == ["text"]


def test_model_prices_are_exact_decimals_and_missing_keys_are_zero(catalogue: ModelList) -> None:
    mini = catalogue.get("openai/gpt-4o-mini")
    assert mini is not None
    assert mini.pricing.prompt == Decimal("0.00000015")
    assert mini.pricing.completion == Decimal("0.0000006")
    assert mini.pricing.input_cache_read == Decimal("0.000000075")
    assert mini.pricing.input_cache_write == Decimal(0)  # absent from the body
    flash = catalogue.get("google/gemini-2.5-flash")
    assert flash is not None
    assert flash.pricing.input_cache_write == Decimal("0.00000008333333333333334")
    free = catalogue.get("openai/gpt-oss-120b:free")
    assert free is not None
    assert free.pricing.is_free


def test_cost_for_matches_the_simple_chat_example(catalogue: ModelList) -> None:
    mini = catalogue.get("openai/gpt-4o-mini")
    assert mini is not None
    assert mini.cost_for(23, 9) == Decimal("0.00000885")
    assert mini.cost_for(14, 7) == Decimal("0.0000063")  # the streamed example
    assert mini.cost_for(9, 10) == Decimal("0.00000735")  # a live bill: 9 x 1.5e-7 + 10 x 6e-7


def test_cost_for_matches_the_cache_read_and_write_example(catalogue: ModelList) -> None:
    sonnet = catalogue.get("anthropic/claude-sonnet-4.6")
    assert sonnet is not None
    assert sonnet.cost_for(12480, 640, cached_tokens=8192, cache_write_tokens=4096) == Decimal("0.0279936")


def test_cost_for_adds_the_per_request_price_and_refuses_bad_counts() -> None:
    pricing = Pricing.model_validate({"prompt": "0.000001", "completion": "0.000002", "request": "0.005"})
    assert pricing.cost_for(1000, 500) == Decimal("0.007")
    with pytest.raises(ValueError, match="non-negative"):
        pricing.cost_for(10, 1, cached_tokens=20)


def test_variable_pricing_cannot_be_costed() -> None:
    pricing = Pricing.model_validate({"prompt": "-1", "completion": "-1"})
    assert pricing.is_variable
    with pytest.raises(ValueError, match="variable"):
        pricing.cost_for(1, 1)


def test_activity_rows_parse_with_live_timestamp_dates() -> None:
    rows = [ActivityRow.model_validate(r) for r in body("activity.json")["data"]]
    assert [r.date for r in rows] == [dt.date(2026, 8, 30), dt.date(2026, 8, 30), dt.date(2026, 8, 29)]
    assert [r.usage for r in rows] == [Decimal("0.0123465"), Decimal("1.846215"), Decimal("0.004581")]
    sonnet = rows[1]
    assert (sonnet.requests, sonnet.prompt_tokens, sonnet.completion_tokens, sonnet.reasoning_tokens) == (
        12,
        402110,
        42688,
        9120,
    )
    assert sonnet.model_permaslug == "anthropic/claude-4.6-sonnet-20260217"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-08-30", dt.date(2026, 8, 30)),
        ("2026-08-30 00:00:00", dt.date(2026, 8, 30)),
        ("2026-08-30T00:00:00Z", dt.date(2026, 8, 30)),
        ("2026-08-30T00:00:00.000+00:00", dt.date(2026, 8, 30)),
        ("2026-08-30T22:00:00-05:00", dt.date(2026, 8, 31)),  # the UTC day
    ],
)
def test_activity_date_forms(raw: str, expected: dt.date) -> None:
    assert ActivityRow.model_validate({"date": raw, "model": "m"}).date == expected


def test_generation_parses_cost_tokens_and_timestamps() -> None:
    generation = Generation.model_validate(body("generation.json")["data"])
    chat = ChatResult.model_validate(body("chat_completion.json"))
    assert generation.id == chat.generation_id
    assert generation.total_cost == generation.cost == Decimal("0.00000885")
    assert generation.upstream_inference_cost == Decimal(0)
    assert generation.created_at == dt.datetime(2026, 8, 22, 15, 24, 43, 517392, tzinfo=dt.UTC)
    assert (generation.native_tokens_prompt, generation.native_tokens_completion) == (23, 9)
    assert (generation.external_user, generation.http_referer) == ("user_12345", "https://myapp.example.com/")
    assert generation.provider_name == "OpenAI"


def test_keys_list_parses_every_key() -> None:
    keys = [ApiKey.model_validate(k) for k in body("keys_list.json")["data"]]
    assert [k.name for k in keys] == ["customer-acme", "ci-pipeline"]
    assert keys[0].limit_remaining == Decimal("18.95")
    assert keys[1].limit is None
    assert keys[1].usage == Decimal("31.9")
    assert keys[0].updated_at == dt.datetime(2026, 8, 1, 0, 0, 4, 220113, tzinfo=dt.UTC)


def test_key_created_keeps_the_plaintext_secret_in_reprs() -> None:
    created = CreatedKey.model_validate(body("key_created.json"))
    plaintext = "sk-or-v1-d3558566a246d57584c29dd02393d4a5324c7575ed9dd44d743fe1037e0b55d"
    assert created.key.get_secret_value() == plaintext
    assert plaintext not in repr(created)
    assert plaintext not in str(created)
    assert created.data.hash.startswith("3e7a9c1b")
    assert created.data.limit == Decimal(50)


def test_key_updated_parses() -> None:
    key = ApiKey.model_validate(body("key_updated.json")["data"])
    assert (key.name, key.limit, key.limit_remaining) == ("customer-acme-prod", Decimal(40), Decimal("33.95"))
    assert key.updated_at == dt.datetime(2026, 8, 22, 15, 42, 3, 551870, tzinfo=dt.UTC)


def test_key_deleted_body() -> None:
    assert body("key_deleted.json") == {"deleted": True}


def test_request_examples_round_trip_through_the_encoder() -> None:
    for name in ("chat_request.json", "key_create_request.json"):
        original = body(name)
        assert load_json(encode_json(original)) == original


def test_encoder_writes_decimals_exactly() -> None:
    encoded = encode_json({"max_price": {"prompt": Decimal("0.00000008333333333333334")}, "n": "x"})
    assert encoded == b'{"max_price":{"prompt":0.00000008333333333333334},"n":"x"}'
    assert json.loads(encoded, parse_float=Decimal)["max_price"]["prompt"] == Decimal(
        "0.00000008333333333333334"
    )


def test_stream_chunks_parse() -> None:
    lines = [
        ln[6:] for ln in (EXAMPLES / "chat_stream.txt").read_text().splitlines() if ln.startswith("data: {")
    ]
    chunks = [ChatChunk.model_validate(load_json(ln)) for ln in lines]
    assert "".join(c.text for c in chunks) == "Paris is the capital of France."
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.cost == Decimal("0.0000063")
    assert chunks[-2].finish_reason == "stop"
    assert not any(c.is_error for c in chunks)
