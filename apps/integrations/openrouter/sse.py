"""Server-sent events for chat streams: lines → ``data`` payloads → parsed chunks.

Per the SSE spec, comment lines (``: OPENROUTER PROCESSING``) and fields other than ``data``
are ignored, several ``data`` lines in one event are joined with ``\\n``, and a blank line ends
an event. ``data: [DONE]`` ends the stream.

:class:`StreamState` follows one stream. It yields every chunk in order; a chunk that carries
``error`` or ``finish_reason: "error"`` is raised as :class:`ErrorIn200Error` (after everything
before it was yielded) with any usage reported kept on the exception. A stream that stops before
a usage chunk and ``[DONE]`` is *incomplete* (``complete`` is False), never a success.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from pydantic import ValidationError

from .errors import BadResponseError, error_from_chunk
from .fields import load_json
from .schemas import ChatChunk, Usage

DONE = "[DONE]"
_LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Reassemble lines from arbitrary text chunks, splitting only on CRLF, LF or CR.

    Those are SSE's line endings; ``str.splitlines`` would also split inside JSON strings at
    U+2028 and friends. A final line without an ending is still yielded, so truncation shows.
    """
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        hold_cr = buffer.endswith("\r")  # may be the first half of a CRLF split across chunks
        parts = _LINE_END.split(buffer[:-1] if hold_cr else buffer)
        buffer = parts.pop() + ("\r" if hold_cr else "")
        yield from parts
    parts = _LINE_END.split(buffer)
    last = parts.pop()
    yield from parts
    if last:
        yield last


class SSEDecoder:
    """Feed lines one at a time; get back each event's ``data`` once the event ends."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: keep-alive
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        """The data of an event the stream ended without terminating (None if there is none)."""
        return self._dispatch()

    def _dispatch(self) -> str | None:
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data


def iter_data(lines: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """``(data, terminated)`` per event; ``terminated`` is False for a final unterminated event."""
    decoder = SSEDecoder()
    for line in lines:
        data = decoder.feed(line)
        if data is not None:
            yield data, True
    leftover = decoder.flush()
    if leftover is not None:
        yield leftover, False


class StreamState:
    """What one chat stream has told us so far."""

    def __init__(self) -> None:
        self.generation_id: str | None = None
        self.model: str | None = None
        self.provider: str | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.done = False
        self.truncated = False
        self.chunks = 0
        self._parts: list[str] = []

    @property
    def complete(self) -> bool:
        """True only when the stream reported its usage and ended with ``[DONE]``."""
        return self.answered and self.usage is not None

    @property
    def answered(self) -> bool:
        """The answer arrived whole: a ``finish_reason``, then ``[DONE]``, nothing cut off (its
        usage may still be missing: then the cost is unknown, not the answer)."""
        return self.done and self.finish_reason is not None and not self.truncated

    @property
    def content(self) -> str:
        return "".join(self._parts)

    @property
    def cost(self) -> Decimal | None:
        return self.usage.cost if self.usage else None

    def events(self, lines: Iterable[str]) -> Iterator[ChatChunk]:
        """Parse ``lines`` into chunks, updating this state; raises on an error chunk."""
        for data, terminated in iter_data(lines):
            if self.done:
                continue  # nothing after [DONE] counts
            if data.strip() == DONE:
                self.done = True
                continue
            chunk = self._parse(data, terminated)
            if chunk is None:
                return
            self._record(chunk)
            if chunk.is_error:
                raise error_from_chunk(chunk.error.model_dump() if chunk.error else None, self.usage)
            yield chunk

    def _parse(self, data: str, terminated: bool) -> ChatChunk | None:
        try:
            return ChatChunk.model_validate(load_json(data))
        except (ValueError, ValidationError):
            if not terminated:  # the connection ended mid-event: incomplete, not corrupt
                self.truncated = True
                return None
            message = f"unreadable stream chunk: {data[:120]}"
            raise BadResponseError(status=200, upstream_message=message, usage=self.usage) from None

    def _record(self, chunk: ChatChunk) -> None:
        self.chunks += 1
        self.generation_id = chunk.id or self.generation_id
        self.model = chunk.model or self.model
        self.provider = chunk.provider or self.provider
        self.finish_reason = chunk.finish_reason or self.finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage
        self._parts.append(chunk.text)
