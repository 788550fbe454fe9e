"""A pure, typed OpenRouter client: credentials and arguments in, schemas out, our errors raised.

No ORM, no Celery, no request objects. Every request leaves through :mod:`apps.core.http`; every
failure is an :class:`~.errors.OpenRouterError`; retries follow :mod:`.retry` (read its
docstring). The key is sent only in the ``Authorization`` header and is never stored on the
client, shown in a repr, an exception or a log line (``repr`` shows its last 4 characters).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from apps.core import http as core_http

from .encoding import encode_json
from .errors import (
    BadResponseError,
    ErrorIn200Error,
    NotFoundError,
    OpenRouterError,
    error_from_response,
    error_from_transport,
)
from .fields import load_json
from .retry import RetryPolicy
from .schemas import ActivityRow, ApiKey, ChatResult, CreatedKey, Credits, Generation, KeyInfo, ModelList
from .stream import ChatStream

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Params = Mapping[str, str | int]

_KEY_HASH = re.compile(r"^[0-9A-Za-z_-]{1,128}$")
_CONNECT_TIMEOUT = 5.0


class _AuthHeader(dict[str, str]):
    """The request header carrying the key; it never shows the key in a repr or a traceback."""

    def __repr__(self) -> str:
        return "{'Authorization': '…'}" if self else "{}"


class OpenRouterClient:
    """One OpenRouter account's API, over one connection pool. Use as a context manager or
    call :meth:`close`. Thread-safe as far as ``httpx.Client`` is."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        timeout: float = 60,
        deadline: float = 90,
        app_url: str = "",
        app_title: str = "",
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        api_key = api_key.strip()
        self._key_hint = api_key[-4:]
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.deadline = deadline
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        headers = {"Accept": "application/json"}
        # The key travels on each request, never in the shared client's own headers.
        self._auth = _AuthHeader({"Authorization": f"Bearer {api_key}"} if api_key else {})
        if app_url:
            headers["HTTP-Referer"] = app_url
        if app_title:
            headers["X-OpenRouter-Title"] = _ascii(app_title)
        self._http = core_http.shared_client(base_url=self.base_url, headers=headers)

    def __repr__(self) -> str:
        hint = f"…{self._key_hint}" if self._key_hint else "none"
        return f"OpenRouterClient(base_url={self.base_url!r}, key={hint!r})"

    def __enter__(self) -> OpenRouterClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ chat

    def chat(self, body: dict[str, Any]) -> ChatResult:
        """A non-streaming completion. A 200 that carries an error raises ``ErrorIn200Error``."""
        # Reference: https://openrouter.ai/docs/api-reference/overview
        response, attempts = self._send("POST", "/chat/completions", body={**body, "stream": False})
        result = self._model(ChatResult, self._json(response, attempts), attempts)
        result.attempts = attempts
        result.generation_id_header = response.headers.get("X-Generation-Id")
        failed = next((c for c in result.choices if c.finish_reason == "error" or c.error), None)
        if failed is not None:
            error = failed.error or {}
            raise ErrorIn200Error(
                status=response.status_code,
                upstream_message=str(error.get("message") or "choice finished with an error"),
                upstream_code=error.get("code"),
                usage=result.usage,
                attempts=attempts,
            )
        return result

    def chat_stream(self, body: dict[str, Any]) -> ChatStream:
        """A streaming completion. Retries happen only before the stream's first byte."""
        # Reference: https://openrouter.ai/docs/api-reference/streaming
        response, attempts = self._send(
            "POST", "/chat/completions", body={**body, "stream": True}, stream=True
        )
        content_type = response.headers.get("content-type", "").lower()
        if "json" in content_type or "html" in content_type:  # not a stream: an error in a 200
            try:
                raw = core_http.read(response)
            except core_http.OutboundHTTPError as exc:
                raise _with_attempts(error_from_transport(exc), attempts) from None
            finally:
                response.close()
            raise _with_attempts(error_from_response(response.status_code, response.headers, raw), attempts)
        return ChatStream(response, attempts=attempts)

    # ------------------------------------------------------------------ account

    def credits(self) -> Credits:
        """Total credits bought and used (USD; the balance is their difference and can be negative).

        Documented as management-key only: an inference key gets a 403 or, on some accounts, zeros.
        """
        # Reference: https://openrouter.ai/docs/api-reference/limits (GET /credits in openapi.yaml)
        return self._model(Credits, self._data("GET", "/credits"))

    def key(self) -> KeyInfo:
        """The key in use: its limit, usage and type. Falls back to legacy ``/auth/key`` on 404."""
        try:
            # Reference: https://openrouter.ai/docs/api-reference/limits
            data = self._data("GET", "/key")
        except NotFoundError:
            # Reference: https://openrouter.ai/docs/api-reference/limits (legacy path /auth/key)
            data = self._data("GET", "/auth/key")
        return self._model(KeyInfo, data)

    def models(self, **filters: Any) -> ModelList:
        """The public catalogue. Filters pass through (``search`` is an alias of ``q``); list
        values are comma-joined, booleans are ``true``/``false``, ``None`` is left out."""
        params = _params({("q" if k == "search" else k): v for k, v in filters.items()})
        # Reference: https://openrouter.ai/docs/guides/overview/models
        response, attempts = self._send("GET", "/models", params=params)
        return self._model(ModelList, self._json(response, attempts), attempts)

    def activity(
        self, date: dt.date | str | None = None, api_key_hash: str | None = None
    ) -> list[ActivityRow]:
        """Spend per (UTC day, model, endpoint) for the last 30 completed days (management key)."""
        day = date.isoformat() if isinstance(date, dt.date) else date
        params = _params({"date": day, "api_key_hash": api_key_hash})
        # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys (GET /activity)
        return self._models(ActivityRow, self._data("GET", "/activity", params=params))

    def generation(self, id: str, *, deadline: float = 30) -> Generation:
        """The stored generation. Retries the documented 404 "Generation not found" (it lasts a
        few seconds after a completion) with backoff until ``deadline`` seconds have passed."""
        # Reference: https://openrouter.ai/docs/cookbook/administration/usage-accounting
        data = self._data("GET", "/generation", params={"id": id}, deadline=deadline, retry_not_found=True)
        return self._model(Generation, data)

    # ------------------------------------------------------------------ key management

    def keys_list(self, offset: int = 0, include_disabled: bool = False) -> list[ApiKey]:
        params = _params({"offset": offset, "include_disabled": include_disabled})
        # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys
        return self._models(ApiKey, self._data("GET", "/keys", params=params))

    def key_create(
        self,
        name: str,
        limit: Any = None,
        limit_reset: str | None = None,
        include_byok_in_limit: bool | None = None,
        expires_at: dt.datetime | None = None,
        **extra: Any,
    ) -> CreatedKey:
        """Create a key. The plaintext is in ``.key`` (a ``SecretStr``), returned this once."""
        fields = {"limit": limit, "limit_reset": limit_reset, "include_byok_in_limit": include_byok_in_limit}
        body = {"name": name, **{k: v for k, v in {**fields, **extra}.items() if v is not None}}
        if expires_at is not None:
            body["expires_at"] = _utc_iso(expires_at)
        # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys
        response, attempts = self._send("POST", "/keys", body=body)
        return self._model(CreatedKey, self._json(response, attempts), attempts)

    def key_get(self, hash: str) -> ApiKey:
        # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys
        return self._model(ApiKey, self._data("GET", _key_path(hash)))

    def key_update(self, hash: str, **fields: Any) -> ApiKey:
        """PATCH a key: ``name``, ``disabled``, ``limit``, ``limit_reset``, ``include_byok_in_limit``."""
        # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys
        return self._model(ApiKey, self._data("PATCH", _key_path(hash), body=fields))

    def key_delete(self, hash: str) -> bool:
        # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys
        response, attempts = self._send("DELETE", _key_path(hash))
        data = self._json(response, attempts)
        return bool(data.get("deleted")) if isinstance(data, dict) else False

    # ------------------------------------------------------------------ plumbing

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        stream: bool = False,
        deadline: float | None = None,
        retry_not_found: bool = False,
    ) -> tuple[httpx.Response, int]:
        """Send with the retry policy; return the 2xx response and the number of attempts."""
        budget = self.deadline if deadline is None else deadline
        content = encode_json(body) if body is not None else None
        start = self._clock()
        attempt = 0
        while True:
            attempt += 1
            # A stream's read timeout is between chunks, so it keeps the full per-read timeout.
            remaining = budget - (self._clock() - start)
            timeout = self.timeout if stream else max(0.001, min(self.timeout, remaining))
            outcome = self._attempt(method, path, params, content, stream, timeout)
            if isinstance(outcome, httpx.Response):
                return outcome, attempt
            error = outcome
            error.attempts = attempt
            wait = self.retry.delay(
                error, attempt, self._clock() - start, budget, retry_not_found=retry_not_found
            )
            if wait is None:
                raise error
            logger.warning(
                "OpenRouter %s %s failed (%s, status %s, attempt %d); retrying in %.2fs",
                method, path, error.code.value, error.status, attempt, wait,
            )  # fmt: skip
            self._sleep(wait)

    def _attempt(
        self,
        method: str,
        path: str,
        params: Params | None,
        content: bytes | None,
        stream: bool,
        timeout: float,
    ) -> httpx.Response | OpenRouterError:
        """One attempt: the 2xx response, or the error it ended with (returned, not raised)."""
        headers = {**self._auth, "Content-Type": "application/json"} if content is not None else self._auth
        request = core_http.build_request(
            self._http,
            method,
            path,
            params=params,
            content=content,
            headers=headers,
            timeout=self._timeout(timeout),
        )
        try:
            response = core_http.send(self._http, request, stream=stream)
        except core_http.OutboundHTTPError as exc:
            return error_from_transport(exc)
        if response.is_success:
            return response
        try:
            raw = core_http.read(response) if stream else response.content
        except core_http.OutboundHTTPError:
            raw = b""  # the status is enough to classify; the body was lost
        finally:
            response.close()
        return error_from_response(response.status_code, response.headers, raw)

    def _json(self, response: httpx.Response, attempts: int) -> Any:
        """The decoded 2xx body; an ``error`` in it, or an unreadable body, raises (carrying the
        ``X-Generation-Id`` header, since such a call may have been billed)."""
        try:
            data = load_json(response.content)
        except (ValueError, UnicodeDecodeError):
            error: OpenRouterError = error_from_response(
                response.status_code, response.headers, response.content
            )
            error.generation_id = response.headers.get("X-Generation-Id")
            raise _with_attempts(error, attempts) from None
        if isinstance(data, dict) and data.get("error"):
            error = error_from_response(response.status_code, response.headers, response.content)
            error.generation_id = response.headers.get("X-Generation-Id")
            raise _with_attempts(error, attempts)
        return data

    def _data(self, method: str, path: str, **kwargs: Any) -> Any:
        """The ``data`` member of a 2xx body."""
        response, attempts = self._send(method, path, **kwargs)
        body = self._json(response, attempts)
        if not isinstance(body, dict) or "data" not in body:
            raise BadResponseError(
                status=response.status_code, upstream_message="body has no 'data'", attempts=attempts
            )
        return body["data"]

    @staticmethod
    def _model(cls: type[M], data: Any, attempts: int = 1) -> M:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            message = f"{cls.__name__} did not validate: {exc.error_count()} error(s), first at {exc.errors()[0]['loc']}"
            raise BadResponseError(status=200, upstream_message=message, attempts=attempts) from None

    @classmethod
    def _models(cls, item: type[M], data: Any) -> list[M]:
        if not isinstance(data, list):
            raise BadResponseError(status=200, upstream_message=f"expected a list of {item.__name__}")
        return [cls._model(item, row) for row in data]

    @staticmethod
    def _timeout(seconds: float) -> httpx.Timeout:
        return httpx.Timeout(
            seconds, connect=min(_CONNECT_TIMEOUT, seconds), pool=min(_CONNECT_TIMEOUT, seconds)
        )


def _with_attempts(error: OpenRouterError, attempts: int) -> OpenRouterError:
    error.attempts = attempts
    return error


def _params(values: Mapping[str, Any]) -> dict[str, str | int]:
    params: dict[str, str | int] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            params[name] = ",".join(str(v) for v in value)
        elif isinstance(value, int):
            params[name] = value
        else:
            params[name] = str(value)
    return params


def _key_path(key_hash: str) -> str:
    """``/keys/<hash>``; a hash that could change the path is refused before anything is sent."""
    if not _KEY_HASH.match(key_hash):
        raise ValueError("not a key hash")
    return f"/keys/{quote(key_hash, safe='')}"


def _utc_iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _ascii(text: str) -> str:
    """Header values must be ASCII: "Småföretag" becomes "Smaforetag"."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
