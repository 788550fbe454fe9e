"""Work queued until the response has been sent: in order, after close(), failures logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from apps.core.after_response import AfterResponseMiddleware, after_response

# response.close() sends request_finished, whose handler looks at the database connection.
pytestmark = pytest.mark.django_db


def test_outside_a_request_nothing_is_queued() -> None:
    ran: list[str] = []
    assert after_response(lambda: ran.append("x")) is False
    assert ran == []


def test_queued_work_runs_in_order_when_the_response_is_closed() -> None:
    ran: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        assert after_response(lambda: ran.append("first")) is True
        assert after_response(lambda: ran.append("second")) is True
        return HttpResponse(b"answer")

    response = AfterResponseMiddleware(view)(RequestFactory().get("/"))
    assert response.content == b"answer"
    assert ran == []  # the caller has the answer; the work has not run yet
    response.close()
    assert ran == ["first", "second"]
    assert after_response(lambda: ran.append("late")) is False  # the request's queue is gone


def test_a_failing_callback_is_logged_and_the_rest_still_run(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    def boom() -> None:
        raise RuntimeError("database went away")

    def view(request: HttpRequest) -> HttpResponse:
        after_response(boom)
        after_response(lambda: ran.append("after"))
        return HttpResponse()

    response = AfterResponseMiddleware(view)(RequestFactory().get("/"))
    with caplog.at_level(logging.ERROR, logger="apps.core.after_response"):
        response.close()
    assert ran == ["after"]
    assert [r.getMessage() for r in caplog.records] == ["a write deferred until after the response failed"]


def test_work_queued_before_an_unhandled_exception_runs_at_once() -> None:
    ran: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        after_response(lambda: ran.append("work"))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        AfterResponseMiddleware(view)(RequestFactory().get("/"))
    assert ran == ["work"]


def test_a_stream_queues_work_while_it_is_produced_and_it_runs_after_close() -> None:
    ran: list[str] = []

    def body() -> Iterator[bytes]:
        yield b"data: 1\n\n"
        assert after_response(lambda: ran.append("finish")) is True
        yield b"data: [DONE]\n\n"

    def cancelled() -> Iterator[bytes]:
        try:
            yield b"data: 1\n\n"
            yield b"data: 2\n\n"
        finally:  # the caller went away: closing the stream may queue work too
            after_response(lambda: ran.append("cancelled"))

    response = AfterResponseMiddleware(lambda request: StreamingHttpResponse(body()))(
        RequestFactory().get("/")
    )
    assert b"".join(response) == b"data: 1\n\ndata: [DONE]\n\n"
    assert ran == []  # every event is out; the work waits for close()
    response.close()
    assert ran == ["finish"]

    response = AfterResponseMiddleware(lambda request: StreamingHttpResponse(cancelled()))(
        RequestFactory().get("/")
    )
    next(iter(response))
    response.close()
    assert ran == ["finish", "cancelled"]
