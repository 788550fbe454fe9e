"""The retry policy as a pure decision: (error, attempt, elapsed, deadline) → delay or None."""

from __future__ import annotations

import random

import pytest

from apps.core.http import FailureKind, OutboundHTTPError
from apps.integrations.openrouter.errors import (
    ErrorIn200Error,
    OpenRouterError,
    error_from_response,
    error_from_transport,
)
from apps.integrations.openrouter.retry import RetryPolicy


def http_error(status: int, retry_after: str | None = None, message: str = "x") -> OpenRouterError:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return error_from_response(
        status, headers, f'{{"error":{{"message":"{message}","code":{status}}}}}'.encode()
    )


def policy(**kwargs: object) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 524, 529])
def test_retryable_statuses_get_a_delay(status: int) -> None:
    delay = policy().delay(http_error(status), attempt=1, elapsed=0.0, deadline=90)
    assert delay is not None
    assert 0 <= delay <= 0.25


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 408, 413, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    assert policy().delay(http_error(status), attempt=1, elapsed=0.0, deadline=90) is None


@pytest.mark.parametrize("status", [400, 401, 402, 403])
def test_client_errors_are_not_retried_even_with_retry_after(status: int) -> None:
    assert policy().delay(http_error(status, retry_after="1"), attempt=1, elapsed=0.0) is None


@pytest.mark.parametrize(
    ("kind", "retried"),
    [
        (FailureKind.CONNECT, True),
        (FailureKind.CONNECT_TIMEOUT, True),
        (FailureKind.POOL_TIMEOUT, True),
        (FailureKind.READ_TIMEOUT, False),  # sent: may have been billed
        (FailureKind.WRITE_TIMEOUT, False),
        (FailureKind.PROTOCOL, False),
        (FailureKind.INVALID_URL, False),
        (FailureKind.REDIRECT, False),
    ],
)
def test_transport_failures_are_retried_only_when_nothing_was_sent(kind: FailureKind, retried: bool) -> None:
    error = error_from_transport(OutboundHTTPError(kind))
    assert (policy().delay(error, attempt=1, elapsed=0.0) is not None) is retried


def test_errors_in_a_200_are_never_retried() -> None:
    assert policy().delay(ErrorIn200Error(status=200), attempt=1, elapsed=0.0) is None
    assert policy().delay(http_error(200), attempt=1, elapsed=0.0) is None  # bad 200 body


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    retry = RetryPolicy(max_attempts=100, rng=random.Random(1))
    for attempt, ceiling in [
        (1, 0.25),
        (2, 0.5),
        (3, 1.0),
        (4, 2.0),
        (5, 4.0),
        (6, 8.0),
        (7, 8.0),
        (20, 8.0),
    ]:
        samples = [retry.backoff(attempt) for _ in range(300)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.9  # the whole range is used, not a fixed delay
        assert min(samples) < ceiling * 0.1


def test_backoff_is_deterministic_with_a_seeded_rng() -> None:
    assert [policy().backoff(n) for n in (1, 2, 3)] == [policy().backoff(n) for n in (1, 2, 3)]


def test_retry_after_is_honoured_exactly() -> None:
    assert policy().delay(http_error(429, retry_after="3"), attempt=1, elapsed=0.0, deadline=90) == 3.0
    assert policy().delay(http_error(503, retry_after="0"), attempt=2, elapsed=5.0, deadline=90) == 0.0


def test_retry_after_beyond_the_cap_is_still_honoured_when_it_fits_the_deadline() -> None:
    assert policy().delay(http_error(429, retry_after="20"), attempt=1, elapsed=0.0, deadline=90) == 20.0


def test_retry_after_past_the_deadline_gives_up() -> None:
    assert policy().delay(http_error(429, retry_after="30"), attempt=1, elapsed=70.0, deadline=90) is None


def test_retry_after_ending_exactly_at_the_deadline_is_allowed() -> None:
    assert policy().delay(http_error(429, retry_after="20"), attempt=1, elapsed=70.0, deadline=90) == 20.0


class HighestRandom(random.Random):
    """Always draws the top of the range, so the jittered wait is its ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_that_would_pass_the_deadline_gives_up() -> None:
    retry = RetryPolicy(rng=HighestRandom())
    error = http_error(502)
    assert retry.delay(error, attempt=3, elapsed=89.0, deadline=90) == 1.0  # ends exactly at the deadline
    assert retry.delay(error, attempt=3, elapsed=89.5, deadline=90) is None


def test_no_sleep_once_the_deadline_has_passed() -> None:
    assert policy().delay(http_error(503), attempt=1, elapsed=91.0, deadline=90) is None


def test_max_attempts_counts_every_attempt() -> None:
    retry = policy()  # default 4
    error = http_error(429, retry_after="1")
    assert [retry.delay(error, attempt=n, elapsed=0.0) for n in (1, 2, 3, 4)] == [1.0, 1.0, 1.0, None]


def test_max_attempts_is_configurable() -> None:
    error = http_error(502)
    assert policy(max_attempts=1).delay(error, attempt=1, elapsed=0.0) is None
    assert policy(max_attempts=2).delay(error, attempt=1, elapsed=0.0) is not None
    assert policy(max_attempts=2).delay(error, attempt=2, elapsed=0.0) is None


def test_generation_not_found_is_retried_only_when_asked() -> None:
    error = http_error(404, message="Generation not found")
    assert policy().delay(error, attempt=1, elapsed=0.0, deadline=30) is None
    assert policy().delay(error, attempt=1, elapsed=0.0, deadline=30, retry_not_found=True) is not None
    assert policy().delay(error, attempt=6, elapsed=0.0, deadline=30, retry_not_found=True) is not None
    assert policy().delay(error, attempt=12, elapsed=0.0, deadline=30, retry_not_found=True) is None


def test_other_404s_are_not_retried_even_for_generation() -> None:
    error = http_error(404, message="No endpoints found for x.")
    assert policy().delay(error, attempt=1, elapsed=0.0, retry_not_found=True) is None


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"base": -1.0}, {"cap": -1.0}])
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_defaults() -> None:
    retry = RetryPolicy()
    assert (retry.max_attempts, retry.base, retry.cap) == (4, 0.25, 8.0)
    assert isinstance(retry.rng, random.Random)
