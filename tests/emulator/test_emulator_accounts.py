"""Keys and accounts: authentication, key types, /credits modes and /key counters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apps.emulator import Account, Emulator

from .test_emulator_helpers import (
    MANAGEMENT_ONLY,
    MISSING_AUTH,
    USER_NOT_FOUND,
    FakeClock,
    chat_body,
    client,
    json_decimal,
)

AUTHED_GETS = ["/credits", "/key", "/auth/key", "/activity", "/generation?id=gen-1-x", "/keys", "/keys/abc"]


# --- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", AUTHED_GETS)
def test_missing_authorization_is_401_everywhere_but_models(emulator: Emulator, path: str) -> None:
    response = client(emulator).get(path)

    assert response.status_code == 401
    assert response.json() == MISSING_AUTH


def test_missing_authorization_on_chat_is_401(emulator: Emulator) -> None:
    assert client(emulator).post("/chat/completions", json=chat_body()).json() == MISSING_AUTH


@pytest.mark.parametrize("path", AUTHED_GETS)
def test_unknown_key_is_user_not_found(emulator: Emulator, path: str) -> None:
    response = client(emulator, "sk-or-v1-" + "ab" * 32).get(path)

    assert response.status_code == 401
    assert response.json() == USER_NOT_FOUND


def test_malformed_authorization_header_is_user_not_found(emulator: Emulator, key: str) -> None:
    response = client(emulator).get("/key", headers={"Authorization": f"Basic {key}"})

    assert response.json() == USER_NOT_FOUND


def test_disabled_and_expired_keys_are_user_not_found(
    emulator: Emulator, account: Account, clock: FakeClock
) -> None:
    disabled = emulator.add_key(account, disabled=True)
    expiring = emulator.add_key(account, expires_at=clock.now + timedelta(hours=1))

    assert client(emulator, disabled).post("/chat/completions", json=chat_body()).json() == USER_NOT_FOUND
    assert client(emulator, expiring).post("/chat/completions", json=chat_body()).status_code == 200
    clock.advance(hours=1)
    assert client(emulator, expiring).post("/chat/completions", json=chat_body()).json() == USER_NOT_FOUND


def test_models_needs_no_key_and_ignores_a_bad_one(emulator: Emulator) -> None:
    assert client(emulator).get("/models").status_code == 200
    assert client(emulator, "garbage").get("/models").status_code == 200


def test_management_key_cannot_do_inference(emulator: Emulator, management_key: str) -> None:
    response = client(emulator, management_key).post("/chat/completions", json=chat_body())

    assert response.status_code == 401
    assert response.json() == USER_NOT_FOUND
    assert emulator.generations == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/activity"),
        ("GET", "/keys"),
        ("POST", "/keys"),
        ("GET", "/keys/abc"),
        ("DELETE", "/keys/abc"),
    ],
)
def test_inference_key_on_management_endpoints_is_403(
    emulator: Emulator, key: str, method: str, path: str
) -> None:
    response = client(emulator, key).request(method, path, json={"name": "x"} if method == "POST" else None)

    assert response.status_code == 403
    assert (
        response.text == '{"error":{"code":403,"message":"Only management keys can perform this operation"}}'
    )


# --- /credits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "inference_status", "inference_body"),
    [
        ("strict", 403, MANAGEMENT_ONLY),
        ("legacy", 200, {"data": {"total_credits": 100, "total_usage": 0.0000072}}),
        ("zeros", 200, {"data": {"total_credits": 0, "total_usage": 0}}),
    ],
)
def test_credits_modes(
    clock: FakeClock, mode: str, inference_status: int, inference_body: dict[str, Any]
) -> None:
    emulator = Emulator(clock=clock, credits_mode=mode)
    account = emulator.add_account(credits=Decimal(100))
    key, admin = emulator.add_key(account), emulator.add_key(account, kind="management")
    client(emulator, key).post("/chat/completions", json=chat_body())

    inference = client(emulator, key).get("/credits")
    management = client(emulator, admin).get("/credits")

    assert (inference.status_code, inference.json()) == (inference_status, inference_body)
    assert json_decimal(management) == {"data": {"total_credits": 100, "total_usage": Decimal("0.0000072")}}


# --- /key ----------------------------------------------------------------------------------------


def test_key_reports_its_kind_and_account(emulator: Emulator, key: str, management_key: str) -> None:
    inference = client(emulator, key).get("/key").json()["data"]
    management = client(emulator, management_key).get("/key").json()["data"]

    assert (inference["is_management_key"], inference["is_provisioning_key"]) == (False, False)
    assert (management["is_management_key"], management["is_provisioning_key"]) == (True, True)
    assert inference["label"] == f"sk-or-v1-{key[9:12]}...{key[-3:]}"
    assert inference["creator_user_id"] == "user_2zR8xQy7LmNpVb3KdWfT1hGcJsE"
    assert (inference["limit"], inference["budgets"], inference["effective_budget"]) == (None, [], None)


def test_key_usage_windows_reset_at_utc_day_week_and_month(
    emulator: Emulator, account: Account, clock: FakeClock
) -> None:
    key = emulator.add_key(account, limit=Decimal(1), limit_reset="weekly")
    api = client(emulator, key)
    clock.now = datetime(2026, 8, 30, 23, 0, tzinfo=UTC)  # a Sunday, the last day of a week
    api.post("/chat/completions", json=chat_body())
    cost = emulator.generations[-1].cost

    sunday = json_decimal(api.get("/key"))["data"]
    clock.now = datetime(2026, 8, 31, 0, 0, tzinfo=UTC)  # Monday: a new day and week, same month
    monday = json_decimal(api.get("/key"))["data"]
    clock.now = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)  # a new month
    september = json_decimal(api.get("/key"))["data"]

    assert [sunday[f] for f in ("usage", "usage_daily", "usage_weekly", "usage_monthly")] == [cost] * 4
    assert [monday[f] for f in ("usage", "usage_daily", "usage_weekly", "usage_monthly")] == [
        cost,
        0,
        0,
        cost,
    ]
    assert [september[f] for f in ("usage", "usage_daily", "usage_weekly", "usage_monthly")] == [
        cost,
        0,
        0,
        0,
    ]
    assert sunday["limit_remaining"] == 1 - cost
    assert monday["limit_remaining"] == 1
    assert sunday["budgets"][0]["resets_at"] == "2026-08-31T00:00:00.000Z"
    assert sunday["budgets"][0]["spend_usd"] == cost
