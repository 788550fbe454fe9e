"""The client against the in-process emulator: every endpoint, fault and retry rule.

Each test counts what the emulator received (``emulator.requests``) and billed (``emulator.generations``),
so "retried", "not retried" and "one logical call" are asserted on the wire, not inferred.
Time is fake: the client's sleep advances both its monotonic clock and the emulator's clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from apps.core import http as core_http
from apps.emulator import Account, Emulator
from apps.integrations.openrouter import (
    BadResponseError,
    ConnectionFailedError,
    ErrorIn200Error,
    GenerationNotFoundError,
    InsufficientCreditsError,
    InvalidKeyError,
    InvalidRequestError,
    KeyLimitError,
    ManagementKeyRequiredError,
    NoEndpointsError,
    NotFoundError,
    OpenRouterClient,
    ProviderError,
    RateLimitedError,
    ReadTimeoutError,
    RetryPolicy,
    UnavailableError,
    UpstreamTimeoutError,
)

BASE = "http://openrouter.test/api/v1"
MODEL = "openai/gpt-4o-mini"
CHAT: dict[str, Any] = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "What is the capital of France?"}],
}
START = dt.datetime(2026, 8, 22, 12, 0, tzinfo=dt.UTC)


class FakeTime:
    """One fake timeline for the client (monotonic seconds) and the emulator (UTC datetime)."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.elapsed

    def utcnow(self) -> dt.datetime:
        return START + dt.timedelta(seconds=self.elapsed)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds

    def advance(self, **delta: float) -> None:
        self.elapsed += dt.timedelta(**delta).total_seconds()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_emulator(fake_time: FakeTime, **options: Any) -> Emulator:
    return Emulator(
        clock=fake_time.utcnow, **{"generation_delay_seconds": 0.0, "credits_mode": "strict", **options}
    )


@pytest.fixture
def emulator_clock(fake_time: FakeTime) -> Any:
    return fake_time.utcnow


def connect(key: str, fake_time: FakeTime, **options: Any) -> OpenRouterClient:
    return OpenRouterClient(
        key,
        base_url=BASE,
        sleep=fake_time.sleep,
        clock=fake_time.monotonic,
        **{"retry": RetryPolicy(rng=random.Random(11)), **options},
    )


@pytest.fixture
def client(inference_key: str, fake_time: FakeTime) -> Iterator[OpenRouterClient]:
    with connect(
        inference_key, fake_time, app_url="https://app.example.com/", app_title="Acme AI"
    ) as instance:
        yield instance


@pytest.fixture
def manager(management_key: str, fake_time: FakeTime) -> Iterator[OpenRouterClient]:
    with connect(management_key, fake_time) as instance:
        yield instance


def sent(emulator: Emulator, path: str = "/chat/completions") -> int:
    return sum(1 for r in emulator.requests if r.path == path)


# ------------------------------------------------------------------ chat


def test_chat_returns_the_billed_usage_and_sends_one_request(
    emulator: Emulator, client: OpenRouterClient, inference_key: str
) -> None:
    result = client.chat(CHAT)
    assert result.content
    assert result.attempts == 1
    assert sent(emulator) == 1
    [generation] = emulator.generations
    assert result.generation_id == generation.id
    assert result.usage is not None
    assert result.usage.cost == generation.cost
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (
        generation.prompt_tokens,
        generation.completion_tokens,
    )
    [request] = emulator.requests
    assert request.key_hash == emulator.key_hash(inference_key)
    assert request.body["stream"] is False
    assert request.body["messages"] == CHAT["messages"]


def test_chat_sends_attribution_headers_and_no_key_is_recorded(
    emulator: Emulator, client: OpenRouterClient, inference_key: str
) -> None:
    client.chat(CHAT)
    headers = {k.lower(): v for k, v in emulator.requests[0].headers.items()}
    assert headers["http-referer"] == "https://app.example.com/"
    assert headers["x-openrouter-title"] == "Acme AI"
    assert inference_key not in str(emulator.requests[0])


