"""Short-lived per-process memo for values the gateway needs on every call.

Each process keeps its own copy, so a change made elsewhere is seen here only when the entry
expires: ``ttl`` is the bound on how stale a value can be in *another* process. The process
that makes the change drops the entry itself (``discard``/``discard_where``) for immediate
effect. Expiry reads ``time.time()`` (not ``monotonic``) so tests can move a frozen clock past it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_MISSING = object()
_registry: list[LocalCache[object, object]] = []


class LocalCache(Generic[K, V]):
    """A dict of ``key -> (expires_at, value)``, bounded in size and lifetime.

    Thread safe: gthread workers share one instance. When full, it is emptied (cheaper than LRU
    bookkeeping on the hot path; a refill costs one query per key).
    """

    def __init__(self, name: str, *, ttl: float, max_entries: int = 10_000) -> None:
        self.name, self.ttl, self.max_entries = name, ttl, max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _registry.append(self)  # type: ignore[arg-type]

    def get(self, key: K) -> V | object:
        """The live value for ``key``, or :data:`MISSING`."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.time():
            return _MISSING
        return entry[1]

    def set(self, key: K, value: V) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.time() + self.ttl, value)

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def discard_where(self, predicate: Callable[[V], bool]) -> None:
        """Drop every entry whose value matches (e.g. all entries of one user)."""
        with self._lock:
            for key in [k for k, (_, v) in self._entries.items() if predicate(v)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


MISSING = _MISSING


def local_caches_clear() -> None:
    """Empty every local cache of this process (between tests)."""
    for memo in _registry:
        memo.clear()
