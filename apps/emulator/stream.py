"""The SSE body of a streamed chat completion, produced lazily.

The body is a generator, so a client reads chunks as they are produced and can hang up midway. When
the server closes the generator early (the client went away), the ``finally`` clause bills what was
sent so far and records the generation as cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from . import jsonfmt
from .chat_body import Served, chunk_json, error_chunk_json, usage_chunk_json
from .core import Core
from .faults import Fault
from .ledger import bill_full, bill_partial

PROCESSING = b": OPENROUTER PROCESSING\n\n"
DONE = b"data: [DONE]\n\n"


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + jsonfmt.dumps_bytes(payload) + b"\n\n"


def stream_body(core: Core, served: Served, fault: Fault | None) -> Iterator[bytes]:
    kind = fault.kind if fault else None
    delay = float(fault.params.get("delay", 0.5)) if fault and kind == "slow_trickle" else 0.0
    sent: list[str] = []
    try:
        yield PROCESSING
        yield PROCESSING
        for index, payload in enumerate(_events(core, served, fault, sent)):
            if delay:
                time.sleep(delay)
            yield payload
            if index == 1 and core.config.processing_comment_midstream:
                yield PROCESSING
    finally:
        # A no-op when the stream ended normally (already billed); a cancellation otherwise.
        bill_partial(core, served, "".join(sent), None, cancelled=True)


def _events(core: Core, served: Served, fault: Fault | None, sent: list[str]) -> Iterator[bytes]:
    """The data events after the opening comments; ``sent`` collects the content delivered."""
    kind = fault.kind if fault else None
    pieces = served.completion.pieces()
    cut = _cut_point(fault, len(pieces)) if kind in ("midstream_error", "truncated") else len(pieces)
    yield from _preamble(served)
    for piece in pieces[:cut]:
        yield event(chunk_json(served, {"content": piece}))
        sent.append(piece)
    if kind == "midstream_error":
        bill_partial(core, served, "".join(sent), "error", cancelled=False)
        yield event(error_chunk_json(served))
        yield DONE
        return
    billed = bill_full(core, served)
    if kind == "truncated":
        rest = event(chunk_json(served, {"content": "".join(pieces[cut:])}))
        yield rest[: len(rest) // 2]
        return
    if kind == "stream_no_usage":
        return
    yield event(chunk_json(served, {"content": ""}, served.completion.finish_reason))
    if kind != "missing_usage":
        yield event(usage_chunk_json(served, billed, legacy=core.config.usage_chunk_style == "legacy"))
    yield DONE


def _preamble(served: Served) -> Iterator[bytes]:
    """Reasoning and tool-call deltas, which come before any content."""
    completion = served.completion
    if completion.reasoning:
        details = [{"type": "reasoning.text", "text": completion.reasoning, "format": "unknown", "index": 0}]
        yield event(
            chunk_json(
                served, {"content": "", "reasoning": completion.reasoning, "reasoning_details": details}
            )
        )
    if completion.tool_calls:
        yield event(chunk_json(served, {"content": None, "tool_calls": completion.tool_calls}))


def _cut_point(fault: Fault | None, count: int) -> int:
    """How many content pieces go out before the failure (``after`` param, default half)."""
    default = max(count // 2, 1) if count > 1 else count
    after = fault.params.get("after") if fault else None
    return min(int(after), count) if after is not None else default
