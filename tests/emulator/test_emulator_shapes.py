"""Every body the emulator sends has the keys, key order and JSON types of the real examples."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from apps.emulator import Emulator

from .test_emulator_helpers import (
    FakeClock,
    assert_same_shape,
    chat_body,
    client,
    example,
    example_events,
    example_text,
    sse_data,
    sse_events,
)

GENERATION_NULLABLE = {
    "$.data.http_referer",
    "$.data.external_user",
    "$.data.user_agent",
    "$.data.session_id",
    "$.data.service_tier",
    "$.data.provider_responses[].id",
}
KEY_OBJECT_NULLABLE = {
    f"$.data{suffix}.{name}"
    for suffix in ("", "[]")
    for name in ("limit", "limit_remaining", "limit_reset", "updated_at", "expires_at", "last_used_at")
}


@pytest.fixture
def keys(emulator: Emulator) -> dict[str, str]:
    account = emulator.add_account(credits=Decimal(150), user_id="user_2zR8xQy7LmNpVb3KdWfT1hGcJsE")
    return {
        "inference": emulator.add_key(
            account, kind="inference", name="app", limit=Decimal(100), limit_reset="monthly"
        ),
        "management": emulator.add_key(account, kind="management", name="admin"),
    }


@pytest.fixture
def api(emulator: Emulator, keys: dict[str, str]) -> httpx.Client:
    return client(emulator, keys["inference"])


@pytest.fixture
def admin(emulator: Emulator, keys: dict[str, str]) -> httpx.Client:
    return client(emulator, keys["management"])


def test_chat_completion_matches_example_including_usage_values(api: httpx.Client) -> None:
    # chat_request.json is the request behind chat_completion.json; the token rules reproduce it.
    response = api.post("/chat/completions", json=example("chat_request.json"))

    assert response.status_code == 200
    body = response.json()
    expected = example("chat_completion.json")
    assert_same_shape(body, expected)
    assert body["usage"] == expected["usage"]
    assert body["choices"] == expected["choices"]
    assert response.headers["X-Generation-Id"] == body["id"]


def test_stream_matches_example_chunk_for_chunk(api: httpx.Client) -> None:
    response = api.post("/chat/completions", json={**example("chat_request.json"), "stream": True})

    events = sse_events(response.text)
    expected_events = example_events("chat_stream.txt")
    assert response.headers["content-type"] == "text/event-stream"
    assert events[:2] == expected_events[:2] == [": OPENROUTER PROCESSING"] * 2
    assert events[-1] == expected_events[-1] == "data: [DONE]"
    chunks, expected_chunks = sse_data(response.text)[:-1], sse_data(example_text("chat_stream.txt"))[:-1]
    for chunk in chunks[:-2]:
        assert_same_shape(chunk, expected_chunks[0])
    assert_same_shape(chunks[-2], expected_chunks[-2])  # the finish chunk
    assert_same_shape(chunks[-1], expected_chunks[-1])  # the one usage chunk
    assert [c["id"] for c in chunks] == [response.headers["X-Generation-Id"]] * len(chunks)


def test_midstream_error_matches_example(emulator: Emulator, api: httpx.Client) -> None:
    emulator.inject("midstream_error")
    body = chat_body("Tell me a story", model="deepseek/deepseek-chat-v3.1", stream=True)

    response = api.post("/chat/completions", json=body)

    chunks = sse_data(response.text)
    expected = sse_data(example_text("chat_stream_midstream_error.txt"))
    # §15 makes system_fingerprint always present; the older capture lacks it (and logprobs).
    extra = {"$.system_fingerprint", "$.choices[].logprobs"}
    for chunk in chunks[:-2]:
        assert_same_shape(chunk, expected[0], extra=extra)
    assert_same_shape(chunks[-2], expected[-2], extra=extra)
    assert chunks[-2]["error"] == expected[-2]["error"]
    assert chunks[-1] == "[DONE]"


def test_credits_matches_example(admin: httpx.Client) -> None:
    assert_same_shape(admin.get("/credits").json(), example("credits.json"))


def test_key_of_an_inference_key_with_a_limit_matches_example(api: httpx.Client) -> None:
    body = api.get("/key").json()

    assert_same_shape(body, example("key.json"))
    assert body["data"]["effective_budget"] == body["data"]["budgets"][0]


def test_key_of_a_management_key_matches_example(admin: httpx.Client) -> None:
    assert_same_shape(admin.get("/key").json(), example("key_management.json"))


def test_legacy_auth_key_serves_a_superset_of_the_legacy_body(api: httpx.Client) -> None:
    body = api.get("/auth/key").json()
    legacy = example("auth_key_legacy.json")

    assert body == api.get("/key").json()
    assert set(legacy["data"]) <= set(body["data"])
    assert set(legacy["data"]["rate_limit"]) <= set(body["data"]["rate_limit"])


def test_models_match_example() -> None:
    response = httpx.Client(transport=Emulator().transport()).get("http://openrouter.test/api/v1/models")

    body, expected = response.json(), example("models.json")
    assert list(body) == list(expected)
    for model, expected_model in zip(body["data"], expected["data"], strict=True):
        assert_same_shape(model, expected_model)


def test_activity_matches_example(api: httpx.Client, admin: httpx.Client, clock: FakeClock) -> None:
    api.post("/chat/completions", json=chat_body())
    clock.advance(days=1)

    body = admin.get("/activity").json()

    assert len(body["data"]) == 1
    assert_same_shape(body, example("activity.json"))


def test_generation_matches_example(api: httpx.Client) -> None:
    headers = {"HTTP-Referer": "https://myapp.example.com/", "User-Agent": "OpenAI/Python 1.99.1"}
    generation_id = api.post("/chat/completions", json=example("chat_request.json"), headers=headers).json()[
        "id"
    ]

    body = api.get("/generation", params={"id": generation_id}).json()

    expected = example("generation.json")
    assert_same_shape(body, expected, nullable=GENERATION_NULLABLE)
    for field in ("total_cost", "usage", "tokens_prompt", "tokens_completion", "latency", "generation_time"):
        assert body["data"][field] == expected["data"][field]
    assert body["data"]["origin"] == body["data"]["http_referer"] == "https://myapp.example.com/"
    assert body["data"]["external_user"] == "user_12345"


def test_key_management_bodies_match_examples(admin: httpx.Client) -> None:
    created = admin.post("/keys", json=example("key_create_request.json"))
    key_hash = created.json()["data"]["hash"]
    updated = admin.patch(f"/keys/{key_hash}", json={"name": "customer-acme-prod", "limit": 40})
    listed = admin.get("/keys")
    fetched = admin.get(f"/keys/{key_hash}")
    deleted = admin.delete(f"/keys/{key_hash}")

    assert created.status_code == 201
    assert_same_shape(created.json(), example("key_created.json"), nullable=KEY_OBJECT_NULLABLE)
    assert_same_shape(updated.json(), example("key_updated.json"), nullable=KEY_OBJECT_NULLABLE)
    assert_same_shape(listed.json(), example("keys_list.json"), nullable=KEY_OBJECT_NULLABLE)
    assert_same_shape(fetched.json(), example("key_updated.json"), nullable=KEY_OBJECT_NULLABLE)
    assert deleted.json() == example("key_deleted.json")


# --- errors -------------------------------------------------------------------------------------


def _error_cases(emulator: Emulator, keys: dict[str, str]) -> list[tuple[str, httpx.Response]]:
    api, admin = client(emulator, keys["inference"]), client(emulator, keys["management"])
    anonymous = client(emulator)
    cases = [
        (
            "error_400_invalid_model.json",
            api.post("/chat/completions", json=chat_body(model="acme/not-a-model")),
        ),
        ("error_401.json", client(emulator, "sk-or-v1-" + "0" * 64).get("/key")),
        ("error_401_missing_auth.json", anonymous.get("/key")),
        ("error_403_management_only.json", api.get("/activity")),
        ("error_404_generation.json", api.get("/generation", params={"id": "gen-1-unknown"})),
        ("error_401.json", admin.post("/chat/completions", json=chat_body())),
    ]
    for status, name in ((400, "error_400_invalid_model.json"), (404, "error_404_no_endpoints.json")):
        emulator.inject("status", status=status)
        cases.append((name, api.post("/chat/completions", json=chat_body())))
    for status, name in ((408, "error_408.json"), (502, "error_502.json"), (503, "error_503.json")):
        emulator.inject("status", status=status)
        cases.append((name, api.post("/chat/completions", json=chat_body())))
    emulator.inject("rate_limit", retry_after=3)
    cases.append(("error_429_upstream.json", api.post("/chat/completions", json=chat_body())))
    return cases


def test_every_error_the_emulator_sends_matches_its_example(emulator: Emulator, keys: dict[str, str]) -> None:
    for name, response in _error_cases(emulator, keys):
        expected = example(name)
        assert response.status_code == expected["error"]["code"], name
        assert_same_shape(response.json(), expected)
        if name != "error_400_invalid_model.json":
            assert response.json()["error"]["message"] == expected["error"]["message"], name


def test_balance_and_limit_errors_match_examples(emulator: Emulator) -> None:
    broke = emulator.add_account(credits=Decimal(0))
    poor = emulator.add_account(credits=Decimal("0.01"))
    capped = emulator.add_account(credits=Decimal(10))
    capped_key = emulator.add_key(capped, limit=Decimal(0), limit_reset="monthly")

    cases = {
        "error_402.json": client(emulator, emulator.add_key(broke)).post(
            "/chat/completions", json=chat_body()
        ),
        "error_402_max_tokens.json": client(emulator, emulator.add_key(poor)).post(
            "/chat/completions", json=chat_body(model="anthropic/claude-sonnet-4.6")
        ),
        "error_403_key_limit.json": client(emulator, capped_key).post("/chat/completions", json=chat_body()),
    }

    for name, response in cases.items():
        expected = example(name)
        assert response.status_code == expected["error"]["code"], name
        assert_same_shape(response.json(), expected)
    assert cases["error_403_key_limit.json"].json() == example("error_403_key_limit.json")
    assert cases["error_402.json"].json() == example("error_402.json")


def test_free_model_rate_limit_errors_match_examples(emulator: Emulator, clock: FakeClock) -> None:
    account = emulator.add_account(credits=Decimal(5))
    api = client(emulator, emulator.add_key(account))
    free = chat_body("hi", model="openai/gpt-oss-120b:free")
    for _ in range(20):
        assert api.post("/chat/completions", json=free).status_code == 200

    per_minute = api.post("/chat/completions", json=free)

    assert_same_shape(per_minute.json(), example("error_429_per_minute.json"))
    for _ in range(30):
        clock.advance(minutes=1)
        api.post("/chat/completions", json=free)
    per_day = api.post("/chat/completions", json=free)
    assert_same_shape(per_day.json(), example("error_429.json"))
    assert per_day.json()["error"]["message"] == example("error_429.json")["error"]["message"]
