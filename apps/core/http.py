"""The one module that makes outgoing HTTP requests.

Every request leaves through :func:`client` so that every request has a timeout, never follows a
redirect to another host, and fails with one exception type, :class:`OutboundHTTPError`, whose
``sent`` flag tells the caller whether the request may have reached the server (and so may have
been billed). Callers above this module never see an ``httpx`` exception.

Tests (and the development emulator) can serve an origin in-process with :func:`mount`, which
routes requests for that origin to an ``httpx`` transport (for example the emulator's WSGI app)
instead of the network. Nothing else in the request path changes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from enum import StrEnum
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0, pool=5.0)


class FailureKind(StrEnum):
    CONNECT = "connect"  # never reached the server: safe to retry
    CONNECT_TIMEOUT = "connect_timeout"
    POOL_TIMEOUT = "pool_timeout"
    WRITE_TIMEOUT = "write_timeout"
    READ_TIMEOUT = "read_timeout"  # the server has the request: it may have been billed
    PROTOCOL = "protocol"  # the connection broke mid-response
    REDIRECT = "redirect"  # a redirect to another host was refused
    INVALID_URL = "invalid_url"


_NOT_SENT = {
    FailureKind.CONNECT,
    FailureKind.CONNECT_TIMEOUT,
    FailureKind.POOL_TIMEOUT,
    FailureKind.INVALID_URL,
}


class OutboundHTTPError(Exception):
    """A request failed below the HTTP level (no usable response)."""

    def __init__(self, kind: FailureKind, message: str = "") -> None:
        super().__init__(message or kind.value)
        self.kind = kind

    @property
    def sent(self) -> bool:
        """True when the server may have received (and acted on) the request."""
        return self.kind not in _NOT_SENT


_mounts: dict[str, httpx.BaseTransport] = {}
_mounts_lock = threading.Lock()
_pools: dict[str, httpx.HTTPTransport] = {}
_POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30)


class _SharedTransport(httpx.BaseTransport):
    """A process-wide connection pool per origin, which a client's ``close()`` leaves open.

    Building a transport costs milliseconds (TLS context, CA bundle); sharing one keeps the
    gateway's overhead per call well under that, and reuses keep-alive connections. The origin's
    in-process mount (tests, the development emulator) is looked up per request, so a client that
    outlives a :func:`mount` block never keeps sending to it.
    """

    def __init__(self, origin: str) -> None:
        self._origin = origin

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        mounted = _mounts.get(self._origin)
        if mounted is not None:
            return mounted.handle_request(request)
        pool = _pools.get(self._origin)
        if pool is None:
            with _mounts_lock:
                pool = _pools.get(self._origin)
                if pool is None:
                    pool = _pools[self._origin] = httpx.HTTPTransport(limits=_POOL_LIMITS, retries=0)
        return pool.handle_request(request)

    def close(self) -> None:  # the pool outlives any one client
        return None


def _pool_for(origin: str) -> httpx.BaseTransport:
    return _SharedTransport(origin)


def _no_cookies() -> CookieJar:
    """A jar that refuses every cookie: an API client carries no state between calls (and a
    shared client must never carry one tenant's cookie into another tenant's request)."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class _RefusedCookies(httpx.Cookies):
    """The cookies of a shared client: always empty, and a response's ``Set-Cookie`` is ignored
    without being parsed (the refusing jar would parse every one just to drop it)."""

    def __init__(self) -> None:
        super().__init__()
        self.jar = _no_cookies()

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


_REFUSED_COOKIES = _RefusedCookies()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@contextlib.contextmanager
def mount(base_url: str, transport: httpx.BaseTransport) -> Iterator[None]:
    """Serve ``base_url``'s origin from ``transport`` (in-process) for the duration of the block."""
    origin = origin_of(base_url)
    with _mounts_lock:
        previous = _mounts.get(origin)
        _mounts[origin] = transport
    try:
        yield
    finally:
        with _mounts_lock:
            if previous is None:
                _mounts.pop(origin, None)
            else:
                _mounts[origin] = previous


def _same_host_redirects_only(response: httpx.Response) -> None:
    if response.is_redirect:
        raise OutboundHTTPError(FailureKind.REDIRECT, "redirects are not followed")


