"""A chat stream in progress: iterate it for chunks, close it to cancel upstream."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from decimal import Decimal
from types import TracebackType

import httpx

from apps.core import http as core_http

from .errors import OpenRouterError, error_from_transport
from .schemas import ChatChunk, Usage
from .sse import StreamState, split_lines


class ChatStream:
    """An iterator of :class:`ChatChunk` that ends with the usage chunk.

    * ``close()`` (or leaving a ``with`` block) closes the upstream response, which is how a
      caller that went away cancels the generation upstream. Closing twice is harmless.
    * An error chunk is raised as ``ErrorIn200Error`` after the chunks before it; a broken
      connection as ``ReadTimeoutError``/``ConnectionFailedError`` (never retried: the stream had
      started). Both carry the usage reported so far, if any.
    * After iteration: ``usage``, ``generation_id``, ``model``, ``provider``, ``finish_reason``,
      ``content``, ``attempts``, ``complete`` (False when the stream ended without its usage
      chunk and ``[DONE]``) and ``answered`` (the answer itself arrived whole: a finish_reason and
      ``[DONE]``, usage or not). A stream that was not answered is not a success.
    """

    def __init__(self, response: httpx.Response, *, attempts: int = 1) -> None:
        self._response = response
        self._state = StreamState()
        self._state.generation_id = response.headers.get("X-Generation-Id")
        self._events: Generator[ChatChunk, None, None] = self._iterate()
        self.attempts = attempts
        self.closed = False
        self.error: OpenRouterError | None = None

    def __iter__(self) -> Iterator[ChatChunk]:
        return self

    def __next__(self) -> ChatChunk:
        return next(self._events)

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ChatStream(generation_id={self.generation_id!r}, complete={self.complete}, closed={self.closed})"

    def close(self) -> None:
        """Close the upstream response (cancels the generation) and end iteration."""
        if not self.closed:
            self.closed = True
            self._response.close()
        self._events.close()

    def _iterate(self) -> Generator[ChatChunk, None, None]:
        try:
            yield from self._state.events(split_lines(core_http.iter_text(self._response)))
        except core_http.OutboundHTTPError as exc:
            self.error = error_from_transport(exc)
            self.error.usage = self._state.usage
            self.error.attempts = self.attempts
            raise self.error from None
        except OpenRouterError as exc:
            exc.attempts = self.attempts
            self.error = exc
            raise
        except httpx.StreamError:
            if not self.closed:  # closed from elsewhere (the caller went away): just stop
                raise
        finally:
            if not self.closed:
                self.closed = True
                self._response.close()

    @property
    def usage(self) -> Usage | None:
        return self._state.usage

    @property
    def cost(self) -> Decimal | None:
        return self._state.cost

    @property
    def generation_id(self) -> str | None:
        return self._state.generation_id

    @property
    def model(self) -> str | None:
        return self._state.model

    @property
    def provider(self) -> str | None:
        return self._state.provider

    @property
    def finish_reason(self) -> str | None:
        return self._state.finish_reason

    @property
    def content(self) -> str:
        return self._state.content

    @property
    def done(self) -> bool:
        """``data: [DONE]`` was received."""
        return self._state.done

    @property
    def complete(self) -> bool:
        return self.error is None and self._state.complete

    @property
    def answered(self) -> bool:
        """The whole answer arrived (finish_reason and ``[DONE]``), with or without its usage."""
        return self.error is None and self._state.answered
