"""The client over HTTP (respx-mocked): headers, every endpoint, retries, streams, secrecy."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import respx

from apps.integrations.openrouter import (
    BadResponseError,
    ConnectionFailedError,
    ErrorIn200Error,
    GenerationNotFoundError,
    InvalidKeyError,
    InvalidRequestError,
    ManagementKeyRequiredError,
    OpenRouterClient,
    ProviderError,
    RateLimitedError,
    ReadTimeoutError,
    RetryPolicy,
    UnavailableError,
)

BASE = "https://openrouter.mock/api/v1"
KEY = "sk-or-v1-" + "0123456789abcdef" * 3 + "0123456789ab9f3c"
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "openrouter" / "examples"
HASH = "f01d52606dc8f0a8303a7b5cc3fa07109c2e346cec7c0a16b40de462992ce943"


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def json_response(status: int, name: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=example(name), headers={"content-type": "application/json", **headers}
    )


def error(status: int, message: str = "x", **headers: str) -> httpx.Response:
    body = json.dumps({"error": {"message": message, "code": status}}).encode()
    return httpx.Response(status, content=body, headers={"content-type": "application/json", **headers})


def sse(text: str) -> httpx.Response:
    return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def client(fake_time: FakeTime) -> Iterator[OpenRouterClient]:
    with OpenRouterClient(
        KEY,
        base_url=BASE,
        app_url="https://app.example.com/",
        app_title="Småföretag AI",
        retry=RetryPolicy(rng=random.Random(5)),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    ) as instance:
        yield instance


CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Capital of France?"}]}


# ------------------------------------------------------------------ headers and secrecy


def test_requests_carry_the_bearer_key_and_attribution_headers(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    route = router.post("/chat/completions").mock(return_value=json_response(200, "chat_completion.json"))
    client.chat(CHAT)
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["HTTP-Referer"] == "https://app.example.com/"
    assert sent.headers["X-OpenRouter-Title"] == "Smaforetag AI"
    assert sent.headers["Content-Type"] == "application/json"


def test_attribution_headers_are_absent_when_not_configured(router: respx.MockRouter) -> None:
    route = router.get("/credits").mock(return_value=json_response(200, "credits.json"))
    with OpenRouterClient(KEY, base_url=BASE) as plain:
        plain.credits()
    headers = route.calls.last.request.headers
    assert "HTTP-Referer" not in headers
    assert "X-OpenRouter-Title" not in headers


def test_repr_shows_only_the_last_four_characters_of_the_key(client: OpenRouterClient) -> None:
    text = repr(client)
    assert "…9f3c" in text
    assert KEY not in text
    assert KEY[:-4] not in text
    assert KEY not in str(vars(client))


def test_the_key_never_appears_in_errors(router: respx.MockRouter, client: OpenRouterClient) -> None:
    body = json.dumps({"error": {"message": f"User not found for {KEY}", "code": 401}}).encode()
    router.post("/chat/completions").mock(return_value=httpx.Response(401, content=body))
    with pytest.raises(InvalidKeyError) as caught:
        client.chat(CHAT)
    exc = caught.value
    for text in (str(exc), repr(exc), exc.upstream_message, str(exc.user_message), str(exc.args)):
        assert KEY not in text
    assert exc.__cause__ is None


# ------------------------------------------------------------------ chat


def test_chat_parses_the_result_and_forces_non_streaming(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    route = router.post("/chat/completions").mock(return_value=json_response(200, "chat_completion.json"))
    result = client.chat({**CHAT, "stream": True, "max_price": {"prompt": Decimal("0.15")}})
    assert result.content == "The capital of France is Paris."
    assert result.usage is not None
    assert result.usage.cost == Decimal("0.00000885")
    assert (result.generation_id, result.model, result.provider) == (
        "gen-1787412283-qX2mVtKd9LpRwZ7cHnAe",
        "openai/gpt-4o-mini",
        "OpenAI",
    )
    assert result.attempts == 1
    sent = json.loads(route.calls.last.request.content, parse_float=Decimal)
    assert sent["stream"] is False
    assert sent["max_price"] == {"prompt": Decimal("0.15")}
    assert sent["messages"] == CHAT["messages"]


def test_chat_takes_the_generation_id_from_the_header_when_the_body_lacks_it(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    body = json.loads(example("chat_completion.json"))
    del body["id"]
    router.post("/chat/completions").mock(
        return_value=httpx.Response(200, json=body, headers={"X-Generation-Id": "gen-1-header"})
    )
    assert client.chat(CHAT).generation_id == "gen-1-header"


def test_chat_without_usage_reports_none_not_zero(router: respx.MockRouter, client: OpenRouterClient) -> None:
    body = json.loads(example("chat_completion.json"))
    del body["usage"]
    router.post("/chat/completions").mock(return_value=httpx.Response(200, json=body))
    result = client.chat(CHAT)
    assert result.usage is None
    assert result.cost is None


def test_chat_200_with_error_body_raises(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.post("/chat/completions").mock(return_value=error(200, "Provider disconnected"))
    with pytest.raises(ErrorIn200Error) as caught:
        client.chat(CHAT)
    assert caught.value.status == 200
    assert route.call_count == 1  # never retried: may have been billed


def test_chat_choice_finished_with_error_raises_with_usage(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    body = json.loads(example("chat_completion.json"))
    body["choices"][0]["finish_reason"] = "error"
    body["choices"][0]["error"] = {"code": 502, "message": "upstream died"}
    router.post("/chat/completions").mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(ErrorIn200Error) as caught:
        client.chat(CHAT)
    assert caught.value.upstream_code == 502
    assert caught.value.usage is not None
    assert caught.value.usage.cost == Decimal("0.00000885")


@pytest.mark.parametrize(
    "content",
    [b"<html><body>Gateway</body></html>", example("chat_completion.json")[:200], b"not json"],
    ids=["html", "truncated", "text"],
)
def test_chat_unreadable_200_is_a_bad_response_and_not_retried(
    router: respx.MockRouter, client: OpenRouterClient, content: bytes
) -> None:
    route = router.post("/chat/completions").mock(return_value=httpx.Response(200, content=content))
    with pytest.raises(BadResponseError) as caught:
        client.chat(CHAT)
    assert route.call_count == 1
    assert "<" not in str(caught.value.user_message)


def test_chat_keep_alive_whitespace_before_the_body_is_accepted(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    router.post("/chat/completions").mock(
        return_value=httpx.Response(200, content=b"\n\n  " + example("chat_completion.json"))
    )
    assert client.chat(CHAT).content == "The capital of France is Paris."


# ------------------------------------------------------------------ retries


def test_three_429s_then_200_succeeds_on_the_fourth_attempt(
    router: respx.MockRouter, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    limited = error(429, "Rate limit exceeded", **{"Retry-After": "1"})
    ok = json_response(200, "chat_completion.json")
    route = router.post("/chat/completions").mock(side_effect=[limited, limited, limited, ok])
    result = client.chat(CHAT)
    assert result.attempts == 4
    assert route.call_count == 4
    assert fake_time.sleeps == [1.0, 1.0, 1.0]
    assert result.usage is not None
    assert result.usage.cost == Decimal("0.00000885")


def test_429_beyond_the_budget_raises_with_retry_after(
    router: respx.MockRouter, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    route = router.post("/chat/completions").mock(
        return_value=error(429, "Rate limit", **{"Retry-After": "2"})
    )
    with pytest.raises(RateLimitedError) as caught:
        client.chat(CHAT)
    assert route.call_count == 4
    assert caught.value.attempts == 4
    assert caught.value.retry_after == 2.0
    assert fake_time.sleeps == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("status", [502, 503, 500, 524, 529])
def test_5xx_then_200_is_retried_with_jittered_backoff(
    router: respx.MockRouter, client: OpenRouterClient, fake_time: FakeTime, status: int
) -> None:
    route = router.post("/chat/completions").mock(
        side_effect=[error(status), json_response(200, "chat_completion.json")]
    )
    assert client.chat(CHAT).attempts == 2
    assert route.call_count == 2
    assert len(fake_time.sleeps) == 1
    assert 0 <= fake_time.sleeps[0] <= 0.25


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 408])
def test_client_errors_are_sent_once(
    router: respx.MockRouter, client: OpenRouterClient, fake_time: FakeTime, status: int
) -> None:
    route = router.post("/chat/completions").mock(return_value=error(status, **{"Retry-After": "1"}))
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the class varies by status
        client.chat(CHAT)
    assert caught.value.status == status  # type: ignore[attr-defined]
    assert caught.value.attempts == 1  # type: ignore[attr-defined]
    assert route.call_count == 1
    assert fake_time.sleeps == []


def test_connection_failure_before_sending_is_retried(
    router: respx.MockRouter, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    route = router.get("/credits").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("slow"),
            json_response(200, "credits.json"),
        ]
    )
    assert client.credits().total_credits == Decimal(150)
    assert route.call_count == 3
    assert len(fake_time.sleeps) == 2


def test_connection_failures_exhaust_the_attempts(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.get("/credits").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ConnectionFailedError) as caught:
        client.credits()
    assert route.call_count == 4
    assert caught.value.sent is False
    assert caught.value.attempts == 4


def test_read_timeout_is_not_retried(
    router: respx.MockRouter, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    route = router.post("/chat/completions").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ReadTimeoutError) as caught:
        client.chat(CHAT)
    assert route.call_count == 1
    assert caught.value.sent is True
    assert caught.value.may_be_billed
    assert fake_time.sleeps == []


def test_retry_after_that_would_pass_the_deadline_raises_the_last_error(
    router: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = router.post("/chat/completions").mock(return_value=error(429, **{"Retry-After": "50"}))
    with (
        OpenRouterClient(
            KEY, base_url=BASE, deadline=90, sleep=fake_time.sleep, clock=fake_time.clock
        ) as short,
        pytest.raises(RateLimitedError) as caught,
    ):
        short.chat(CHAT)
    assert route.call_count == 2  # waited 50 s once; a second 50 s would end at 100 > 90
    assert fake_time.sleeps == [50.0]
    assert caught.value.attempts == 2


def test_each_attempt_timeout_is_capped_by_the_remaining_deadline(
    router: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = router.get("/credits").mock(
        side_effect=[error(503, **{"Retry-After": "25"}), json_response(200, "credits.json")]
    )
    with OpenRouterClient(
        KEY, base_url=BASE, timeout=60, deadline=30, sleep=fake_time.sleep, clock=fake_time.clock
    ) as short:
        short.credits()
    timeouts = [call.request.extensions["timeout"]["read"] for call in route.calls]
    assert timeouts == [30, 5]


def test_max_attempts_is_configurable(router: respx.MockRouter, fake_time: FakeTime) -> None:
    route = router.get("/credits").mock(return_value=error(502))
    with (
        OpenRouterClient(
            KEY,
            base_url=BASE,
            retry=RetryPolicy(max_attempts=2),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        ) as c,
        pytest.raises(ProviderError),
    ):
        c.credits()
    assert route.call_count == 2


# ------------------------------------------------------------------ streaming

STREAM = (EXAMPLES / "chat_stream.txt").read_text()


class RecordingStream(httpx.SyncByteStream):
    """A response body that records whether it was closed, optionally failing midway."""

    def __init__(self, parts: list[bytes], fail_after: int | None = None) -> None:
        self.parts = parts
        self.fail_after = fail_after
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for index, part in enumerate(self.parts):
            if self.fail_after is not None and index >= self.fail_after:
                raise httpx.ReadTimeout("stalled")
            yield part

    def close(self) -> None:
        self.closed = True


def test_stream_yields_chunks_ending_with_usage(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.post("/chat/completions").mock(return_value=sse(STREAM))
    with client.chat_stream(CHAT) as stream:
        chunks = list(stream)
    assert "".join(c.text for c in chunks) == "Paris is the capital of France."
    assert chunks[-1].usage is not None
    assert stream.complete
    assert stream.usage is not None
    assert stream.usage.cost == Decimal("0.0000063")
    assert (stream.generation_id, stream.model, stream.finish_reason) == (
        "gen-1787412402-Tz8KfW1cN4pQmV6aLs0R",
        "openai/gpt-4o-mini",
        "stop",
    )
    assert stream.attempts == 1
    assert json.loads(route.calls.last.request.content)["stream"] is True


def test_stream_is_retried_before_its_first_byte(
    router: respx.MockRouter, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    route = router.post("/chat/completions").mock(
        side_effect=[error(429, **{"Retry-After": "1"}), error(503), sse(STREAM)]
    )
    stream = client.chat_stream(CHAT)
    list(stream)
    assert stream.attempts == 3
    assert route.call_count == 3
    assert stream.complete


def test_stream_midstream_error_raises_after_the_chunks_and_is_not_retried(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    route = router.post("/chat/completions").mock(
        return_value=sse(example("chat_stream_midstream_error.txt").decode())
    )
    stream = client.chat_stream(CHAT)
    texts: list[str] = []
    with pytest.raises(ErrorIn200Error) as caught:
        texts.extend(chunk.text for chunk in stream)
    assert texts == ["Once", " upon", " a"]
    assert caught.value.midstream
    assert caught.value.upstream_code == 502
    assert stream.error is caught.value
    assert not stream.complete
    assert stream.closed
    assert route.call_count == 1


def test_stream_without_usage_is_incomplete(router: respx.MockRouter, client: OpenRouterClient) -> None:
    without_usage = "\n".join(line for line in STREAM.splitlines() if '"usage"' not in line) + "\n"
    router.post("/chat/completions").mock(return_value=sse(without_usage))
    stream = client.chat_stream(CHAT)
    list(stream)
    assert stream.done
    assert stream.usage is None
    assert not stream.complete


def test_stream_close_closes_the_upstream_response(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    body = RecordingStream([part.encode() + b"\n\n" for part in STREAM.split("\n\n") if part])
    router.post("/chat/completions").mock(
        return_value=httpx.Response(200, stream=body, headers={"content-type": "text/event-stream"})
    )
    stream = client.chat_stream(CHAT)
    first = next(stream)
    assert first.text == "Paris"
    assert not body.closed
    stream.close()
    assert body.closed
    assert stream.closed
    assert not stream.complete
    assert list(stream) == []  # nothing more after close
    stream.close()  # closing twice is harmless


def test_stream_read_timeout_midway_raises_and_is_not_retried(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    body = RecordingStream([part.encode() + b"\n\n" for part in STREAM.split("\n\n") if part], fail_after=4)
    route = router.post("/chat/completions").mock(
        return_value=httpx.Response(200, stream=body, headers={"content-type": "text/event-stream"})
    )
    stream = client.chat_stream(CHAT)
    with pytest.raises(ReadTimeoutError) as caught:
        list(stream)
    assert caught.value.sent
    assert route.call_count == 1
    assert not stream.complete
    assert body.closed


def test_stream_answered_with_a_json_error_in_a_200_raises(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    router.post("/chat/completions").mock(return_value=error(200, "failed after headers"))
    with pytest.raises(ErrorIn200Error):
        client.chat_stream(CHAT)


def test_stream_answered_with_html_is_a_bad_response(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    router.post("/chat/completions").mock(
        return_value=httpx.Response(200, content=b"<html>x</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(BadResponseError):
        client.chat_stream(CHAT)


# ------------------------------------------------------------------ account endpoints


def test_credits(router: respx.MockRouter, client: OpenRouterClient) -> None:
    router.get("/credits").mock(return_value=json_response(200, "credits.json"))
    credits = client.credits()
    assert (credits.total_credits, credits.total_usage) == (Decimal(150), Decimal("42.738215"))


def test_credits_with_an_inference_key_is_management_key_required(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    router.get("/credits").mock(return_value=json_response(403, "error_403_management_only.json"))
    with pytest.raises(ManagementKeyRequiredError):
        client.credits()


def test_key_uses_the_current_path(router: respx.MockRouter, client: OpenRouterClient) -> None:
    current = router.get("/key").mock(return_value=json_response(200, "key.json"))
    legacy = router.get("/auth/key").mock(return_value=json_response(200, "auth_key_legacy.json"))
    assert client.key().limit_remaining == Decimal("92.634926647")
    assert (current.call_count, legacy.call_count) == (1, 0)


def test_key_falls_back_to_auth_key_on_404(router: respx.MockRouter, client: OpenRouterClient) -> None:
    router.get("/key").mock(return_value=httpx.Response(404, content=b"<html>Not Found</html>"))
    legacy = router.get("/auth/key").mock(return_value=json_response(200, "auth_key_legacy.json"))
    info = client.key()
    assert legacy.call_count == 1
    assert (info.usage, info.limit, info.limit_remaining) == (Decimal("224.808602387"), Decimal(100), None)


def test_key_with_a_bad_key_does_not_fall_back(router: respx.MockRouter, client: OpenRouterClient) -> None:
    router.get("/key").mock(return_value=json_response(401, "error_401.json"))
    legacy = router.get("/auth/key").mock(return_value=json_response(200, "auth_key_legacy.json"))
    with pytest.raises(InvalidKeyError):
        client.key()
    assert legacy.call_count == 0


def test_models_passes_filters_through(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.get("/models").mock(return_value=json_response(200, "models.json"))
    catalogue = client.models(
        search="gpt",
        output_modalities="all",
        supported_parameters=["tools", "reasoning"],
        offset=0,
        limit=50,
        order=None,
    )
    assert len(catalogue.data) == 10
    params = route.calls.last.request.url.params
    assert dict(params) == {
        "q": "gpt",
        "output_modalities": "all",
        "supported_parameters": "tools,reasoning",
        "offset": "0",
        "limit": "50",
    }


def test_models_without_filters_sends_no_query(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.get("/models").mock(return_value=json_response(200, "models.json"))
    client.models()
    assert route.calls.last.request.url.query == b""


def test_activity_with_date_and_key_hash(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.get("/activity").mock(return_value=json_response(200, "activity.json"))
    rows = client.activity(date=dt.date(2026, 8, 30), api_key_hash=HASH)
    assert [r.date for r in rows] == [dt.date(2026, 8, 30), dt.date(2026, 8, 30), dt.date(2026, 8, 29)]
    assert dict(route.calls.last.request.url.params) == {"date": "2026-08-30", "api_key_hash": HASH}


def test_activity_empty(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.get("/activity").mock(return_value=httpx.Response(200, json={"data": []}))
    assert client.activity() == []
    assert route.calls.last.request.url.query == b""


def test_generation_retries_the_not_found_delay(
    router: respx.MockRouter, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    missing = json_response(404, "error_404_generation.json")
    route = router.get("/generation").mock(
        side_effect=[missing, missing, missing, json_response(200, "generation.json")]
    )
    generation = client.generation("gen-1787412283-qX2mVtKd9LpRwZ7cHnAe")
    assert generation.total_cost == Decimal("0.00000885")
    assert route.call_count == 4
    assert len(fake_time.sleeps) == 3
    assert route.calls.last.request.url.params["id"] == "gen-1787412283-qX2mVtKd9LpRwZ7cHnAe"


def test_generation_gives_up_at_its_deadline(router: respx.MockRouter, fake_time: FakeTime) -> None:
    route = router.get("/generation").mock(return_value=json_response(404, "error_404_generation.json"))
    with (
        OpenRouterClient(
            KEY,
            base_url=BASE,
            retry=RetryPolicy(base=4, cap=4, rng=random.Random(2)),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        ) as c,
        pytest.raises(GenerationNotFoundError) as caught,
    ):
        c.generation("gen-1-x", deadline=10)
    assert fake_time.now <= 10
    assert caught.value.attempts == route.call_count >= 2


# ------------------------------------------------------------------ key management


def test_keys_list(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.get("/keys").mock(return_value=json_response(200, "keys_list.json"))
    keys = client.keys_list(offset=100, include_disabled=True)
    assert [k.hash for k in keys] == [
        HASH,
        "9c4b1f7e2a6d83c05e1f9a4b7d2c6e08f3a5b9c1d7e2f4a6b8c0d1e3f5a7b9c2",
    ]
    assert dict(route.calls.last.request.url.params) == {"offset": "100", "include_disabled": "true"}


def test_key_create_sends_the_documented_body_and_keeps_the_key_secret(
    router: respx.MockRouter, client: OpenRouterClient
) -> None:
    route = router.post("/keys").mock(return_value=json_response(201, "key_created.json"))
    created = client.key_create(
        "customer-globex", limit=Decimal(50), limit_reset="monthly", include_byok_in_limit=False
    )
    assert created.key.get_secret_value().startswith("sk-or-v1-d355")
    assert created.data.name == "customer-globex"
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "name": "customer-globex",
        "limit": 50,
        "limit_reset": "monthly",
        "include_byok_in_limit": False,
    }


def test_key_create_expiry_is_sent_as_utc(router: respx.MockRouter, client: OpenRouterClient) -> None:
    route = router.post("/keys").mock(return_value=json_response(201, "key_created.json"))
    client.key_create("k", expires_at=dt.datetime(2027, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    assert json.loads(route.calls.last.request.content) == {"name": "k", "expires_at": "2027-01-01T00:00:00Z"}


def test_key_get_update_delete(router: respx.MockRouter, client: OpenRouterClient) -> None:
    router.get(f"/keys/{HASH}").mock(
        return_value=httpx.Response(200, json={"data": json.loads(example("keys_list.json"))["data"][0]})
    )
    patch = router.patch(f"/keys/{HASH}").mock(return_value=json_response(200, "key_updated.json"))
    delete = router.delete(f"/keys/{HASH}").mock(return_value=json_response(200, "key_deleted.json"))
    assert client.key_get(HASH).name == "customer-acme"
    updated = client.key_update(HASH, name="customer-acme-prod", limit=40)
    assert (updated.name, updated.limit) == ("customer-acme-prod", Decimal(40))
    assert json.loads(patch.calls.last.request.content) == {"name": "customer-acme-prod", "limit": 40}
    assert client.key_delete(HASH) is True
    assert delete.call_count == 1


def test_key_management_with_an_inference_key(router: respx.MockRouter, client: OpenRouterClient) -> None:
    router.get("/keys").mock(return_value=json_response(403, "error_403_management_only.json"))
    with pytest.raises(ManagementKeyRequiredError):
        client.keys_list()


@pytest.mark.parametrize("bad", ["../credits", "a/b", "", "x?y=1"])
def test_a_key_hash_cannot_change_the_path(
    router: respx.MockRouter, client: OpenRouterClient, bad: str
) -> None:
    with pytest.raises(ValueError, match="hash"):
        client.key_get(bad)
    assert router.calls.call_count == 0


def test_unknown_key_hash_is_not_found(router: respx.MockRouter, client: OpenRouterClient) -> None:
    router.get(f"/keys/{HASH}").mock(return_value=error(404, "Not Found"))
    with pytest.raises(Exception, match="not_found"):
        client.key_get(HASH)


def test_invalid_request_from_an_example(router: respx.MockRouter, client: OpenRouterClient) -> None:
    router.post("/chat/completions").mock(return_value=json_response(400, "error_400_invalid_model.json"))
    with pytest.raises(InvalidRequestError):
        client.chat({**CHAT, "model": "acme/not-a-model"})


def test_unavailable_with_html_body(router: respx.MockRouter, client: OpenRouterClient) -> None:
    router.get("/credits").mock(return_value=httpx.Response(503, content=b"<html>down</html>"))
    with pytest.raises(UnavailableError) as caught:
        client.credits()
    assert caught.value.attempts == 4


def test_clients_share_one_http_client_but_each_request_carries_its_own_key(router: respx.MockRouter) -> None:
    """The gateway builds a client per call; the connection-holding part is shared per origin, so
    the key must travel on each request, and one tenant's key never rides on another's."""
    route = router.get("/credits").mock(return_value=json_response(200, "credits.json"))
    other_key = "sk-or-v1-" + "f" * 60 + "aaaa"
    with OpenRouterClient(KEY, base_url=BASE) as first, OpenRouterClient(other_key, base_url=BASE) as second:
        assert first._http is second._http
        first.credits()
        second.credits()
        first.credits()
    sent = [call.request.headers["Authorization"] for call in route.calls]
    assert sent == [f"Bearer {KEY}", f"Bearer {other_key}", f"Bearer {KEY}"]
    with OpenRouterClient(KEY, base_url=BASE) as after_close:  # closing a client left the shared one usable
        after_close.credits()
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {KEY}"


def test_a_cookie_set_by_the_server_is_never_sent_back(router: respx.MockRouter) -> None:
    """A shared client must not carry state (a load balancer's cookie) from one tenant's call to
    another's."""
    body = example("credits.json")
    route = router.get("/credits").mock(
        return_value=httpx.Response(
            200,
            content=body,
            headers={"Content-Type": "application/json", "Set-Cookie": "__cf_bm=abc; Path=/"},
        )
    )
    with OpenRouterClient(KEY, base_url=BASE) as first:
        first.credits()
    with OpenRouterClient("sk-or-v1-" + "e" * 64, base_url=BASE) as second:
        second.credits()
    assert all("cookie" not in call.request.headers for call in route.calls)