def test_reported_cost_equals_the_catalogue_arithmetic(emulator: Emulator, client: OpenRouterClient) -> None:
    usage = client.chat(CHAT).usage
    assert usage is not None
    model = client.models().get(MODEL)
    assert model is not None
    assert model.cost_for(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == usage.cost


def test_chat_with_an_unknown_model_is_an_invalid_request_sent_once(
    emulator: Emulator, client: OpenRouterClient
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.chat({**CHAT, "model": "acme/not-a-model"})
    assert "acme/not-a-model is not a valid model ID" in str(caught.value.user_message)
    assert sent(emulator) == 1


def test_chat_with_a_management_key_says_so(
    emulator: Emulator, management_key: str, fake_time: FakeTime
) -> None:
    with connect(management_key, fake_time) as wrong, pytest.raises(InvalidKeyError) as caught:
        wrong.chat(CHAT)
    assert "this looks like a management key or an invalid key" in str(caught.value.user_message)
    assert caught.value.status == 401
    assert sent(emulator) == 1
    assert management_key not in str(caught.value)


def test_chat_with_an_unknown_key_is_401_sent_once(emulator: Emulator, fake_time: FakeTime) -> None:
    with connect("sk-or-v1-" + "0" * 64, fake_time) as unknown, pytest.raises(InvalidKeyError):
        unknown.chat(CHAT)
    assert sent(emulator) == 1


def test_chat_without_a_key_says_none_was_sent(emulator: Emulator, fake_time: FakeTime) -> None:
    with connect("", fake_time) as anonymous, pytest.raises(InvalidKeyError) as caught:
        anonymous.chat(CHAT)
    assert "No OpenRouter API key was sent" in str(caught.value.user_message)


def test_out_of_credits_is_402_and_not_retried(emulator: Emulator, fake_time: FakeTime) -> None:
    broke = emulator.add_account(credits=Decimal(0))
    with (
        connect(emulator.add_key(broke), fake_time) as poor,
        pytest.raises(InsufficientCreditsError) as caught,
    ):
        poor.chat(CHAT)
    assert "out of credits" in str(caught.value.user_message)
    assert sent(emulator) == 1
    assert fake_time.sleeps == []


def test_max_tokens_beyond_the_balance_is_the_preflight_402(emulator: Emulator, fake_time: FakeTime) -> None:
    small = emulator.add_account(credits=Decimal("0.0001"))
    with (
        connect(emulator.add_key(small), fake_time) as poor,
        pytest.raises(InsufficientCreditsError) as caught,
    ):
        poor.chat({**CHAT, "max_tokens": 16384})
    assert "max_tokens" in str(caught.value.user_message)
    assert sent(emulator) == 1


def test_exhausted_key_limit_is_403_key_limit(
    emulator: Emulator, account: Account, fake_time: FakeTime
) -> None:
    capped = emulator.add_key(account, limit=Decimal(0), limit_reset="monthly")
    with connect(capped, fake_time) as limited, pytest.raises(KeyLimitError) as caught:
        limited.chat(CHAT)
    assert caught.value.status == 403
    assert sent(emulator) == 1


# ------------------------------------------------------------------ streaming


def test_stream_ends_with_the_billed_usage(emulator: Emulator, client: OpenRouterClient) -> None:
    with client.chat_stream(CHAT) as stream:
        chunks = list(stream)
    [generation] = emulator.generations
    assert stream.complete
    assert chunks[-1].usage is not None
    assert stream.usage is not None
    assert stream.usage.cost == generation.cost
    assert stream.generation_id == generation.id
    assert stream.model == MODEL
    assert stream.finish_reason == "stop"
    assert stream.content
    assert (stream.attempts, sent(emulator)) == (1, 1)
    assert emulator.requests[0].body["stream"] is True


@pytest.mark.parametrize(
    "options",
    [{"usage_chunk_style": "legacy"}, {"processing_comment_midstream": True}],
    ids=["legacy-usage-chunk", "midstream-comment"],
)
def test_stream_variants_are_complete(fake_time: FakeTime, options: dict[str, Any]) -> None:
    emulator = make_emulator(fake_time, **options)
    key = emulator.add_key(emulator.add_account(credits=Decimal(10)))
    with core_http.mount(BASE, emulator.transport()), connect(key, fake_time) as c:
        stream = c.chat_stream(CHAT)
        list(stream)
    assert stream.complete
    assert stream.usage is not None
    assert stream.usage.cost == emulator.generations[0].cost


def test_closing_a_stream_cancels_it_upstream(emulator: Emulator, client: OpenRouterClient) -> None:
    stream = client.chat_stream(
        {**CHAT, "messages": [{"role": "user", "content": "Tell me a long story " * 20}]}
    )
    next(stream)
    stream.close()
    assert stream.closed
    assert not stream.complete
    [generation] = emulator.generations
    assert generation.cancelled
    assert sent(emulator) == 1


def test_stream_is_retried_only_before_its_first_byte(
    emulator: Emulator, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    emulator.inject("rate_limit", times=2, retry_after=1)
    stream = client.chat_stream(CHAT)
    list(stream)
    assert stream.complete
    assert (stream.attempts, sent(emulator)) == (3, 3)
    assert fake_time.sleeps == [1.0, 1.0]
    assert len(emulator.generations) == 1


def test_stream_midstream_error_raises_after_the_content_and_is_not_retried(
    emulator: Emulator, client: OpenRouterClient
) -> None:
    emulator.inject("midstream_error")
    stream = client.chat_stream(CHAT)
    texts: list[str] = []
    with pytest.raises(ErrorIn200Error) as caught:
        texts.extend(chunk.text for chunk in stream)
    assert "".join(texts)
    assert caught.value.midstream
    assert not stream.complete
    assert sent(emulator) == 1
    [generation] = emulator.generations
    assert generation.finish_reason == "error"  # billed for what was sent: reconcile via /generation


def test_stream_without_usage_is_incomplete_and_reconciled_from_generation(
    emulator: Emulator, client: OpenRouterClient
) -> None:
    emulator.inject("stream_no_usage")
    stream = client.chat_stream(CHAT)
    list(stream)
    assert stream.usage is None
    assert not stream.complete
    assert sent(emulator) == 1
    assert stream.generation_id is not None
    assert client.generation(stream.generation_id).total_cost == emulator.generations[0].cost


def test_stream_missing_usage_is_incomplete(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("missing_usage")
    stream = client.chat_stream(CHAT)
    list(stream)
    assert stream.done
    assert stream.usage is None
    assert not stream.complete


def test_truncated_stream_is_incomplete_not_an_exception(
    emulator: Emulator, client: OpenRouterClient
) -> None:
    emulator.inject("truncated")
    stream = client.chat_stream(CHAT)
    list(stream)
    assert not stream.complete
    assert not stream.done
    assert sent(emulator) == 1


def test_slow_trickle_stream_still_completes(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("slow_trickle", delay=0.001)
    stream = client.chat_stream(CHAT)
    list(stream)
    assert stream.complete
    assert sent(emulator) == 1


def test_stream_answered_with_an_error_body_in_a_200(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("error_200")
    with pytest.raises(ErrorIn200Error):
        client.chat_stream(CHAT)
    assert sent(emulator) == 1


def test_stream_read_timeout_is_not_retried(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("read_timeout")
    with pytest.raises(ReadTimeoutError):
        client.chat_stream(CHAT)
    assert sent(emulator) == 1


# ------------------------------------------------------------------ faults and retry rules


def test_three_429s_then_200_is_one_success_after_four_attempts(
    emulator: Emulator, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    emulator.inject("rate_limit", times=3, retry_after=1)
    result = client.chat(CHAT)
    assert result.attempts == 4
    assert sent(emulator) == 4
    assert fake_time.sleeps == [1.0, 1.0, 1.0]
    [generation] = emulator.generations  # one billed call
    assert result.usage is not None
    assert result.usage.cost == generation.cost


def test_429_beyond_the_budget_raises_with_retry_after(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("rate_limit", times=4, retry_after=2)
    with pytest.raises(RateLimitedError) as caught:
        client.chat(CHAT)
    assert (caught.value.attempts, caught.value.retry_after) == (4, 2.0)
    assert sent(emulator) == 4
    assert emulator.generations == []


def test_429_without_retry_after_uses_full_jitter(
    emulator: Emulator, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    emulator.inject("rate_limit", times=3)
    assert client.chat(CHAT).attempts == 4
    assert all(0 <= s <= c for s, c in zip(fake_time.sleeps, [0.25, 0.5, 1.0], strict=True))


def test_retry_after_past_the_deadline_gives_up(
    emulator: Emulator, inference_key: str, fake_time: FakeTime
) -> None:
    emulator.inject("rate_limit", times=4, retry_after=60)
    with connect(inference_key, fake_time, deadline=90) as c, pytest.raises(RateLimitedError) as caught:
        c.chat(CHAT)
    assert sent(emulator) == 2
    assert fake_time.sleeps == [60.0]
    assert caught.value.attempts == 2


@pytest.mark.parametrize(("status", "cls"), [(502, ProviderError), (503, UnavailableError)])
def test_5xx_then_200_is_retried(
    emulator: Emulator, client: OpenRouterClient, fake_time: FakeTime, status: int, cls: type[Exception]
) -> None:
    emulator.inject("status", status=status)
    assert client.chat(CHAT).attempts == 2
    assert sent(emulator) == 2
    assert len(fake_time.sleeps) == 1
    assert len(emulator.generations) == 1


@pytest.mark.parametrize(("status", "cls"), [(502, ProviderError), (503, UnavailableError)])
def test_persistent_5xx_exhausts_the_attempts(
    emulator: Emulator, client: OpenRouterClient, status: int, cls: type[Exception]
) -> None:
    emulator.inject("status", times=4, status=status)
    with pytest.raises(cls):
        client.chat(CHAT)
    assert sent(emulator) == 4


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, InvalidRequestError), (404, NoEndpointsError), (408, UpstreamTimeoutError)],
)
def test_non_retryable_statuses_are_sent_once(
    emulator: Emulator, client: OpenRouterClient, fake_time: FakeTime, status: int, cls: type[Exception]
) -> None:
    emulator.inject("status", status=status, retry_after=1)
    with pytest.raises(cls):
        client.chat(CHAT)
    assert sent(emulator) == 1
    assert fake_time.sleeps == []


def test_read_timeout_is_not_retried_and_may_be_billed(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("read_timeout")
    with pytest.raises(ReadTimeoutError) as caught:
        client.chat(CHAT)
    assert caught.value.may_be_billed
    assert sent(emulator) == 1
    [generation] = emulator.generations  # the emulator processed (and billed) it
    assert client.generation(generation.id).total_cost == generation.cost


@pytest.mark.parametrize(
    ("kind", "params"),
    [("non_json", {}), ("truncated", {}), ("html", {"status": 200})],
)
def test_unreadable_200_is_a_bad_response_sent_once(
    emulator: Emulator, client: OpenRouterClient, kind: str, params: dict[str, Any]
) -> None:
    emulator.inject(kind, **params)
    with pytest.raises(BadResponseError) as caught:
        client.chat(CHAT)
    assert "<" not in str(caught.value.user_message)
    assert sent(emulator) == 1


def test_html_502_from_the_edge_is_retried(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("html")
    assert client.chat(CHAT).attempts == 2
    assert sent(emulator) == 2


def test_html_503_every_time_is_unavailable(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("html", times=4, status=503)
    with pytest.raises(UnavailableError) as caught:
        client.chat(CHAT)
    assert "<" not in caught.value.upstream_message
    assert sent(emulator) == 4


def test_error_in_a_200_is_a_failure_sent_once(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("error_200")
    with pytest.raises(ErrorIn200Error) as caught:
        client.chat(CHAT)
    assert caught.value.status == 200
    assert sent(emulator) == 1


def test_midstream_error_on_a_non_streaming_call_is_a_failure(
    emulator: Emulator, client: OpenRouterClient
) -> None:
    emulator.inject("midstream_error")
    with pytest.raises(ErrorIn200Error):
        client.chat(CHAT)
    assert sent(emulator) == 1


def test_missing_usage_is_none_not_zero(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("missing_usage")
    result = client.chat(CHAT)
    assert result.usage is None
    assert result.cost is None
    assert result.generation_id is not None
    assert client.generation(result.generation_id).total_cost == emulator.generations[0].cost


def test_slow_trickle_completes(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("slow_trickle", delay=0.001)
    result = client.chat(CHAT)
    assert result.usage is not None
    assert sent(emulator) == 1


class FailFirstConnects(httpx.BaseTransport):
    """Refuses the first ``failures`` connections, then hands requests to the emulator."""

    def __init__(self, inner: httpx.BaseTransport, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures:
            self.failures -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


def test_connection_failures_before_sending_are_retried(
    emulator: Emulator, inference_key: str, fake_time: FakeTime
) -> None:
    with (
        core_http.mount(BASE, FailFirstConnects(emulator.transport(), failures=2)),
        connect(inference_key, fake_time) as c,
    ):
        assert c.chat(CHAT).attempts == 3
    assert sent(emulator) == 1
    assert len(fake_time.sleeps) == 2


def test_connection_failures_beyond_the_budget(
    emulator: Emulator, inference_key: str, fake_time: FakeTime
) -> None:
    with (
        core_http.mount(BASE, FailFirstConnects(emulator.transport(), failures=9)),
        connect(inference_key, fake_time) as c,
        pytest.raises(ConnectionFailedError) as caught,
    ):
        c.chat(CHAT)
    assert (caught.value.sent, caught.value.attempts) == (False, 4)
    assert sent(emulator) == 0


def test_retries_are_logged_without_the_key(
    emulator: Emulator, client: OpenRouterClient, inference_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.inject("rate_limit", times=1, retry_after=1)
    with caplog.at_level(logging.DEBUG):
        client.chat(CHAT)
    assert "rate_limited" in caplog.text
    assert inference_key not in caplog.text


# ------------------------------------------------------------------ account endpoints


def test_credits_with_a_management_key(
    emulator: Emulator, client: OpenRouterClient, manager: OpenRouterClient
) -> None:
    client.chat(CHAT)
    credits = manager.credits()
    assert credits.total_credits == Decimal(100)
    assert credits.total_usage == emulator.generations[0].cost
    assert sent(emulator, "/credits") == 1


def test_credits_with_an_inference_key_needs_a_management_key(
    emulator: Emulator, client: OpenRouterClient
) -> None:
    with pytest.raises(ManagementKeyRequiredError):
        client.credits()
    assert sent(emulator, "/credits") == 1


@pytest.mark.parametrize(("mode", "total"), [("legacy", Decimal(100)), ("zeros", Decimal(0))])
def test_credits_modes_for_an_inference_key(fake_time: FakeTime, mode: str, total: Decimal) -> None:
    emulator = make_emulator(fake_time, credits_mode=mode)
    key = emulator.add_key(emulator.add_account(credits=Decimal(100)))
    with core_http.mount(BASE, emulator.transport()), connect(key, fake_time) as c:
        assert c.credits().total_credits == total


def test_key_describes_inference_and_management_keys(
    emulator: Emulator, client: OpenRouterClient, manager: OpenRouterClient
) -> None:
    client.chat(CHAT)
    info = client.key()
    assert info.is_management_key is False
    assert info.usage == emulator.generations[0].cost
    assert manager.key().is_management_key is True
    assert sent(emulator, "/key") == 2


def test_key_falls_back_to_the_legacy_path_on_404(emulator: Emulator, client: OpenRouterClient) -> None:
    emulator.inject("status", status=404, path="/key")
    assert client.key().is_management_key is False
    assert (sent(emulator, "/key"), sent(emulator, "/auth/key")) == (1, 1)


def test_models_is_public_and_filters_pass_through(emulator: Emulator, fake_time: FakeTime) -> None:
    with connect("sk-or-v1-not-a-real-key", fake_time) as anyone:
        everything = anyone.models()
        page = anyone.models(offset=0, limit=3)
        tools = anyone.models(supported_parameters=["tools"])
    assert len(everything.data) == everything.total_count
    assert len(page.data) == 3
    assert page.next is not None
    assert all("tools" in m.supported_parameters for m in tools.data)
    assert 0 < len(tools.data) <= len(everything.data)
    assert [r.query for r in emulator.requests if r.path == "/models"][2] == {"supported_parameters": "tools"}


def test_activity_lists_completed_days(
    emulator: Emulator,
    client: OpenRouterClient,
    manager: OpenRouterClient,
    fake_time: FakeTime,
    inference_key: str,
) -> None:
    result = client.chat(CHAT)
    assert manager.activity() == []  # today is not a completed day
    fake_time.advance(days=1)
    [row] = manager.activity()
    assert row.date == dt.date(2026, 8, 22)
    assert row.model == MODEL
    assert row.requests == 1
    assert result.usage is not None
    assert row.usage == result.usage.cost
    assert row.prompt_tokens == result.usage.prompt_tokens
    assert manager.activity(date=dt.date(2026, 8, 22), api_key_hash=emulator.key_hash(inference_key)) == [row]
    assert manager.activity(api_key_hash="f" * 64) == []


def test_activity_date_formats(fake_time: FakeTime) -> None:
    emulator = make_emulator(fake_time, activity_date_format="date")
    account = emulator.add_account(credits=Decimal(10))
    key, management = emulator.add_key(account), emulator.add_key(account, kind="management")
    with (
        core_http.mount(BASE, emulator.transport()),
        connect(key, fake_time) as c,
        connect(management, fake_time) as m,
    ):
        c.chat(CHAT)
        fake_time.advance(days=1)
        assert [r.date for r in m.activity()] == [dt.date(2026, 8, 22)]


def test_activity_rejects_a_date_outside_the_window(emulator: Emulator, manager: OpenRouterClient) -> None:
    with pytest.raises(InvalidRequestError):
        manager.activity(date="2020-01-01")
    assert sent(emulator, "/activity") == 1


def test_activity_with_an_inference_key_needs_a_management_key(client: OpenRouterClient) -> None:
    with pytest.raises(ManagementKeyRequiredError):
        client.activity()


def test_generation_waits_out_the_not_found_delay(fake_time: FakeTime) -> None:
    emulator = make_emulator(fake_time, generation_delay_seconds=3.0)
    key = emulator.add_key(emulator.add_account(credits=Decimal(10)))
    with core_http.mount(BASE, emulator.transport()), connect(key, fake_time) as c:
        result = c.chat(CHAT)
        assert result.generation_id is not None
        generation = c.generation(result.generation_id)
    assert generation.total_cost == emulator.generations[0].cost
    assert generation.id == result.generation_id
    assert sent(emulator, "/generation") >= 2  # it 404ed at first, then appeared
    assert fake_time.elapsed >= 3.0


def test_generation_that_never_appears_gives_up_at_the_deadline(
    emulator: Emulator, client: OpenRouterClient, fake_time: FakeTime
) -> None:
    with pytest.raises(GenerationNotFoundError) as caught:
        client.generation("gen-1786988078-NGfmEgJ5Z2MYGfqmExLw", deadline=10)
    assert fake_time.elapsed <= 10
    assert caught.value.attempts == sent(emulator, "/generation") > 1


# ------------------------------------------------------------------ key management


def test_key_management_lifecycle(emulator: Emulator, manager: OpenRouterClient, fake_time: FakeTime) -> None:
    created = manager.key_create("customer-globex", limit=Decimal(50), limit_reset="monthly")
    plaintext = created.key.get_secret_value()
    assert plaintext.startswith("sk-or-v1-")
    assert plaintext not in repr(created)
    key_hash = created.data.hash
    assert (created.data.name, created.data.limit, created.data.limit_reset) == (
        "customer-globex",
        Decimal(50),
        "monthly",
    )

    with connect(plaintext, fake_time) as customer:
        customer.chat(CHAT)
    assert key_hash in [k.hash for k in manager.keys_list()]
    assert manager.key_get(key_hash).usage == emulator.generations[-1].cost

    updated = manager.key_update(key_hash, name="customer-globex-prod", disabled=True)
    assert (updated.name, updated.disabled) == ("customer-globex-prod", True)
    assert key_hash not in [k.hash for k in manager.keys_list()]
    assert key_hash in [k.hash for k in manager.keys_list(include_disabled=True)]
    with connect(plaintext, fake_time) as customer, pytest.raises(InvalidKeyError):
        customer.chat(CHAT)

    assert manager.key_delete(key_hash) is True
    with pytest.raises(NotFoundError):
        manager.key_get(key_hash)
    assert [(r.method, r.path) for r in emulator.requests if r.path.startswith("/keys/")] == [
        ("GET", f"/keys/{key_hash}"),
        ("PATCH", f"/keys/{key_hash}"),
        ("DELETE", f"/keys/{key_hash}"),
        ("GET", f"/keys/{key_hash}"),
    ]


def test_keys_list_pages_with_offset(emulator: Emulator, account: Account, manager: OpenRouterClient) -> None:
    for index in range(3):
        emulator.add_key(account, name=f"k{index}")
    everything = manager.keys_list()
    assert manager.keys_list(offset=1) == everything[1:]


def test_key_management_with_an_inference_key(emulator: Emulator, client: OpenRouterClient) -> None:
    with pytest.raises(ManagementKeyRequiredError):
        client.keys_list()
    with pytest.raises(ManagementKeyRequiredError):
        client.key_create("x")
    assert sent(emulator, "/keys") == 2


def test_unknown_key_hash_is_not_found(manager: OpenRouterClient) -> None:
    with pytest.raises(NotFoundError):
        manager.key_get("a" * 64)


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/credits", lambda c: c.credits()),
        ("/key", lambda c: c.key()),
        ("/models", lambda c: c.models()),
        ("/activity", lambda c: c.activity()),
        ("/keys", lambda c: c.keys_list()),
    ],
)
def test_other_endpoints_retry_429_then_succeed(
    emulator: Emulator, manager: OpenRouterClient, fake_time: FakeTime, path: str, call: Any
) -> None:
    emulator.inject("rate_limit", times=2, retry_after=1, path=path)
    call(manager)
    assert sent(emulator, path) == 3
    assert fake_time.sleeps == [1.0, 1.0]


@pytest.mark.parametrize("kind", ["non_json", "html", "error_200", "truncated"])
def test_other_endpoints_with_unreadable_bodies(
    emulator: Emulator, manager: OpenRouterClient, kind: str
) -> None:
    params: dict[str, Any] = {"status": 200} if kind == "html" else {}
    emulator.inject(kind, path="/credits", **params)
    with pytest.raises((BadResponseError, ErrorIn200Error)):
        manager.credits()
    assert sent(emulator, "/credits") == 1


def test_other_endpoints_read_timeout_is_not_retried(emulator: Emulator, manager: OpenRouterClient) -> None:
    emulator.inject("read_timeout", path="/keys")
    with pytest.raises(ReadTimeoutError):
        manager.keys_list()
    assert sent(emulator, "/keys") == 1
