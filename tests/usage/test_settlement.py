"""Settling a call's cost through ``/generation``: the row ends with the cost and the tokens
OpenRouter's own record of the call reports, whatever the response itself carried."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.ai_gateway.services import Completion, complete
from apps.ai_gateway.streaming import GatewayStream
from apps.integrations.openrouter import Generation
from apps.usage.models import AIUsageLog
from apps.usage.services import TokenCounts
from apps.usage.settlement import tokens_of_generation, usage_cost_settle
from tests.ai_gateway.conftest import HELLO

pytestmark = pytest.mark.django_db


def _assert_settled_from(row: AIUsageLog, generation: Any) -> None:
    assert (row.cost_usd, row.cost_source) == (generation.cost, "generation_lookup")
    assert row.cost_sek == generation.cost * Decimal("10.50")
    assert row.fx_rate == Decimal("10.50")
    assert (row.prompt_tokens, row.completion_tokens, row.reasoning_tokens, row.cached_tokens) == (
        generation.prompt_tokens,
        generation.completion_tokens,
        generation.reasoning_tokens,
        generation.cached_tokens,
    )
    assert row.total_tokens == generation.prompt_tokens + generation.completion_tokens
    assert row.generation_id == generation.id


def _lookups(emulator: Any) -> list[str]:
    return [r.query["id"] for r in emulator.requests if r.path == "/generation"]


def test_a_response_without_usage_is_settled_with_the_generations_tokens_and_cost(
    user_a: Any, configured_a: Any, emulator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    emulator.inject("missing_usage")
    with django_capture_on_commit_callbacks(execute=True):
        result = complete(user=user_a, use_case="chat", messages=HELLO)
    assert isinstance(result, Completion)
    assert (result.cost_usd, result.cost_source) == (None, "unpriced")  # what the response said
    generation = emulator.generations[0]
    assert generation.prompt_tokens > 0
    assert generation.completion_tokens > 0
    row = AIUsageLog.objects.get()
    assert (row.status, row.user_id) == ("success", user_a.pk)
    _assert_settled_from(row, generation)
    assert _lookups(emulator) == [generation.id]


def test_a_cancelled_stream_is_settled_with_the_generations_tokens_and_cost(
    user_a: Any, configured_a: Any, emulator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    stream = complete(user=user_a, use_case="chat", messages=HELLO, stream=True)
    assert isinstance(stream, GatewayStream)
    for _ in range(3):
        next(stream)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stream.close()
    assert len(callbacks) == 1  # the settlement was queued once the row was committed
    generation = emulator.generations[0]
    assert generation.cancelled is True
    # Billed for the prompt and what was streamed before the cancel; the response carried neither.
    assert generation.prompt_tokens > 0
    assert generation.completion_tokens > 0
    row = AIUsageLog.objects.get()
    assert (row.status, row.error_code, row.streamed) == ("cancelled", "cancelled", True)
    _assert_settled_from(row, generation)
    assert _lookups(emulator) == [generation.id]


def test_settling_twice_changes_nothing_and_asks_nothing(
    user_a: Any, configured_a: Any, emulator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    emulator.inject("missing_usage")
    with django_capture_on_commit_callbacks(execute=True):
        complete(user=user_a, use_case="chat", messages=HELLO)
    row = AIUsageLog.objects.get()
    requests_before = len(emulator.requests)
    assert usage_cost_settle(log_id=row.pk) is None
    assert len(emulator.requests) == requests_before
    again = AIUsageLog.objects.get()
    assert (again.cost_usd, again.prompt_tokens, again.completion_tokens, again.total_tokens) == (
        row.cost_usd,
        row.prompt_tokens,
        row.completion_tokens,
        row.total_tokens,
    )


def test_a_missing_row_settles_nothing(db: Any) -> None:
    assert usage_cost_settle(log_id=999_999) is None


def test_generation_tokens_replace_the_rows_and_are_kept_when_it_reports_none() -> None:
    reported = Generation(
        id="gen-1",
        tokens_prompt=40,
        tokens_completion=12,
        native_tokens_reasoning=5,
        native_tokens_cached=8,
    )
    assert tokens_of_generation(reported) == TokenCounts(prompt=40, completion=12, reasoning=5, cached=8)
    assert tokens_of_generation(Generation(id="gen-2", total_cost=Decimal("0.1"))) is None
