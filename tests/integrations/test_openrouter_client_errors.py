"""OpenRouter's error responses map to one exception hierarchy with causes a user can act on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from apps.core.http import FailureKind, OutboundHTTPError
from apps.integrations.openrouter.errors import (
    BadResponseError,
    ConnectionFailedError,
    ErrorCode,
    ErrorIn200Error,
    GenerationNotFoundError,
    InsufficientCreditsError,
    InvalidKeyError,
    InvalidRequestError,
    KeyLimitError,
    ManagementKeyRequiredError,
    ModerationError,
    NoEndpointsError,
    NotFoundError,
    OpenRouterError,
    ProviderError,
    RateLimitedError,
    ReadTimeoutError,
    UnavailableError,
    UpstreamTimeoutError,
    error_from_chunk,
    error_from_response,
    error_from_transport,
    parse_reset,
    parse_retry_after,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "openrouter" / "examples"
KEY = "sk-or-v1-" + "ab12" * 16


def from_example(name: str, status: int, headers: dict[str, str] | None = None) -> OpenRouterError:
    return error_from_response(status, headers or {}, (EXAMPLES / name).read_bytes())


def read_http_example(name: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a recorded raw HTTP response (notes after the body ignored)."""
    head, _, rest = (EXAMPLES / name).read_text().partition("\n\n")
    status_line, *header_lines = head.splitlines()
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, rest.splitlines()[0].encode()


@pytest.mark.parametrize(
    ("name", "status", "cls", "code", "retryable"),
    [
        ("error_400_invalid_model.json", 400, InvalidRequestError, ErrorCode.INVALID_REQUEST, False),
        ("error_401.json", 401, InvalidKeyError, ErrorCode.INVALID_KEY, False),
        ("error_401_missing_auth.json", 401, InvalidKeyError, ErrorCode.INVALID_KEY, False),
        ("error_402.json", 402, InsufficientCreditsError, ErrorCode.INSUFFICIENT_CREDITS, False),
        ("error_402_max_tokens.json", 402, InsufficientCreditsError, ErrorCode.INSUFFICIENT_CREDITS, False),
        ("error_403_key_limit.json", 403, KeyLimitError, ErrorCode.KEY_LIMIT, False),
        (
            "error_403_management_only.json",
            403,
            ManagementKeyRequiredError,
            ErrorCode.MANAGEMENT_KEY_REQUIRED,
            False,
        ),
        ("error_404_generation.json", 404, GenerationNotFoundError, ErrorCode.NOT_FOUND, False),
        ("error_404_no_endpoints.json", 404, NoEndpointsError, ErrorCode.NO_ENDPOINTS, False),
        ("error_408.json", 408, UpstreamTimeoutError, ErrorCode.TIMEOUT, False),
        ("error_429.json", 429, RateLimitedError, ErrorCode.RATE_LIMITED, True),
        ("error_429_per_minute.json", 429, RateLimitedError, ErrorCode.RATE_LIMITED, True),
        ("error_429_upstream.json", 429, RateLimitedError, ErrorCode.RATE_LIMITED, True),
        ("error_502.json", 502, ProviderError, ErrorCode.PROVIDER_ERROR, True),
        ("error_503.json", 503, UnavailableError, ErrorCode.UNAVAILABLE, True),
    ],
)
def test_every_error_example_maps_to_its_cause(
    name: str, status: int, cls: type[OpenRouterError], code: ErrorCode, retryable: bool
) -> None:
    error = from_example(name, status)
    assert type(error) is cls
    assert error.code == code
    assert error.status == status
    assert error.upstream_code == status
    assert error.retryable is retryable
    assert error.upstream_message
    assert str(error.user_message)
    assert error.attempts == 1
    assert error.usage is None


def test_every_example_file_is_covered_by_a_test() -> None:
    here = Path(__file__).parent
    tested = (
        "".join(p.read_text() for p in here.glob("test_openrouter_*.py")) + (here / "test_sse.py").read_text()
    )
    missing = [p.name for p in EXAMPLES.iterdir() if p.name not in tested]
    assert missing == []


def test_429_http_example_gives_the_reset_time_from_epoch_milliseconds() -> None:
    status, headers, body = read_http_example("error_429_http.txt")
    error = error_from_response(status, headers, body)
    assert isinstance(error, RateLimitedError)
    assert error.reset_at == dt.datetime(2026, 8, 23, tzinfo=dt.UTC)
    assert error.retry_after is None  # the recording has no Retry-After header
    assert error.metadata["headers"]["X-RateLimit-Remaining"] == "0"
    assert "free-models-per-day" in error.upstream_message


