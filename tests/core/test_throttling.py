from __future__ import annotations

from typing import Any

import pytest
import time_machine

from apps.core.api.throttling import ScopedThrottle

pytestmark = pytest.mark.django_db


def _prompt(client: Any) -> Any:
    return client.post("/api/ai/prompt/", {"prompt": "x"}, format="json")


def test_ai_endpoints_are_rate_limited_per_user_with_retry_after(
    api_a: Any, api_b: Any, monkeypatch: Any, configured_a: Any, emulator: Any
) -> None:
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", {"ai": "2/min"})
    with time_machine.travel("2026-11-26 12:00:10Z", tick=False):
        codes = [_prompt(api_a).status_code for _ in range(3)]
        limited = _prompt(api_a)
        other_user = _prompt(api_b)
    assert codes == [200, 200, 429]
    assert limited.json()["error"]["code"] == "throttled"
    assert 49 <= int(limited["Retry-After"]) <= 51
    # B has a budget of their own: not throttled (B has no key configured, hence the 400).
    assert other_user.status_code == 400
    assert len([r for r in emulator.requests if r.path == "/chat/completions"]) == 2
    with time_machine.travel("2026-11-26 12:01:01Z", tick=False):
        assert _prompt(api_a).status_code == 200


def test_the_counter_expires_with_its_window() -> None:
    from django.core.cache import cache

    from apps.core.api.throttling import _count

    assert [_count("throttle:test:1", ttl=60) for _ in range(3)] == [1, 2, 3]
    assert _count("throttle:test:2", ttl=60) == 1
    backend = cache._cache if hasattr(cache, "_cache") else None
    if backend is not None and hasattr(backend, "get_client"):  # Redis (CI): the key carries its TTL
        client = backend.get_client(write=False)
        key = cache.make_and_validate_key("throttle:test:1")
        assert 0 < client.ttl(key) <= 60
