"""/generation (eventual consistency) and /activity (completed UTC days), plus the demo tenant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import time_machine

from apps.emulator import DEMO, Emulator

from .test_emulator_helpers import FakeClock, chat_body, client, json_decimal


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"generation_delay_seconds": 2.0}


@pytest.fixture
def keys(emulator: Emulator) -> dict[str, str]:
    account = emulator.add_account(credits=Decimal(100))
    return {
        "inference": emulator.add_key(account, name="app"),
        "other": emulator.add_key(account, name="batch"),
        "management": emulator.add_key(account, kind="management"),
    }


@pytest.fixture
def api(emulator: Emulator, keys: dict[str, str]) -> httpx.Client:
    return client(emulator, keys["inference"])


@pytest.fixture
def admin(emulator: Emulator, keys: dict[str, str]) -> httpx.Client:
    return client(emulator, keys["management"])


# --- /generation ---------------------------------------------------------------------------------


def test_generation_is_404_until_the_delay_has_passed(api: httpx.Client, clock: FakeClock) -> None:
    generation_id = api.post("/chat/completions", json=chat_body(user="customer-7")).json()["id"]

    early = api.get("/generation", params={"id": generation_id})
    clock.advance(seconds=1.9)
    still_early = api.get("/generation", params={"id": generation_id})
    clock.advance(seconds=0.1)
    ready = api.get("/generation", params={"id": generation_id})

    assert early.status_code == still_early.status_code == 404
    assert early.json() == {"error": {"message": "Generation not found", "code": 404}}
    assert ready.status_code == 200
    data = json_decimal(ready)["data"]
    assert data["id"] == generation_id
    assert data["total_cost"] == data["usage"] == Decimal("0.0000072")
    assert data["upstream_inference_cost"] == 0
    assert (data["tokens_prompt"], data["native_tokens_prompt"]) == (12, 12)
    assert (data["tokens_completion"], data["native_tokens_completion"]) == (9, 9)
    assert data["external_user"] == "customer-7"
    assert data["created_at"] == "2026-08-22T15:24:43.517392+00:00"
    assert (data["streamed"], data["cancelled"], data["finish_reason"]) == (False, False, "stop")


def test_generation_origin_is_the_referer_or_an_empty_string(api: httpx.Client, clock: FakeClock) -> None:
    plain = api.post("/chat/completions", json=chat_body()).json()["id"]
    referred = api.post(
        "/chat/completions", json=chat_body(), headers={"HTTP-Referer": "https://shop.example.se/"}
    ).json()["id"]
    clock.advance(seconds=2)

    without = api.get("/generation", params={"id": plain}).json()["data"]
    with_referer = api.get("/generation", params={"id": referred}).json()["data"]

    assert (without["origin"], without["http_referer"]) == ("", None)
    assert (with_referer["origin"], with_referer["http_referer"]) == ("https://shop.example.se/",) * 2


def test_generation_of_a_stream_is_marked_streamed(
    emulator: Emulator, api: httpx.Client, clock: FakeClock
) -> None:
    response = api.post("/chat/completions", json=chat_body(stream=True))
    clock.advance(seconds=5)

    data = api.get("/generation", params={"id": response.headers["X-Generation-Id"]}).json()["data"]

    assert data["streamed"] is True
    assert data["total_cost"] == float(emulator.generations[0].cost)


def test_generation_needs_an_inference_key_of_the_same_account(
    emulator: Emulator, api: httpx.Client, admin: httpx.Client, keys: dict[str, str], clock: FakeClock
) -> None:
    generation_id = api.post("/chat/completions", json=chat_body()).json()["id"]
    clock.advance(seconds=5)
    stranger = client(emulator, emulator.add_key(emulator.add_account()))

    assert client(emulator, keys["other"]).get("/generation", params={"id": generation_id}).status_code == 200
    assert stranger.get("/generation", params={"id": generation_id}).status_code == 404
    assert admin.get("/generation", params={"id": generation_id}).status_code == 401
    assert api.get("/generation").status_code == 400


def test_default_clock_follows_time_machine() -> None:
    with time_machine.travel(datetime(2026, 8, 22, 12, 0, tzinfo=UTC), tick=False) as traveller:
        emulator = Emulator(generation_delay_seconds=3)
        api = client(emulator, emulator.add_key(emulator.add_account()))
        response = api.post("/chat/completions", json=chat_body())
        assert response.json()["created"] == int(datetime(2026, 8, 22, 12, 0, tzinfo=UTC).timestamp())
        assert api.get("/generation", params={"id": response.json()["id"]}).status_code == 404
        traveller.shift(timedelta(seconds=3))
        assert api.get("/generation", params={"id": response.json()["id"]}).status_code == 200


# --- /activity -----------------------------------------------------------------------------------


def test_activity_aggregates_completed_days_by_model(
    emulator: Emulator, api: httpx.Client, admin: httpx.Client, clock: FakeClock
) -> None:
    api.post("/chat/completions", json=chat_body())
    api.post("/chat/completions", json=chat_body("Another question about pricing"))
    api.post("/chat/completions", json=chat_body(model="anthropic/claude-haiku-4.5"))
    day_one = clock.now.date()

    assert admin.get("/activity").json() == {"data": []}  # today is not complete yet
    clock.advance(days=1)
    rows = json_decimal(admin.get("/activity"))["data"]

    assert [(r["date"], r["model"], r["requests"]) for r in rows] == [
        (f"{day_one} 00:00:00", "anthropic/claude-haiku-4.5", 1),
        (f"{day_one} 00:00:00", "openai/gpt-4o-mini", 2),
    ]
    gpt = [g for g in emulator.generations if g.model == "openai/gpt-4o-mini"]
    assert rows[1]["usage"] == sum(g.cost for g in gpt)
    assert rows[1]["prompt_tokens"] == sum(g.prompt_tokens for g in gpt)
    assert rows[1]["completion_tokens"] == sum(g.completion_tokens for g in gpt)
    assert rows[1]["model_permaslug"] == "openai/gpt-4o-mini"
    assert rows[1]["endpoint_id"] == "0b6e1f0a-6f3e-4d5a-9a51-2b7c8f0e4d11"
    assert rows[0]["model_permaslug"] == "anthropic/claude-4.5-haiku-20251001"


def test_activity_keeps_only_the_last_30_completed_days(
    api: httpx.Client, admin: httpx.Client, clock: FakeClock
) -> None:
    first_day = clock.now.date()
    api.post("/chat/completions", json=chat_body())
    clock.advance(days=30)
    assert len(admin.get("/activity").json()["data"]) == 1

    clock.advance(days=1)

    assert admin.get("/activity").json() == {"data": []}
    assert admin.get("/activity", params={"date": first_day.isoformat()}).status_code == 400


def test_activity_date_filter(api: httpx.Client, admin: httpx.Client, clock: FakeClock) -> None:
    first_day = clock.now.date()
    api.post("/chat/completions", json=chat_body())
    clock.advance(days=1)
    api.post("/chat/completions", json=chat_body())
    clock.advance(days=1)

    one_day = admin.get("/activity", params={"date": first_day.isoformat()}).json()["data"]
    today = admin.get("/activity", params={"date": clock.now.date().isoformat()})

    assert [r["date"] for r in one_day] == [f"{first_day} 00:00:00"]
    assert today.status_code == 400
    for bad in ("2026-8-1", "yesterday", "2026-08-22T00:00:00", "2026-02-30", "2026-W34-6", "20260821"):
        response = admin.get("/activity", params={"date": bad})
        assert response.status_code == 400, bad
        assert list(response.json()["error"]) == ["message", "code"]


def test_activity_filters_by_api_key_hash(
    emulator: Emulator, admin: httpx.Client, keys: dict[str, str], clock: FakeClock
) -> None:
    client(emulator, keys["inference"]).post("/chat/completions", json=chat_body())
    client(emulator, keys["other"]).post(
        "/chat/completions", json=chat_body(model="anthropic/claude-haiku-4.5")
    )
    clock.advance(days=1)

    rows = admin.get("/activity", params={"api_key_hash": emulator.key_hash(keys["other"])}).json()["data"]

    assert [r["model"] for r in rows] == ["anthropic/claude-haiku-4.5"]


def test_activity_date_format_can_be_plain_dates(clock: FakeClock) -> None:
    emulator = Emulator(clock=clock, activity_date_format="date")
    account = emulator.add_account()
    client(emulator, emulator.add_key(account)).post("/chat/completions", json=chat_body())
    clock.advance(days=1)

    rows = client(emulator, emulator.add_key(account, kind="management")).get("/activity").json()["data"]

    assert rows[0]["date"] == (clock.now.date() - timedelta(days=1)).isoformat()


def test_activity_only_shows_the_managers_own_account(
    emulator: Emulator, api: httpx.Client, clock: FakeClock
) -> None:
    api.post("/chat/completions", json=chat_body())
    clock.advance(days=1)
    stranger_admin = client(emulator, emulator.add_key(emulator.add_account(), kind="management"))

    assert stranger_admin.get("/activity").json() == {"data": []}


# --- the demo tenant -----------------------------------------------------------------------------


def test_seed_demo_uses_the_fixed_keys_and_is_idempotent(clock: FakeClock) -> None:
    emulator = Emulator(clock=clock)

    first, second = emulator.seed_demo(), emulator.seed_demo()

    assert (
        first
        == second
        == {"inference": DEMO.inference_key, "management": DEMO.management_key, "system": DEMO.system_key}
    )
    assert client(emulator, DEMO.inference_key).get("/key").json()["data"]["creator_user_id"] == DEMO.user_id
    system = client(emulator, DEMO.system_key).get("/key").json()["data"]
    assert system["creator_user_id"] == DEMO.system_user_id


def test_demo_history_fills_the_activity_window_and_the_balance(clock: FakeClock) -> None:
    emulator = Emulator(clock=clock)
    emulator.seed_demo()
    admin = client(emulator, DEMO.management_key)

    rows = json_decimal(admin.get("/activity"))["data"]
    credits = json_decimal(admin.get("/credits"))["data"]

    days = {r["date"] for r in rows}
    today = clock.now.date()
    expected_days = {f"{today - timedelta(days=n)} 00:00:00" for n in range(1, 31)}
    assert days == expected_days
    assert credits["total_credits"] == 25
    assert 0 < credits["total_usage"] < 25
    assert sum(r["usage"] for r in rows) < credits["total_usage"]  # 60 days of history, 30 shown
    key = json_decimal(client(emulator, DEMO.inference_key).get("/key"))["data"]
    assert key["usage"] == credits["total_usage"]
    assert key["limit"] == 20
    assert key["limit_reset"] == "monthly"


def test_demo_history_is_the_same_on_every_run(clock: FakeClock) -> None:
    bodies = []
    for _ in range(2):
        emulator = Emulator(clock=clock)
        emulator.seed_demo()
        bodies.append(client(emulator, DEMO.management_key).get("/activity").text)

    assert bodies[0] == bodies[1]


def test_demo_history_rows_are_priced_from_the_catalogue(clock: FakeClock) -> None:
    emulator = Emulator(clock=clock)
    emulator.seed_demo()
    prices = {"openai/gpt-4o-mini": (Decimal("0.00000015"), Decimal("0.0000006"))}

    rows = json_decimal(client(emulator, DEMO.management_key).get("/activity"))["data"]

    for row in (r for r in rows if r["model"] in prices):
        prompt, completion = prices[row["model"]]
        assert row["usage"] == row["prompt_tokens"] * prompt + row["completion_tokens"] * completion
    assert isinstance(date.fromisoformat(rows[0]["date"][:10]), date)