def test_429_with_retry_after_header_parses_seconds() -> None:
    status, headers, body = read_http_example("error_429_http.txt")
    error = error_from_response(status, {**headers, "Retry-After": "7"}, body)
    assert error.retry_after == 7.0


def test_429_reset_is_read_from_the_body_when_headers_lack_it() -> None:
    error = from_example("error_429_per_minute.json", 429)
    assert isinstance(error, RateLimitedError)
    assert error.reset_at == dt.datetime(2026, 8, 22, 15, 28, tzinfo=dt.UTC)


def test_upstream_429_keeps_the_provider_message_for_logs() -> None:
    error = from_example("error_429_upstream.json", 429)
    assert "temporarily rate-limited upstream" in error.upstream_message
    assert error.metadata["provider_name"] == "Chutes"


def test_upstream_429_retry_after_seconds_in_metadata_is_used() -> None:
    body = b'{"error":{"message":"Provider returned error","code":429,"metadata":{"retry_after_seconds":3}}}'
    assert error_from_response(429, {}, body).retry_after == 3.0


def test_401_says_it_may_be_a_management_key() -> None:
    error = from_example("error_401.json", 401)
    assert "this looks like a management key or an invalid key" in str(error.user_message)


def test_401_missing_auth_says_no_key_was_sent() -> None:
    assert "No OpenRouter API key was sent" in str(
        from_example("error_401_missing_auth.json", 401).user_message
    )


def test_402_variants_have_different_user_messages() -> None:
    broke = str(from_example("error_402.json", 402).user_message)
    preflight = str(from_example("error_402_max_tokens.json", 402).user_message)
    assert "out of credits" in broke
    assert "max_tokens" in preflight


def test_400_user_message_names_the_problem() -> None:
    assert "acme/not-a-model is not a valid model ID" in str(
        from_example("error_400_invalid_model.json", 400).user_message
    )


@pytest.mark.parametrize(
    "message",
    [
        "Only provisioning keys can fetch activity for an account",
        "Only provisioning keys can fetch credits",
        "Only management keys can perform this operation",
    ],
)
def test_403_management_only_in_both_eras(message: str) -> None:
    body = f'{{"error":{{"code":403,"message":"{message}"}}}}'.encode()
    assert isinstance(error_from_response(403, {}, body), ManagementKeyRequiredError)


def test_403_moderation() -> None:
    body = (
        b'{"error":{"code":403,"message":"Request blocked: prompt injection patterns detected",'
        b'"metadata":{"reasons":["prompt_injection"],"flagged_input":"ignore all","provider_name":null}}}'
    )
    error = error_from_response(403, {}, body)
    assert isinstance(error, ModerationError)
    assert error.code == ErrorCode.MODERATION
    assert "prompt injection" in str(error.user_message)


def test_403_key_limit_older_text() -> None:
    body = b'{"error":{"code":403,"message":"Key limit exceeded (total limit). Manage it using https://openrouter.ai/keys"}}'
    assert isinstance(error_from_response(403, {}, body), KeyLimitError)


def test_404_generation_with_id_in_message() -> None:
    body = b'{"error":{"code":404,"message":"Generation gen-1-abc not found"}}'
    assert isinstance(error_from_response(404, {}, body), GenerationNotFoundError)


def test_404_html_page_is_not_found_without_html_in_messages() -> None:
    html = b"<!DOCTYPE html><html><body><h1>404</h1><script>x()</script></body></html>"
    error = error_from_response(404, {"content-type": "text/html"}, html)
    assert type(error) is NotFoundError
    assert "<" not in str(error.user_message)
    assert "<" not in error.upstream_message


@pytest.mark.parametrize("status", [500, 503, 524, 529])
def test_5xx_are_unavailable_and_retryable(status: int) -> None:
    error = error_from_response(status, {"Retry-After": "2"}, b'{"error":{"message":"x","code":%d}}' % status)
    assert isinstance(error, UnavailableError)
    assert error.retryable
    assert error.retry_after == 2.0


def test_5xx_html_from_the_edge_is_still_classified_by_status() -> None:
    error = error_from_response(502, {}, b"<html><title>502 Bad Gateway</title></html>")
    assert isinstance(error, ProviderError)
    assert error.retryable


@pytest.mark.parametrize("status", [413, 422, 405])
def test_other_4xx_are_invalid_requests(status: int) -> None:
    assert isinstance(
        error_from_response(status, {}, b'{"error":{"message":"no","code":1}}'), InvalidRequestError
    )


