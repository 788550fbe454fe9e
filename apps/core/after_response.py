"""Writes that may wait until the response has left, so the caller is not kept waiting for them.

:class:`AfterResponseMiddleware` gives each request a queue; :func:`after_response` appends to it
and the callbacks run in order when the WSGI server closes the response, which it does after the
last byte was sent (Django's test client closes it too). Outside a request (Celery, shell, a
service called directly) there is no queue: :func:`after_response` returns False and the caller
does the work at once. A failing callback is logged; the others still run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from contextvars import ContextVar, Token

from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger(__name__)

Callback = Callable[[], None]
_queue: ContextVar[list[Callback] | None] = ContextVar("after_response_queue", default=None)


def after_response(callback: Callback) -> bool:
    """Queue ``callback`` to run once this request's response was sent. False: no request here."""
    queue = _queue.get()
    if queue is None:
        return False
    queue.append(callback)
    return True


def after_response_detach() -> None:
    """Forget a queue this thread still holds: a streamed response that was never closed keeps
    its queue open (the test runner calls this between tests; a server closes every response)."""
    _queue.set(None)


def _run(queue: list[Callback]) -> None:
    while queue:
        callback = queue.pop(0)
        try:
            callback()
        except Exception:
            logger.exception("a write deferred until after the response failed")


class AfterResponseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        queue: list[Callback] = []
        token = _queue.set(queue)
        try:
            response = self.get_response(request)
        except BaseException:
            _queue.reset(token)
            _run(queue)  # no response will be closed: do the work now
            raise
        if response.streaming:
            # A stream's body is produced, and closed, after this returns, by the same server
            # thread: the queue stays open for it until close(), whose last step runs it.
            response._resource_closers.append(lambda: _close(token, queue))  # type: ignore[attr-defined]
            return response
        _queue.reset(token)
        if queue:
            # Django calls these from ``response.close()``, before its request_finished signal.
            response._resource_closers.append(lambda: _run(queue))  # type: ignore[attr-defined]
        return response


def _close(token: Token[list[Callback] | None], queue: list[Callback]) -> None:
    # Closed from another context than the request's (ValueError): there is nothing to restore.
    with contextlib.suppress(ValueError):
        _queue.reset(token)
    _run(queue)
