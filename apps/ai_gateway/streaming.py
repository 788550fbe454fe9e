"""A streamed AI call: chunks pass through as they arrive; the ledger row is finalised once.

Outcomes (each finalises the same row exactly once):
* the stream ends with its usage chunk and ``[DONE]``: ``success`` with the reported usage;
* it ends cut off (no ``finish_reason`` and ``[DONE]``): ``error``/``incomplete_stream``, partial
  tokens if any — never a success with zero cost; the caller gets a ``GatewayError`` after the
  chunks it already had;
* it ends whole but without its usage chunk: ``success``, cost unknown (``unpriced``) until
  ``/generation`` settles it — never a silent zero, never an error that invites a paid retry;
* an error chunk mid-stream: ``error`` with any tokens reported, then a ``GatewayError``;
* the caller goes away (``close()`` before the end): upstream is closed, ``cancelled``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from django.utils.translation import gettext as _

from apps.integrations.openrouter import ChatChunk, ChatStream, OpenRouterClient, OpenRouterError
from apps.usage.models import AIUsageLog, UsageStatus

from . import errors
from .calls import Failed
from .recording import record_failure, record_success
from .routing import Route


class GatewayStream:
    """Iterate for :class:`ChatChunk` objects; ``close()`` cancels. Attributes describe the call."""

    def __init__(
        self,
        *,
        log: AIUsageLog,
        upstream: ChatStream,
        client: OpenRouterClient,
        route: Route,
        attempts: int,
        is_fallback: bool,
        started: float,
        finish_after_response: bool = False,
    ) -> None:
        self.log = log
        # A complete answer's ledger write may wait until the response was sent (after [DONE]).
        self._finish_after_response = finish_after_response
        self.route = route
        self.attempts = attempts
        self.is_fallback = is_fallback
        self._upstream = upstream
        self._client = client
        self._started = started
        self._finished = False
        self._events: Generator[ChatChunk, None, None] = self._run()

    def __iter__(self) -> Iterator[ChatChunk]:
        return self

    def __next__(self) -> ChatChunk:
        return next(self._events)

    @property
    def content(self) -> str:
        return self._upstream.content

    def close(self) -> None:
        """The caller went away: cancel upstream and record what is known."""
        self._events.close()
        if not self._finished:  # closed before the first chunk was asked for
            self._finish_cancelled()

    def _run(self) -> Generator[ChatChunk, None, None]:
        try:
            yield from self._upstream
        except GeneratorExit:
            self._finish_cancelled()
            raise
        except OpenRouterError as exc:
            failure = Failed(exc, self.route, self.attempts, self.is_fallback)
            self._finished = True
            raise record_failure(
                self.log, failure, self._started, generation_id=self._upstream.generation_id
            ) from None
        finally:
            self._upstream.close()
            self._client.close()
        self._finish_end_of_stream()

    def _finish_end_of_stream(self) -> None:
        self._finished = True
        # A whole answer whose usage chunk is missing is a success with an unknown cost (priced
        # later through /generation), never an error telling the caller to pay for it again.
        complete = self._upstream.answered
        record_success(
            self.log,
            route=self.route,
            usage=self._upstream.usage,
            model=self._upstream.model,
            generation_id=self._upstream.generation_id,
            attempts=self.attempts,
            is_fallback=self.is_fallback,
            started=self._started,
            status=UsageStatus.SUCCESS if complete else UsageStatus.ERROR,
            error_code="" if complete else "incomplete_stream",
            error_message="" if complete else _("The answer stopped before it was complete."),
            write_after_response=complete and self._finish_after_response,
        )
        if not complete:
            raise errors.GatewayError(
                _("The answer stopped before it was complete. Try again."),
                code="incomplete_stream",
                status_code=502,
                log_id=self.log.pk,
            )

    def _finish_cancelled(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._upstream.close()
        self._client.close()
        record_success(
            self.log,
            route=self.route,
            usage=self._upstream.usage,
            model=self._upstream.model,
            generation_id=self._upstream.generation_id,
            attempts=self.attempts,
            is_fallback=self.is_fallback,
            started=self._started,
            status=UsageStatus.CANCELLED,
            error_code="cancelled",
            error_message=_("The caller disconnected before the answer was complete."),
        )


class StreamShaper:
    """Upstream chunks → OpenAI ``chat.completion.chunk`` bodies, in OpenAI's exact shape.

    * content, reasoning, refusal and tool-call deltas pass through as they arrive;
    * exactly one chunk carries a ``finish_reason``: OpenRouter repeats it on its usage chunk, and
      nothing a choice says after its finish is passed on;
    * usage is never inside a choice chunk: with ``include_usage`` it comes in one final chunk with
      ``choices: []`` (OpenAI's ``stream_options.include_usage``), otherwise not at all.
    """

    def __init__(self, *, include_usage: bool) -> None:
        self.include_usage = include_usage
        self._finished: set[int] = set()
        self._usage: Any = None
        self._head: dict[str, Any] = {}

    def feed(self, chunk: ChatChunk) -> list[dict[str, Any]]:
        self._head = {
            "id": chunk.id or self._head.get("id"),
            "object": "chat.completion.chunk",
            "created": chunk.created or self._head.get("created"),
            "model": chunk.model or self._head.get("model"),
        }
        if chunk.usage is not None:
            self._usage = chunk.usage
        choices = []
        for choice in chunk.choices:
            if choice.index in self._finished:
                continue
            delta = {
                name: value
                for name in ("role", "content", "reasoning", "refusal")
                if (value := getattr(choice.delta, name)) is not None
            }
            if choice.delta.tool_calls:
                delta["tool_calls"] = choice.delta.tool_calls
            if choice.finish_reason is not None:
                self._finished.add(choice.index)
            elif not delta:
                continue
            choices.append({"index": choice.index, "delta": delta, "finish_reason": choice.finish_reason})
        return [{**self._head, "choices": choices}] if choices else []

    def end(self) -> list[dict[str, Any]]:
        """What follows the last upstream chunk: the usage chunk, when asked for."""
        if not self.include_usage or self._usage is None:
            return []
        return [{**self._head, "choices": [], "usage": usage_to_openai(self._usage)}]


def usage_to_openai(usage: Any) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "cost": usage.cost,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }
