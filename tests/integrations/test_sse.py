"""SSE parsing of chat streams: comments, [DONE], usage chunk forms, errors, truncation."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from apps.integrations.openrouter.errors import BadResponseError, ErrorCode, ErrorIn200Error
from apps.integrations.openrouter.schemas import ChatChunk
from apps.integrations.openrouter.sse import SSEDecoder, StreamState, iter_data, split_lines

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "openrouter" / "examples"
GEN = "gen-1787412402-Tz8KfW1cN4pQmV6aLs0R"
USAGE = {"prompt_tokens": 14, "completion_tokens": 7, "total_tokens": 21, "cost": 0.0000063, "is_byok": False}


def chunk(content: str = "", finish: str | None = None, **extra: Any) -> str:
    body = {
        "id": GEN,
        "object": "chat.completion.chunk",
        "model": "openai/gpt-4o-mini",
        "provider": "OpenAI",
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}
        ],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n"


def run(text: str | list[str]) -> tuple[StreamState, list[ChatChunk]]:
    state = StreamState()
    chunks = list(state.events(split_lines([text] if isinstance(text, str) else text)))
    return state, chunks


def test_recorded_stream_yields_every_chunk_and_ends_complete() -> None:
    state, chunks = run((EXAMPLES / "chat_stream.txt").read_text())
    assert "".join(c.text for c in chunks) == "Paris is the capital of France."
    assert len(chunks) == 9  # 7 content, the finish chunk, the usage chunk
    assert chunks[-1].usage is not None  # the iterator ends with the usage
    assert state.complete
    assert state.done
    assert state.finish_reason == "stop"
    assert state.generation_id == GEN
    assert (state.model, state.provider) == ("openai/gpt-4o-mini", "OpenAI")
    assert state.usage is not None
    assert (state.usage.prompt_tokens, state.usage.completion_tokens, state.usage.total_tokens) == (14, 7, 21)
    assert state.usage.cost == Decimal("0.0000063")
    assert state.content == "Paris is the capital of France."


def test_comments_are_ignored_wherever_they_appear() -> None:
    text = ": OPENROUTER PROCESSING\n\n" + chunk("a") + ": OPENROUTER PROCESSING\n\n" + chunk("b")
    text += chunk(finish="stop", usage=USAGE) + "data: [DONE]\n\n"
    state, chunks = run(text)
    assert [c.text for c in chunks] == ["a", "b", ""]
    assert state.complete


@pytest.mark.parametrize(
    "usage_chunk",
    [
        chunk(finish="stop", usage=USAGE),  # 2026: repeats the finish choice
        chunk(finish=None, usage=USAGE),  # Jan 2026: the repeated choice has finish_reason null
        "data: " + json.dumps({"id": GEN, "choices": [], "usage": USAGE}) + "\n\n",  # legacy: choices []
    ],
    ids=["repeated-finish", "null-finish", "empty-choices"],
)
def test_the_three_forms_of_the_usage_chunk(usage_chunk: str) -> None:
    state, chunks = run(chunk("hi") + chunk(finish="stop") + usage_chunk + "data: [DONE]\n\n")
    assert state.complete
    assert state.finish_reason == "stop"
    assert state.usage is not None
    assert state.usage.cost == Decimal("0.0000063")
    assert chunks[-1].usage == state.usage


def test_recorded_midstream_error_raises_after_yielding_what_came_before() -> None:
    state = StreamState()
    seen: list[str] = []
    events = state.events(split_lines([(EXAMPLES / "chat_stream_midstream_error.txt").read_text()]))
    with pytest.raises(ErrorIn200Error) as caught:
        seen.extend(item.text for item in events)
    assert seen == ["Once", " upon", " a"]
    error = caught.value
    assert error.code == ErrorCode.ERROR_IN_200
    assert error.midstream
    assert error.upstream_code == 502
    assert error.metadata["error_type"] == "provider_unavailable"
    assert "Provider disconnected unexpectedly" in error.upstream_message
    assert error.usage is None
    assert state.finish_reason == "error"
    assert not state.complete


def test_midstream_error_keeps_reported_usage_and_accepts_a_string_code() -> None:
    error_chunk = chunk(finish="error", error={"code": "server_error", "message": "boom"}, usage=USAGE)
    with pytest.raises(ErrorIn200Error) as caught:
        run(chunk("x") + error_chunk + "data: [DONE]\n\n")
    assert caught.value.upstream_code == "server_error"
    assert caught.value.usage is not None
    assert caught.value.usage.cost == Decimal("0.0000063")


def test_finish_reason_error_without_error_object_is_still_an_error() -> None:
    with pytest.raises(ErrorIn200Error):
        run(chunk("x") + chunk(finish="error"))


def test_stream_without_usage_is_incomplete() -> None:
    state, chunks = run(chunk("a") + chunk(finish="stop") + "data: [DONE]\n\n")
    assert [c.text for c in chunks] == ["a", ""]
    assert state.done
    assert state.usage is None
    assert not state.complete


def test_stream_cut_before_done_is_incomplete() -> None:
    state, _ = run(chunk("a") + chunk(finish="stop", usage=USAGE))
    assert state.usage is not None
    assert not state.done
    assert not state.complete


def test_stream_cut_in_the_middle_of_a_chunk_is_incomplete_not_an_exception() -> None:
    text = chunk("a") + chunk("b")[:30]
    state, chunks = run(text)
    assert [c.text for c in chunks] == ["a"]
    assert state.truncated
    assert not state.complete


def test_a_complete_event_with_broken_json_is_a_bad_response() -> None:
    with pytest.raises(BadResponseError):
        run(chunk("a") + 'data: {"id": "gen-1", "choi\n\n' + "data: [DONE]\n\n")


def test_final_event_without_trailing_blank_line_still_counts() -> None:
    state, _ = run(chunk("a") + chunk(finish="stop", usage=USAGE) + "data: [DONE]")
    assert state.complete


def test_nothing_after_done_is_read() -> None:
    state, chunks = run(chunk(finish="stop", usage=USAGE) + "data: [DONE]\n\n" + chunk("late"))
    assert [c.text for c in chunks] == [""]
    assert state.complete


def test_partial_lines_across_network_reads_are_reassembled() -> None:
    text = ": OPENROUTER PROCESSING\r\n\r\n" + chunk("héllo").replace("\n", "\r\n")
    text += chunk(finish="stop", usage=USAGE) + "data: [DONE]\n\n"
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)]  # splits CRLFs and JSON alike
    state, chunks = run(pieces)
    assert [c.text for c in chunks] == ["héllo", ""]
    assert state.complete


def test_split_lines_handles_every_line_ending_and_cr_split_from_lf() -> None:
    assert list(split_lines(["a\r", "\nb\rc\n", "\n", "d"])) == ["a", "b", "c", "", "d"]


def test_split_lines_does_not_split_on_unicode_line_separators() -> None:
    assert list(split_lines(['data: {"t":"a\u2028b"}\n'])) == ['data: {"t":"a\u2028b"}']


def test_decoder_joins_multi_line_data_and_ignores_other_fields() -> None:
    decoder = SSEDecoder()
    results = [
        decoder.feed(line) for line in ["event: message", "id: 3", "data: a", "data:b", "retry: 10", ""]
    ]
    assert results == [None, None, None, None, None, "a\nb"]


def test_iter_data_marks_a_final_unterminated_event() -> None:
    assert list(iter_data(["data: 1", "", "data: 2"])) == [("1", True), ("2", False)]
