"""Rate limits on the shared cache, with O(1) work per request.

DRF's built-in throttles keep every request's timestamp in one cached list and re-pickle it on
each request, which grows with the rate. These count requests per fixed window with an atomic
``incr`` instead: two cheap cache operations whatever the rate. A fixed window admits at most
twice the rate across a window boundary, which is fine for abuse protection.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

from apps.core import money


def redis_write_client(backend: RedisCache) -> Any:
    """The backend's client for writes, built once per backend instance (one per thread).

    Django builds a new ``redis.Redis`` per operation, copying its table of ~170 response
    callbacks each time: about a millisecond of CPU per throttled request on a busy machine.
    """
    client = backend.__dict__.get("_throttle_client")
    if client is None:
        client = backend._cache.get_client(None, write=True)
        backend.__dict__["_throttle_client"] = client
    return client


# Count, start the window's expiry on the first hit, and read the FX rates' version: one command.
# (A Lua ``false`` is a null reply; a ``nil`` would end the returned list early.)
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('GET', KEYS[2]) or false}
"""


def _count_script(client: Any) -> Any:
    """The registered script (one per client: redis-py loads it on first use, by its SHA after)."""
    script = getattr(client, "_throttle_count_script", None)
    if script is None:
        script = client._throttle_count_script = client.register_script(_COUNT_SCRIPT)
    return script


def _count(key: str, *, ttl: int) -> int:
    """Add one to ``key``'s counter and return it; the counter expires ``ttl`` seconds after its
    first increment. On Redis this is one command (a script: INCR, EXPIRE on the first hit, GET);
    Django's own ``incr`` checks existence first, which would double the round trips. The same
    command reads the FX rates' version, which pricing the call needs next
    (``money.rates_version_peeked``)."""
    backend = caches["default"]  # the backend itself: ``cache`` is a proxy isinstance cannot see through
    if isinstance(backend, RedisCache):
        client = redis_write_client(backend)
        count, version = _count_script(client)(
            keys=[
                backend.make_and_validate_key(key),
                backend.make_and_validate_key(money.rates_version_key()),
            ],
            args=[ttl],
        )
        serializer = backend._cache._serializer  # type: ignore[attr-defined]
        money.rates_version_peeked(serializer.loads(version) if version else 0)
        return int(count)
    cache.add(key, 0, timeout=ttl)
    try:
        return int(cache.incr(key))
    except ValueError:  # evicted between add and incr: start again
        cache.set(key, 1, timeout=ttl)
        return 1


class FixedWindowMixin:
    rate: str | None
    num_requests: int
    duration: int
    key: str | None
    wait_seconds: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        if getattr(self, "rate", None) is None:
            return True
        self.key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if self.key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        key = f"throttle:{self.key}:{window}"
        count = _count(key, ttl=self.duration + 1)
        if count > self.num_requests:
            self.wait_seconds = (window + 1) * self.duration - now
            return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds


class UserThrottle(FixedWindowMixin, UserRateThrottle):
    pass


class AnonThrottle(FixedWindowMixin, AnonRateThrottle):
    pass


class ScopedThrottle(FixedWindowMixin, ScopedRateThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        # The scope (and so the rate) comes from the view, as in DRF's ScopedRateThrottle.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[assignment]
        return super().allow_request(request, view)


__all__ = ["AnonThrottle", "ScopedThrottle", "UserThrottle", "redis_write_client"]
