"""A key provisioned through POST /keys keeps OpenRouter's limit rules on chat: 403 once its
monthly limit is spent, open again at 00:00 UTC on the 1st (whatever zone the clock is in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx

from apps.emulator import Emulator

from .test_emulator_helpers import USER_NOT_FOUND, FakeClock, chat_body, client

# 12 prompt + 9 completion tokens of gpt-4o-mini: one call costs exactly this.
ONE_CALL = 0.0000072
KEY_LIMIT_MONTHLY = {
    "error": {
        "message": "Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys",
        "code": 403,
    }
}


def _provision(emulator: Emulator, management_key: str, limit: float) -> tuple[str, str]:
    created = client(emulator, management_key).post(
        "/keys", json={"name": "tenant-7", "limit": limit, "limit_reset": "monthly"}
    )
    assert created.status_code == 201
    return created.json()["key"], created.json()["data"]["hash"]


def _call(api: httpx.Client) -> httpx.Response:
    return api.post("/chat/completions", json=chat_body(max_tokens=9))


def test_provisioned_key_is_refused_with_403_once_its_monthly_limit_is_spent(
    emulator: Emulator, management_key: str, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    plaintext, key_hash = _provision(emulator, management_key, ONE_CALL * 2)
    api = client(emulator, plaintext)

    assert [_call(api).status_code, _call(api).status_code] == [200, 200]
    refused = _call(api)

    assert refused.status_code == 403
    assert refused.json() == KEY_LIMIT_MONTHLY
    listed = client(emulator, management_key).get(f"/keys/{key_hash}").json()["data"]
    assert (listed["limit"], listed["limit_remaining"], listed["limit_reset"]) == (0.0000144, 0, "monthly")
    assert len(emulator.generations) == 2  # the refused call never reached a provider


def test_monthly_limit_opens_again_at_midnight_utc_on_the_first_not_local_midnight(
    emulator: Emulator, management_key: str, clock: FakeClock
) -> None:
    stockholm = timezone(timedelta(hours=1))
    clock.now = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    plaintext, _hash = _provision(emulator, management_key, ONE_CALL)
    api = client(emulator, plaintext)
    assert _call(api).status_code == 200

    # 00:30 on 1 December in Stockholm is still 30 November in UTC: the window has not reset.
    clock.now = datetime(2026, 12, 1, 0, 30, tzinfo=stockholm)
    assert _call(api).json() == KEY_LIMIT_MONTHLY
    clock.now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert _call(api).status_code == 200
    assert api.get("/key").json()["data"]["usage_monthly"] == ONE_CALL
    assert api.get("/key").json()["data"]["usage"] == ONE_CALL * 2  # all-time usage is not reset


def test_raising_a_provisioned_keys_limit_lets_calls_through_in_the_same_month(
    emulator: Emulator, management_key: str, clock: FakeClock
) -> None:
    plaintext, key_hash = _provision(emulator, management_key, ONE_CALL)
    api = client(emulator, plaintext)
    _call(api)
    assert _call(api).status_code == 403

    patched = client(emulator, management_key).patch(f"/keys/{key_hash}", json={"limit": ONE_CALL * 3})

    assert patched.json()["data"]["limit_remaining"] == 0.0000144
    assert _call(api).status_code == 200


def test_disabled_then_deleted_provisioned_key_fails_auth_with_401(
    emulator: Emulator, management_key: str, clock: FakeClock
) -> None:
    plaintext, key_hash = _provision(emulator, management_key, 10)
    admin = client(emulator, management_key)
    api = client(emulator, plaintext)

    admin.patch(f"/keys/{key_hash}", json={"disabled": True})
    disabled = _call(api)
    admin.patch(f"/keys/{key_hash}", json={"disabled": False})
    enabled = _call(api)
    deleted = admin.delete(f"/keys/{key_hash}")

    assert (disabled.status_code, disabled.json()) == (401, USER_NOT_FOUND)
    assert enabled.status_code == 200
    assert deleted.json() == {"deleted": True}
    assert _call(api).json() == USER_NOT_FOUND
    assert admin.get(f"/keys/{key_hash}").status_code == 404
