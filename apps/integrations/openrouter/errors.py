"""One exception hierarchy for everything that can go wrong talking to OpenRouter.

Every failure is an :class:`OpenRouterError` whose ``code`` (an :class:`ErrorCode`) names a
cause a user can act on. ``user_message`` is our own translatable text (never the key, never
upstream HTML); ``upstream_message`` is OpenRouter's text, redacted and truncated, for logs.
:func:`error_from_response` maps an HTTP response to the right exception; it is used for live
responses and for the recorded examples alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from apps.core.http import FailureKind, OutboundHTTPError

from .schemas import Usage
from .wire import (
    as_dict,
    clean_message,
    decode_error_body,
    header,
    parse_reset,
    parse_retry_after,
    usage_from_body,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    INVALID_KEY = "invalid_key"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    KEY_LIMIT = "key_limit"
    MODERATION = "moderation"
    MANAGEMENT_KEY_REQUIRED = "management_key_required"
    NO_ENDPOINTS = "no_endpoints"
    NOT_FOUND = "not_found"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    PROVIDER_ERROR = "provider_error"
    UNAVAILABLE = "unavailable"
    READ_TIMEOUT = "read_timeout"
    CONNECTION = "connection"
    BAD_RESPONSE = "bad_response"
    ERROR_IN_200 = "error_in_200"


class OpenRouterError(Exception):
    """Base class. Subclasses fix ``code``, the default ``user_message`` and ``retryable``."""

    code: ErrorCode = ErrorCode.BAD_RESPONSE
    default_message: StrOrPromise = _("OpenRouter returned an error.")
    retryable: bool = False
    #: True when the request may have reached OpenRouter (False only for failures before sending).
    sent: bool = True

    def __init__(
        self,
        *,
        status: int | None = None,
        upstream_message: str = "",
        user_message: StrOrPromise | None = None,
        retry_after: float | None = None,
        usage: Usage | None = None,
        upstream_code: int | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.upstream_message = clean_message(upstream_message)
        self.user_message: StrOrPromise = user_message if user_message is not None else self.default_message
        self.retry_after = retry_after
        self.usage = usage
        self.upstream_code = upstream_code
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.attempts = attempts
        #: The generation OpenRouter announced before failing (``X-Generation-Id``), if any: a
        #: billed failure keeps it so its cost can be settled through ``/generation``.
        self.generation_id: str | None = None
        super().__init__(self._summary())

    @property
    def may_be_billed(self) -> bool:
        """True when OpenRouter may have charged for the call (settle it with ``/generation``)."""
        billed = {ErrorCode.READ_TIMEOUT, ErrorCode.ERROR_IN_200, ErrorCode.BAD_RESPONSE}
        return self.code in billed or (self.code == ErrorCode.CONNECTION and self.sent)

    def _summary(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        detail = f": {self.upstream_message}" if self.upstream_message else ""
        return f"{self.code.value} ({status}){detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, status={self.status!r}, attempts={self.attempts})"


class InvalidRequestError(OpenRouterError):
    code = ErrorCode.INVALID_REQUEST
    default_message = _(
        "OpenRouter rejected the request as invalid (for example an unknown model or a bad parameter)."
    )


class InvalidKeyError(OpenRouterError):
    code = ErrorCode.INVALID_KEY
    default_message = _(
        "OpenRouter did not accept the API key: this looks like a management key or an invalid key. "
        "Use an inference API key from https://openrouter.ai/settings/keys."
    )


class InsufficientCreditsError(OpenRouterError):
    code = ErrorCode.INSUFFICIENT_CREDITS
    default_message = _(
        "The OpenRouter account is out of credits. Add credits at https://openrouter.ai/settings/credits."
    )


class KeyLimitError(OpenRouterError):
    code = ErrorCode.KEY_LIMIT
    default_message = _(
        "This OpenRouter key has reached its spending limit. Raise it at https://openrouter.ai/settings/keys."
    )


class ModerationError(OpenRouterError):
    code = ErrorCode.MODERATION
    default_message = _("The request was blocked by OpenRouter's moderation or a guardrail.")


class ManagementKeyRequiredError(OpenRouterError):
    code = ErrorCode.MANAGEMENT_KEY_REQUIRED
    default_message = _("This needs an OpenRouter management key, but an inference key was used.")


class NoEndpointsError(OpenRouterError):
    code = ErrorCode.NO_ENDPOINTS
    default_message = _(
        "No OpenRouter provider can serve this model with the current routing or privacy settings."
    )


class NotFoundError(OpenRouterError):
    code = ErrorCode.NOT_FOUND
    default_message = _("OpenRouter could not find what was asked for.")


class GenerationNotFoundError(NotFoundError):
    """``/generation`` answers 404 for a few seconds after a completion; see ``generation()``."""

    default_message = _("OpenRouter has no record of this generation (yet).")


class UpstreamTimeoutError(OpenRouterError):
    code = ErrorCode.TIMEOUT
    default_message = _("OpenRouter timed out. Please try again later.")


class RateLimitedError(OpenRouterError):
    code = ErrorCode.RATE_LIMITED
    default_message = _("OpenRouter is rate limiting requests. Please try again shortly.")
    retryable = True

    def __init__(self, *, reset_at: dt.datetime | None = None, **kwargs: Any) -> None:
        self.reset_at = reset_at
        super().__init__(**kwargs)


class ProviderError(OpenRouterError):
    code = ErrorCode.PROVIDER_ERROR
    default_message = _("The model provider returned an error. Try again or choose another model.")
    retryable = True


class UnavailableError(OpenRouterError):
    code = ErrorCode.UNAVAILABLE
    default_message = _("OpenRouter or the model provider is temporarily unavailable.")
    retryable = True


class ReadTimeoutError(OpenRouterError):
    """We stopped waiting after sending: the request may have been processed and billed."""

    code = ErrorCode.READ_TIMEOUT
    default_message = _("OpenRouter did not answer in time. The request may still have been processed.")


class ConnectionFailedError(OpenRouterError):
    code = ErrorCode.CONNECTION
    default_message = _("Could not connect to OpenRouter.")

    def __init__(self, *, sent: bool, retryable: bool, **kwargs: Any) -> None:
        self.sent = sent
        self.retryable = retryable
        super().__init__(**kwargs)


class BadResponseError(OpenRouterError):
    code = ErrorCode.BAD_RESPONSE
    default_message = _("OpenRouter returned a response that could not be read.")


class ErrorIn200Error(OpenRouterError):
    """HTTP 200 that carries ``error`` (or a choice that finished with ``"error"``).

    ``midstream`` is True when the error arrived as a chunk of a stream that had started.
    """

    code = ErrorCode.ERROR_IN_200
    default_message = _("The model provider failed while answering.")

    def __init__(self, *, midstream: bool = False, **kwargs: Any) -> None:
        self.midstream = midstream
        super().__init__(**kwargs)


# ---------------------------------------------------------------- mapping responses


def _classify_403(message: str, metadata: Mapping[str, Any]) -> type[OpenRouterError]:
    lowered = message.lower()
    if "key limit exceeded" in lowered:
        return KeyLimitError
    if "only management" in lowered or "only provisioning" in lowered or "management key" in lowered:
        return ManagementKeyRequiredError
    return ModerationError


def _classify_404(message: str) -> type[OpenRouterError]:
    lowered = message.lower()
    if "generation" in lowered and "not found" in lowered:
        return GenerationNotFoundError
    if "no endpoints" in lowered:
        return NoEndpointsError
    return NotFoundError


def _class_for(status: int, message: str, metadata: Mapping[str, Any]) -> type[OpenRouterError]:
    simple: dict[int, type[OpenRouterError]] = {
        401: InvalidKeyError,
        402: InsufficientCreditsError,
        408: UpstreamTimeoutError,
        429: RateLimitedError,
        502: ProviderError,
    }
    if status in simple:
        return simple[status]
    if status == 403:
        return _classify_403(message, metadata)
    if status == 404:
        return _classify_404(message)
    if status >= 500:
        return UnavailableError
    if 200 <= status < 300:
        return ErrorIn200Error
    return InvalidRequestError


def _user_message(cls: type[OpenRouterError], message: str) -> StrOrPromise | None:
    """A more specific text for the variants a user handles differently; None = the default."""
    lowered = message.lower()
    if cls is InvalidKeyError and ("missing authentication" in lowered or "no auth" in lowered):
        return _("No OpenRouter API key was sent.")
    if cls is InsufficientCreditsError and "max_tokens" in lowered:
        return _(
            "The OpenRouter credits (or this key's limit) cannot cover this request's max_tokens. "
            "Lower max_tokens or add credits."
        )
    if cls in (InvalidRequestError, ModerationError) and message and len(message) <= 200:
        return format_lazy("{base} ({detail})", base=cls.default_message, detail=clean_message(message))
    return None


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> OpenRouterError:
    """Map an OpenRouter HTTP response (status, headers, raw body) to the matching exception.

    A 2xx whose body carries ``error`` gives :class:`ErrorIn200Error`; a 2xx with any other body
    that cannot be used gives :class:`BadResponseError`. Error codes may be numbers or strings.
    """
    error, upstream_message = decode_error_body(body)
    if error is None and 200 <= status < 300:
        return BadResponseError(status=status, upstream_message=upstream_message)
    error = error or {}
    message = str(error.get("message") or "")
    metadata = as_dict(error.get("metadata"))
    cls = _class_for(status, message, metadata)
    kwargs: dict[str, Any] = {
        "status": status,
        "upstream_message": upstream_message,
        "user_message": _user_message(cls, message),
        "upstream_code": error.get("code"),
        "metadata": metadata,
        "retry_after": _retry_after(headers, metadata),
    }
    if cls is ErrorIn200Error:
        kwargs["usage"] = usage_from_body(body)
    if cls is RateLimitedError:
        embedded = as_dict(metadata.get("headers"))
        reset = header(headers, "X-RateLimit-Reset") or header(embedded, "X-RateLimit-Reset")
        kwargs["reset_at"] = parse_reset(reset)
    return cls(**kwargs)


def _retry_after(headers: Mapping[str, str], metadata: Mapping[str, Any]) -> float | None:
    from_header = parse_retry_after(header(headers, "Retry-After"))
    if from_header is not None:
        return from_header
    seconds = metadata.get("retry_after_seconds")
    return parse_retry_after(str(seconds)) if seconds is not None else None


def error_from_chunk(error: Mapping[str, Any] | None, usage: Usage | None) -> ErrorIn200Error:
    """A mid-stream error chunk (``finish_reason: "error"``), with any usage reported so far."""
    error = error or {}
    metadata = as_dict(error.get("metadata"))
    return ErrorIn200Error(
        status=200,
        upstream_message=str(error.get("message") or "stream finished with an error"),
        upstream_code=error.get("code"),
        metadata=metadata,
        usage=usage,
        midstream=True,
    )


def error_from_transport(exc: OutboundHTTPError) -> OpenRouterError:
    """A failure below HTTP. Only failures before sending (``exc.sent`` False) are retryable."""
    detail = f"{exc.kind.value}: {exc}"
    if exc.kind in (FailureKind.READ_TIMEOUT, FailureKind.WRITE_TIMEOUT):
        return ReadTimeoutError(upstream_message=detail)
    if exc.kind == FailureKind.REDIRECT:
        return BadResponseError(upstream_message=detail)
    retryable = not exc.sent and exc.kind != FailureKind.INVALID_URL
    return ConnectionFailedError(sent=exc.sent, retryable=retryable, upstream_message=detail)
