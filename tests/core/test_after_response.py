"""Work queued until the response has been sent: in order, after close(), failures logged."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest, HttpResponse
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