def test_string_error_code_is_accepted() -> None:
    error = error_from_response(502, {}, b'{"error":{"message":"boom","code":"server_error"}}')
    assert isinstance(error, ProviderError)
    assert error.upstream_code == "server_error"


def test_200_with_error_body_is_a_failure_with_usage() -> None:
    body = b'{"error":{"message":"Provider disconnected","code":502},"usage":{"prompt_tokens":5,"completion_tokens":1,"cost":0.000002}}'
    error = error_from_response(200, {}, body)
    assert isinstance(error, ErrorIn200Error)
    assert error.code == ErrorCode.ERROR_IN_200
    assert error.retryable is False
    assert error.may_be_billed
    assert error.usage is not None
    assert error.usage.cost == Decimal("0.000002")


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b'{"id":"gen-1","choi', b"", b"not json at all", b"[1,2]"],
)
def test_unreadable_200_is_a_bad_response(body: bytes) -> None:
    error = error_from_response(200, {}, body)
    assert isinstance(error, BadResponseError)
    assert error.code == ErrorCode.BAD_RESPONSE
    assert not error.retryable


def test_midstream_error_chunk_maps_to_error_in_200_with_usage() -> None:
    from apps.integrations.openrouter.schemas import Usage

    usage = Usage(prompt_tokens=3, completion_tokens=2)
    error = error_from_chunk({"code": 502, "message": "Provider disconnected unexpectedly"}, usage)
    assert isinstance(error, ErrorIn200Error)
    assert error.midstream
    assert error.usage is usage
    assert error.upstream_code == 502


@pytest.mark.parametrize(
    ("kind", "cls", "sent", "retryable"),
    [
        (FailureKind.CONNECT, ConnectionFailedError, False, True),
        (FailureKind.CONNECT_TIMEOUT, ConnectionFailedError, False, True),
        (FailureKind.POOL_TIMEOUT, ConnectionFailedError, False, True),
        (FailureKind.READ_TIMEOUT, ReadTimeoutError, True, False),
        (FailureKind.WRITE_TIMEOUT, ReadTimeoutError, True, False),
        (FailureKind.PROTOCOL, ConnectionFailedError, True, False),
        (FailureKind.INVALID_URL, ConnectionFailedError, False, False),
        (FailureKind.REDIRECT, BadResponseError, True, False),
    ],
)
def test_transport_failures(
    kind: FailureKind, cls: type[OpenRouterError], sent: bool, retryable: bool
) -> None:
    error = error_from_transport(OutboundHTTPError(kind))
    assert type(error) is cls
    assert (error.sent, error.retryable, error.status) == (sent, retryable, None)


def test_read_timeout_code_and_billing_flag() -> None:
    error = error_from_transport(OutboundHTTPError(FailureKind.READ_TIMEOUT))
    assert error.code == ErrorCode.READ_TIMEOUT
    assert error.may_be_billed
    assert error_from_transport(OutboundHTTPError(FailureKind.CONNECT)).code == ErrorCode.CONNECTION


def test_a_key_in_an_upstream_message_is_redacted_everywhere() -> None:
    body = f'{{"error":{{"message":"bad key {KEY} given","code":400}}}}'.encode()
    error = error_from_response(400, {}, body)
    for text in (str(error), repr(error), error.upstream_message, str(error.user_message)):
        assert KEY not in text
        assert "ab12ab12" not in text


def test_upstream_message_is_truncated() -> None:
    body = ('{"error":{"message":"' + "x" * 5000 + '","code":502}}').encode()
    assert len(error_from_response(502, {}, body).upstream_message) <= 500


def test_every_code_has_a_distinct_value() -> None:
    assert {c.value for c in ErrorCode} == {
        "invalid_request",
        "invalid_key",
        "insufficient_credits",
        "key_limit",
        "moderation",
        "management_key_required",
        "no_endpoints",
        "not_found",
        "timeout",
        "rate_limited",
        "provider_error",
        "unavailable",
        "read_timeout",
        "connection",
        "bad_response",
        "error_in_200",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = dt.datetime(2026, 8, 22, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Sat, 22 Aug 2026 12:00:30 GMT", now=now) == 30.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1787443200000", dt.datetime(2026, 8, 23, tzinfo=dt.UTC)),
        (1787443200, dt.datetime(2026, 8, 23, tzinfo=dt.UTC)),  # seconds tolerated
        ("nope", None),
        (None, None),
    ],
)
def test_parse_reset(value: object, expected: dt.datetime | None) -> None:
    assert parse_reset(value) == expected
