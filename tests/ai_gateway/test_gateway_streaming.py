"""Streamed calls: chunks pass through; the row is finalised once, whatever happens."""

from __future__ import annotations

from typing import Any

import pytest

from apps.ai_gateway.errors import GatewayError
from apps.ai_gateway.services import complete
from apps.ai_gateway.streaming import GatewayStream
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import HELLO, chat_requests
from tests.factories import AISettingsFactory

pytestmark = pytest.mark.django_db


def _stream(user: Any) -> GatewayStream:
    stream = complete(user=user, use_case="chat", messages=HELLO, stream=True)
    assert isinstance(stream, GatewayStream)
    return stream


def test_stream_passes_chunks_and_records_the_final_usage(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    stream = _stream(user_a)
    assert AIUsageLog.objects.get().status == "pending"  # committed before the first byte
    chunks = list(stream)
    text = "".join(c.text for c in chunks)
    row = AIUsageLog.objects.get()
    generation = emulator.generations[0]
    assert text == stream.content
    assert text
    assert (row.status, row.streamed, row.cost_source) == ("success", True, "provider_reported")
    assert (row.prompt_tokens, row.completion_tokens, row.cost_usd) == (
        generation.prompt_tokens,
        generation.completion_tokens,
        generation.cost,
    )
    assert row.generation_id == generation.id


def test_midstream_error_is_a_failure_with_the_tokens_reported(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("midstream_error")
    stream = _stream(user_a)
    received: list[str] = []
    with pytest.raises(GatewayError) as caught:
        received.extend(chunk.text for chunk in stream)
    assert "".join(received)  # what came before the error reached the caller
    assert caught.value.status_code == 502
    row = AIUsageLog.objects.get()
    assert (row.status, row.error_code) == ("error", "error_in_200")
    assert (
        row.completion_tokens == emulator.generations[0].completion_tokens > 0
        or row.cost_source == "unpriced"
    )


def test_stream_without_usage_is_not_a_success(user_a: Any, configured_a: Any, emulator: Any) -> None:
    emulator.inject("stream_no_usage")
    stream = _stream(user_a)
    with pytest.raises(GatewayError) as caught:
        list(stream)
    assert caught.value.code == "incomplete_stream"
    row = AIUsageLog.objects.get()
    assert (row.status, row.error_code) == ("error", "incomplete_stream")
    assert row.cost_usd is None or row.cost_source != "provider_reported"


def test_a_whole_stream_without_its_usage_chunk_is_a_success_priced_from_generation(
    user_a: Any, configured_a: Any, emulator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Found by the live fault suite (bench/faults.py): finish_reason and [DONE] arrived but no
    usage chunk, and the caller was told the answer "stopped before it was complete. Try again."
    (a retry pays twice) while the row said error."""
    emulator.inject("missing_usage")
    stream = _stream(user_a)
    with django_capture_on_commit_callbacks(execute=True):
        text = "".join(chunk.text for chunk in stream)
    generation = emulator.generations[0]
    assert text
    assert text == stream.content
    row = AIUsageLog.objects.get()
    assert (row.status, row.error_code) == ("success", "")
    assert (row.prompt_tokens, row.completion_tokens, row.cost_usd, row.cost_source) == (
        generation.prompt_tokens,
        generation.completion_tokens,
        generation.cost,
        "generation_lookup",
    )


def test_a_caller_that_disconnects_cancels_upstream(user_a: Any, configured_a: Any, emulator: Any) -> None:
    stream = _stream(user_a)
    next(stream)
    stream.close()
    row = AIUsageLog.objects.get()
    assert (row.status, row.error_code) == ("cancelled", "cancelled")
    assert emulator.generations[0].cancelled is True


def test_closing_before_reading_still_finalises_the_row(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    _stream(user_a).close()
    assert AIUsageLog.objects.get().status == "cancelled"


def test_errors_before_the_first_byte_are_retried_like_any_call(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("rate_limit", times=2, retry_after=1)
    list(_stream(user_a))
    row = AIUsageLog.objects.get()
    assert (row.status, row.attempts) == ("success", 3)
    assert len(chat_requests(emulator)) == 3


def test_stream_falls_back_before_the_first_byte(user_a: Any, emulator: Any, inference_key: str) -> None:
    AISettingsFactory(user=user_a, openrouter_api_key=inference_key, use_system_fallback=True)
    emulator.inject("status", status=502, times=10)
    list(_stream(user_a))
    row = AIUsageLog.objects.get()
    assert (row.status, row.provider, row.is_fallback, row.cost_source) == (
        "success",
        "system",
        True,
        "computed",
    )


def test_an_error_chunk_mid_stream_keeps_the_generation_id(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("midstream_error")
    with pytest.raises(GatewayError):
        list(_stream(user_a))
    row = AIUsageLog.objects.get()
    assert (row.status, row.generation_id) == ("error", emulator.generations[0].id)
