"""Spending and rate limits: 402 (balance, affordability), 403 (key limit), 429 (free models)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from apps.emulator import Account, Emulator

from .test_emulator_helpers import (
    FakeClock,
    chat_body,
    client,
)


def test_zero_balance_is_402_even_for_free_models(emulator: Emulator) -> None:
    key = emulator.add_key(emulator.add_account(credits=Decimal(0)))

    response = client(emulator, key).post(
        "/chat/completions", json=chat_body(model="openai/gpt-oss-120b:free")
    )

    assert response.status_code == 402
    assert response.json() == {
        "error": {
            "message": "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
            "code": 402,
        }
    }


def test_unaffordable_max_tokens_is_402_with_the_affordable_count(emulator: Emulator) -> None:
    account = emulator.add_account(credits=Decimal("0.01"), user_id="user_2zR8xQy7LmNpVb3KdWfT1hGcJsE")
    api = client(emulator, emulator.add_key(account))

    response = api.post(
        "/chat/completions", json=chat_body("hi", model="anthropic/claude-sonnet-4.6", max_tokens=5000)
    )

    # 0.01 USD - 5 prompt tokens x $3/M leaves 0.009985, which buys 665 tokens at $15/M.
    assert response.status_code == 402
    assert response.json() == {
        "error": {
            "message": "This request requires more credits, or fewer max_tokens. You requested up to 5000 tokens, "
            "but can only afford 665. To increase, visit https://openrouter.ai/settings/credits and add more credits",
            "code": 402,
            "metadata": {"provider_name": None},
        },
        "user_id": "user_2zR8xQy7LmNpVb3KdWfT1hGcJsE",
    }
    assert (
        api.post(
            "/chat/completions", json=chat_body("hi", model="anthropic/claude-sonnet-4.6", max_tokens=600)
        ).status_code
        == 200
    )


def test_default_max_tokens_is_the_model_maximum_in_the_affordability_check(emulator: Emulator) -> None:
    api = client(emulator, emulator.add_key(emulator.add_account(credits=Decimal("0.01"))))

    response = api.post("/chat/completions", json=chat_body("hi", model="openai/gpt-4o-mini"))

    assert response.status_code == 200  # 16384 tokens x $0.6/M = 0.0098 fits
    refused = api.post("/chat/completions", json=chat_body("hi", model="anthropic/claude-haiku-4.5"))
    assert "You requested up to 64000 tokens" in refused.json()["error"]["message"]


def test_key_limit_binding_the_affordability_check_points_at_key_settings(
    emulator: Emulator, account: Account
) -> None:
    key = emulator.add_key(account, limit=Decimal("0.001"), limit_reset="monthly")

    response = client(emulator, key).post(
        "/chat/completions", json=chat_body("hi", model="anthropic/claude-sonnet-4.6")
    )

    assert response.status_code == 402
    assert response.json()["error"]["message"].endswith(
        "visit https://openrouter.ai/settings/keys and create a key with a higher monthly limit"
    )


@pytest.mark.parametrize(
    ("reset", "word"), [(None, "total"), ("daily", "daily"), ("weekly", "weekly"), ("monthly", "monthly")]
)
def test_exhausted_key_limit_is_403_with_the_window_word(
    emulator: Emulator, account: Account, reset: str | None, word: str
) -> None:
    # The limit is exactly one call's cost: 12 prompt + 9 completion tokens of gpt-4o-mini.
    key = emulator.add_key(account, limit=Decimal("0.0000072"), limit_reset=reset)
    api = client(emulator, key)
    assert api.post("/chat/completions", json=chat_body(max_tokens=9)).status_code == 200

    response = api.post("/chat/completions", json=chat_body(max_tokens=9))

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "message": f"Key limit exceeded ({word} limit). Manage it using https://openrouter.ai/settings/keys",
            "code": 403,
        }
    }
    assert api.get("/key").json()["data"]["limit_remaining"] == 0


def test_lowering_a_daily_limit_below_usage_blocks_until_utc_midnight(
    emulator: Emulator, account: Account, management_key: str, clock: FakeClock
) -> None:
    key = emulator.add_key(account, limit=Decimal(1), limit_reset="daily")
    api = client(emulator, key)
    api.post("/chat/completions", json=chat_body())
    client(emulator, management_key).patch(f"/keys/{emulator.key_hash(key)}", json={"limit": 0.000005})
    assert api.post("/chat/completions", json=chat_body()).status_code == 403

    clock.now = (clock.now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    assert api.get("/key").json()["data"]["limit_remaining"] == 0.000005
    assert api.post("/chat/completions", json=chat_body(max_tokens=1)).status_code == 200


# --- 429 on free models --------------------------------------------------------------------------


def test_free_model_per_minute_limit_sends_real_rate_limit_headers(
    emulator: Emulator, clock: FakeClock
) -> None:
    account = emulator.add_account(credits=Decimal(5), user_id="user_2zR8xQy7LmNpVb3KdWfT1hGcJsE")
    api = client(emulator, emulator.add_key(account))
    free = chat_body("hi", model="openai/gpt-oss-120b:free")
    successes = [api.post("/chat/completions", json=free) for _ in range(20)]

    refused = api.post("/chat/completions", json=free)

    assert all(
        r.status_code == 200 and not any(h.startswith("x-ratelimit") for h in r.headers) for r in successes
    )
    reset = str((int(clock.now.timestamp()) // 60 + 1) * 60 * 1000)
    expected_headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    assert refused.status_code == 429
    assert {k: refused.headers[k] for k in expected_headers} == expected_headers
    assert refused.json() == {
        "error": {
            "message": "Rate limit exceeded: free-models-per-min. ",
            "code": 429,
            "metadata": {"headers": expected_headers, "provider_name": None},
        },
        "user_id": "user_2zR8xQy7LmNpVb3KdWfT1hGcJsE",
    }
    clock.advance(minutes=1)
    assert api.post("/chat/completions", json=free).status_code == 200


def _exhaust_daily_free(api: httpx.Client, clock: FakeClock, count: int) -> None:
    free = chat_body("hi", model="openai/gpt-oss-120b:free")
    for index in range(count):
        if index % 20 == 19:
            clock.advance(minutes=1)
        assert api.post("/chat/completions", json=free).status_code == 200


def test_free_model_daily_limit_is_50_below_10_dollars_of_credits(
    emulator: Emulator, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
    api = client(emulator, emulator.add_key(emulator.add_account(credits=Decimal("9.99"))))
    _exhaust_daily_free(api, clock, 50)

    refused = api.post("/chat/completions", json=chat_body("hi", model="openai/gpt-oss-120b:free"))

    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "50"
    assert refused.headers["X-RateLimit-Reset"] == "1787443200000"  # 2026-08-23T00:00:00Z, as in the example
    assert refused.json()["error"]["message"].startswith(
        "Rate limit exceeded: free-models-per-day. Add 10 credits"
    )
    assert api.get("/key").json()["data"]["free_model_daily_requests"] == {
        "limit": 50,
        "remaining": 0,
        "used": 50,
    }
    assert (
        api.post("/chat/completions", json=chat_body("hi")).status_code == 200
    )  # paid models are not capped


def test_free_model_daily_limit_is_1000_from_10_dollars_of_credits(
    emulator: Emulator, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 8, 22, 0, 0, tzinfo=UTC)
    api = client(emulator, emulator.add_key(emulator.add_account(credits=Decimal(10))))
    _exhaust_daily_free(api, clock, 1000)

    refused = api.post("/chat/completions", json=chat_body("hi", model="openai/gpt-oss-120b:free"))

    assert refused.headers["X-RateLimit-Limit"] == "1000"
    assert refused.json()["error"]["message"] == "Rate limit exceeded: free-models-per-day-high-balance. "
