"""The OpenAI-compatible endpoint finishes the ledger row after its answer has been sent."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.wsgi import get_wsgi_application

from apps.accounts.services import api_token_create
from apps.ai_gateway.services import complete
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import HELLO

pytestmark = pytest.mark.django_db


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The app as a WSGI server runs it; the test's database connection is kept open."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _environ(token: str, body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/chat/completions",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }


def test_the_row_is_final_once_the_server_closes_the_response(
    wsgi_app: Any, user_a: Any, configured_a: Any, emulator: Any
) -> None:
    token = api_token_create(user=user_a, name="partner").plaintext
    body = json.dumps({"model": "openai/gpt-4o-mini", "messages": HELLO}).encode()
    statuses: list[str] = []
    response = wsgi_app(_environ(token, body), lambda status, headers: statuses.append(status))
    answer = json.loads(b"".join(response))
    generation = emulator.generations[0]
    assert statuses == ["200 OK"]
    assert answer["id"] == generation.id
    # The whole answer is out; the row was committed pending before the call and waits.
    row = AIUsageLog.objects.get()
    assert (row.status, row.generation_id, row.cost_usd) == ("pending", None, None)
    response.close()  # what the WSGI server does after the last byte
    row.refresh_from_db()
    assert (row.status, row.generation_id, row.cost_usd, row.cost_source) == (
        "success",
        generation.id,
        generation.cost,
        "provider_reported",
    )
    assert (row.prompt_tokens, row.completion_tokens) == (
        generation.prompt_tokens,
        generation.completion_tokens,
    )
    assert row.cost_sek == row.cost_usd * row.fx_rate


def test_a_streamed_answer_is_finished_after_its_last_event(
    wsgi_app: Any, user_a: Any, configured_a: Any, emulator: Any
) -> None:
    token = api_token_create(user=user_a, name="partner").plaintext
    body = json.dumps({"model": "openai/gpt-4o-mini", "messages": HELLO, "stream": True}).encode()
    response = wsgi_app(_environ(token, body), lambda status, headers: None)
    events = b"".join(response).decode().split("\n\n")
    assert events[-2] == "data: [DONE]"
    # Every event, [DONE] included, is out before the ledger write.
    row = AIUsageLog.objects.get()
    assert (row.status, row.streamed) == ("pending", True)
    response.close()
    row.refresh_from_db()
    generation = emulator.generations[0]
    assert (row.status, row.generation_id, row.cost_usd) == ("success", generation.id, generation.cost)


def test_a_stream_that_breaks_is_recorded_before_its_error_event(
    wsgi_app: Any, user_a: Any, configured_a: Any, emulator: Any
) -> None:
    emulator.inject("midstream_error")
    token = api_token_create(user=user_a, name="partner").plaintext
    body = json.dumps({"model": "openai/gpt-4o-mini", "messages": HELLO, "stream": True}).encode()
    response = wsgi_app(_environ(token, body), lambda status, headers: None)
    b"".join(response)
    # A failure is written at once (the error event already names the row).
    assert AIUsageLog.objects.get().status != "pending"
    response.close()


def test_outside_a_request_the_gateway_writes_the_row_at_once(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    completion = complete(user=user_a, use_case="chat", messages=HELLO, finish_after_response=True)
    row = AIUsageLog.objects.get()
    assert (row.pk, row.status, row.cost_usd) == (completion.log_id, "success", emulator.generations[0].cost)
    assert row.cost_usd > Decimal(0)
