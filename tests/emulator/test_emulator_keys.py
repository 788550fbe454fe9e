"""Key management (/keys): create once, list, page, update, disable, delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from apps.emulator import Account, Emulator

from .test_emulator_helpers import (
    USER_NOT_FOUND,
    FakeClock,
    chat_body,
    client,
)


def test_created_key_is_shown_once_and_works(
    emulator: Emulator, management_key: str, clock: FakeClock
) -> None:
    admin = client(emulator, management_key)

    created = admin.post("/keys", json={"name": "customer-globex", "limit": 50, "limit_reset": "monthly"})

    assert created.status_code == 201
    body = created.json()
    plaintext, data = body["key"], body["data"]
    assert plaintext.startswith("sk-or-v1-")
    assert len(plaintext) == 73
    assert data["hash"] == emulator.key_hash(plaintext)
    assert data["label"] == f"sk-or-v1-{plaintext[9:12]}...{plaintext[-3:]}"
    assert (data["limit"], data["limit_remaining"], data["usage"]) == (50, 50, 0)
    assert data["created_at"] == "2026-08-22T15:24:43.517392+00:00"
    assert plaintext not in admin.get(f"/keys/{data['hash']}").text
    assert plaintext not in admin.get("/keys").text
    assert client(emulator, plaintext).post("/chat/completions", json=chat_body()).status_code == 200
    assert all(plaintext not in str(r.headers) for r in emulator.requests)


def test_patch_disabled_makes_the_key_fail_inference(
    emulator: Emulator, key: str, management_key: str, clock: FakeClock
) -> None:
    admin = client(emulator, management_key)
    clock.advance(minutes=5)

    updated = admin.patch(f"/keys/{emulator.key_hash(key)}", json={"disabled": True, "name": "renamed"})

    assert updated.status_code == 200
    assert updated.json()["data"]["disabled"] is True
    assert updated.json()["data"]["name"] == "renamed"
    assert updated.json()["data"]["updated_at"] == "2026-08-22T15:29:43.517392+00:00"
    assert client(emulator, key).post("/chat/completions", json=chat_body()).json() == USER_NOT_FOUND


def test_list_excludes_disabled_unless_asked_and_pages_by_offset(
    emulator: Emulator, account: Account, management_key: str, clock: FakeClock
) -> None:
    admin = client(emulator, management_key)
    hashes = []
    for name in ("one", "two", "three"):
        clock.advance(minutes=1)
        hashes.append(admin.post("/keys", json={"name": name}).json()["data"]["hash"])
    admin.patch(f"/keys/{hashes[0]}", json={"disabled": True})

    default = [k["name"] for k in admin.get("/keys").json()["data"]]
    everything = [k["name"] for k in admin.get("/keys", params={"include_disabled": "true"}).json()["data"]]
    second_page = [
        k["name"] for k in admin.get("/keys", params={"include_disabled": "true", "offset": 1}).json()["data"]
    ]

    assert default == ["three", "two"]
    assert everything == ["three", "two", "one"]
    assert second_page == ["two", "one"]
    assert admin.get("/keys", params={"offset": "-1"}).status_code == 400


def test_delete_removes_the_key(emulator: Emulator, key: str, management_key: str) -> None:
    admin = client(emulator, management_key)
    key_hash = emulator.key_hash(key)

    deleted = admin.delete(f"/keys/{key_hash}")

    assert (deleted.status_code, deleted.json()) == (200, {"deleted": True})
    assert admin.get(f"/keys/{key_hash}").status_code == 404
    assert admin.delete(f"/keys/{key_hash}").status_code == 404
    assert client(emulator, key).get("/key").json() == USER_NOT_FOUND


def test_unknown_or_other_accounts_key_hash_is_404(emulator: Emulator, management_key: str) -> None:
    stranger = emulator.add_key(emulator.add_account())
    admin = client(emulator, management_key)

    for key_hash in ("0" * 64, emulator.key_hash(stranger), emulator.key_hash(management_key)):
        response = admin.get(f"/keys/{key_hash}")
        assert response.status_code == 404
        assert response.json() == {"error": {"code": 404, "message": "Key not found"}}
    assert admin.patch(f"/keys/{emulator.key_hash(stranger)}", json={"disabled": True}).status_code == 404
    assert client(emulator, stranger).get("/key").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x", "limit_reset": "yearly"},
        {"name": "x", "limit": -1},
        {"name": "x", "limit": "ten"},
        {"name": "x", "include_byok_in_limit": "yes"},
        {"name": "x", "expires_at": "2030-01-01T00:00:00+02:00"},
        {"name": "x", "expires_at": "2020-01-01T00:00:00Z"},
        {"name": "x", "expires_at": "soon"},
    ],
)
def test_invalid_key_create_bodies_are_400(
    emulator: Emulator, management_key: str, payload: dict[str, Any]
) -> None:
    response = client(emulator, management_key).post("/keys", json=payload)

    assert response.status_code == 400
    assert list(response.json()["error"]) == ["message", "code"]


def test_created_key_with_expiry_stops_working_when_it_expires(
    emulator: Emulator, management_key: str, clock: FakeClock
) -> None:
    expires = (clock.now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = (
        client(emulator, management_key).post("/keys", json={"name": "temp", "expires_at": expires}).json()
    )

    assert created["data"]["expires_at"] == (clock.now + timedelta(days=1)).replace(microsecond=0).isoformat(
        timespec="microseconds"
    )
    clock.advance(days=2)
    assert client(emulator, created["key"]).get("/key").json() == USER_NOT_FOUND