def client(
    *,
    base_url: str,
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout | float | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` bound to one origin, with a timeout and no redirects.

    Use it through :func:`send` (or :func:`stream`) so that transport failures become
    :class:`OutboundHTTPError`.
    """
    return httpx.Client(
        base_url=base_url,
        headers=headers or {},
        cookies=_no_cookies(),
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        follow_redirects=False,
        transport=_pool_for(origin_of(base_url)),
        trust_env=False,
    )


class _SharedClient(httpx.Client):
    """A process-wide client whose ``close()`` is a no-op: its users come and go, it stays.

    It never holds a cookie. What every request of it shares (the absolute URL of a path, the
    default headers) is computed once, in :func:`build_request`.
    """

    _URLS_MAX = 256

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.default_headers = list(self.headers.multi_items())
        self.urls: dict[str, httpx.URL] = {}

    @property
    def cookies(self) -> httpx.Cookies:
        return _REFUSED_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("a shared client holds no cookies")

    def url_for(self, path: str) -> httpx.URL:
        url = self.urls.get(path)
        if url is None:
            if len(self.urls) >= self._URLS_MAX:
                self.urls.clear()  # bounded: per-key paths (``/keys/{hash}``) vary
            url = self.urls[path] = self._merge_url(path)
        return url

    def send_plain(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        """``send(request)`` for what a shared client sends: no auth flow, no redirect to follow,
        no cookie, no event hook, so straight to its transport (httpx's steps for those are a few
        hundred Python calls, on every AI call's path). The timeouts travel in the request."""
        response = self._transport.handle_request(request)
        response.request = request
        if not stream:
            try:
                response.read()
            except BaseException:
                response.close()
                raise
        return response

    def close(self) -> None:
        return None


def build_request(
    http: httpx.Client,
    method: str,
    path: str,
    *,
    params: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout,
) -> httpx.Request:
    """``http.build_request(...)``, the same request; a shared client's fixed parts come ready made.

    Every AI call builds one, so the base-URL merge and header merge of httpx's own
    ``build_request`` are done once per client and path instead of per call.
    """
    if not isinstance(http, _SharedClient) or params:
        return http.build_request(
            method, path, params=params, content=content, headers=headers, timeout=timeout
        )
    return httpx.Request(
        method,
        http.url_for(path),
        content=content,
        headers=[*http.default_headers, *(headers or {}).items()],
        extensions={"timeout": timeout.as_dict()},
    )


_shared: dict[tuple[str, tuple[tuple[str, str], ...]], httpx.Client] = {}
_SHARED_MAX = 64


def shared_client(*, base_url: str, headers: dict[str, str] | None = None) -> httpx.Client:
    """Like :func:`client`, but one per (base URL, headers) for the whole process.

    Building an ``httpx.Client`` costs a fraction of a millisecond of CPU; the gateway makes one
    upstream call per request, so it reuses one. Never put a secret in ``headers`` (they are the
    cache key): pass per-caller credentials on each request instead. Each request passes its own
    timeout; the client's default is :data:`DEFAULT_TIMEOUT`.
    """
    key = (base_url, tuple(sorted((headers or {}).items())))
    shared = _shared.get(key)
    if shared is None:
        with _mounts_lock:
            shared = _shared.get(key)
            if shared is None:
                if len(_shared) >= _SHARED_MAX:
                    _shared.clear()  # bounded; dropped clients' pools are shared and stay open
                shared = _shared[key] = _SharedClient(
                    base_url=base_url,
                    headers=headers or {},
                    timeout=DEFAULT_TIMEOUT,
                    follow_redirects=False,
                    transport=_pool_for(origin_of(base_url)),
                    trust_env=False,
                )
    return shared


def _translate(exc: httpx.HTTPError) -> OutboundHTTPError:
    mapping: list[tuple[type[httpx.HTTPError], FailureKind]] = [
        (httpx.ConnectTimeout, FailureKind.CONNECT_TIMEOUT),
        (httpx.PoolTimeout, FailureKind.POOL_TIMEOUT),
        (httpx.WriteTimeout, FailureKind.WRITE_TIMEOUT),
        (httpx.ReadTimeout, FailureKind.READ_TIMEOUT),
        (httpx.ConnectError, FailureKind.CONNECT),
        (httpx.UnsupportedProtocol, FailureKind.INVALID_URL),
    ]
    for exc_type, kind in mapping:
        if isinstance(exc, exc_type):
            return OutboundHTTPError(kind, type(exc).__name__)
    return OutboundHTTPError(FailureKind.PROTOCOL, type(exc).__name__)


def send(http: httpx.Client, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
    """Send ``request``; transport failures raise :class:`OutboundHTTPError`, never httpx errors.

    With ``stream=True`` the body is not read; iterate it with :func:`iter_text` and close it.
    """
    url, base = request.url, http.base_url
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        raise OutboundHTTPError(FailureKind.INVALID_URL, "request leaves the configured origin")
    try:
        if isinstance(http, _SharedClient):
            response = http.send_plain(request, stream=stream)
        else:
            response = http.send(request, stream=stream)
    except httpx.HTTPError as exc:
        raise _translate(exc) from None
    except httpx.InvalidURL:
        raise OutboundHTTPError(FailureKind.INVALID_URL, "InvalidURL") from None
    _same_host_redirects_only(response)
    return response


def read(response: httpx.Response) -> bytes:
    """Read a streamed response's body, translating transport failures."""
    try:
        return response.read()
    except httpx.HTTPError as exc:
        raise _translate(exc) from None


def iter_text(response: httpx.Response) -> Iterator[str]:
    """Iterate a streamed response's decoded text as it arrives, translating transport failures.

    Callers split lines themselves: protocols such as SSE end lines only at CR/LF, while
    ``str.splitlines`` would also split inside JSON strings at U+2028 and similar characters.
    """
    try:
        yield from response.iter_text()
    except httpx.HTTPError as exc:
        raise _translate(exc) from None
