"""Account values: cache lifetimes, last known values when OpenRouter fails, credit snapshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from apps.integrations.account import (
    CreditsInfo,
    account_activity_get,
    account_credits_get,
    account_key_get,
    account_models_get,
    credit_snapshot_record,
    model_ids_known,
    models_filter,
)
from apps.integrations.models import CreditSnapshot, CreditSource
from apps.integrations.services import ai_settings_update
from tests.integrations.conftest import START

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_keys(user_a: Any, inference_key: str, management_key: str) -> Any:
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management_key, verify=False
    )
    return user_a


@pytest.fixture
def api_key_only(user_a: Any, inference_key: str) -> Any:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    return user_a


def _calls(emulator: Any, path: str) -> int:
    return sum(1 for r in emulator.requests if r.path == path)


# ------------------------------------------------------------------ lifetimes


@pytest.mark.parametrize(
    ("read", "path", "lifetime"),
    [
        (lambda user: account_credits_get(user=user), "/credits", 60),
        (lambda user: account_key_get(user=user), "/key", 300),
        (lambda user: account_models_get(), "/models", 3600),
        (lambda user: account_activity_get(user=user), "/activity", 60),
    ],
    ids=["credits-60s", "key-5min", "models-1h", "activity-1min"],
)
def test_each_value_is_cached_for_its_lifetime(
    clock: Any, emulator: Any, with_keys: Any, read: Any, path: str, lifetime: int
) -> None:
    first = read(with_keys)
    assert first.problem is None
    assert first.fetched_at == START
    clock.shift(lifetime - 1)
    cached = read(with_keys)
    assert (cached.fetched_at, cached.age_seconds(), _calls(emulator, path)) == (START, lifetime - 1, 1)
    clock.shift(1)
    refreshed = read(with_keys)
    assert refreshed.fetched_at == START + dt.timedelta(seconds=lifetime)
    assert refreshed.age_seconds() == 0
    assert _calls(emulator, path) == 2


def test_credits_come_from_the_management_key_when_there_is_one(
    clock: Any, emulator: Any, with_keys: Any, management_key: str
) -> None:
    fetched = account_credits_get(user=with_keys)
    assert fetched.value == CreditsInfo(
        source=CreditSource.ACCOUNT,
        remaining=Decimal(100),
        total_credits=Decimal(100),
        total_usage=Decimal(0),
    )
    assert [(r.path, r.key_hash) for r in emulator.requests] == [
        ("/credits", emulator.key_hash(management_key))
    ]


def test_without_a_management_key_credits_are_the_api_keys_limit(
    clock: Any, emulator: Any, user_a: Any, account: Any
) -> None:
    key = emulator.add_key(account, kind="inference", limit=Decimal(20), limit_reset="monthly")
    ai_settings_update(user=user_a, actor=user_a, api_key=key, verify=False)
    fetched = account_credits_get(user=user_a)
    assert fetched.value == CreditsInfo(
        source=CreditSource.KEY_LIMIT,
        remaining=Decimal(20),
        limit=Decimal(20),
        limit_reset="monthly",
        usage=Decimal(0),
        usage_daily=Decimal(0),
        usage_weekly=Decimal(0),
        usage_monthly=Decimal(0),
    )
    assert [r.path for r in emulator.requests] == ["/key"]


def test_key_info_never_carries_openrouters_label(clock: Any, api_key_only: Any) -> None:
    # The label repeats the key's first characters (sk-or-v1-a20...), so it is dropped.
    info = account_key_get(user=api_key_only).value
    assert info is not None
    assert (info.label, info.is_management_key, info.limit, info.usage) == ("", False, None, Decimal(0))


def test_nothing_configured_is_reported_without_calling_openrouter(
    clock: Any, emulator: Any, user_a: Any
) -> None:
    for fetched in (
        account_credits_get(user=user_a),
        account_key_get(user=user_a),
        account_activity_get(user=user_a),
    ):
        assert fetched.value is None
        assert fetched.stale is False
        assert fetched.problem is not None
        assert fetched.problem.code == "openrouter_key_missing"
    assert emulator.requests == []


def test_activity_needs_the_management_key(clock: Any, emulator: Any, api_key_only: Any) -> None:
    fetched = account_activity_get(user=api_key_only)
    assert fetched.value is None
    assert fetched.problem is not None
    assert fetched.problem.code == "openrouter_key_missing"
    assert "management key" in fetched.problem.message


def test_each_activity_day_is_cached_on_its_own(
    clock: Any, emulator: Any, with_keys: Any, inference_key: str
) -> None:
    day = dt.date(2026, 11, 19)
    assert account_activity_get(user=with_keys, date=day).value == []
    account_activity_get(user=with_keys, date=day)
    account_activity_get(user=with_keys)
    # Like the sync: only the configured API key's spend (OpenRouter's api_key_hash filter).
    key_hash = emulator.key_hash(inference_key)
    assert [(r.path, r.query) for r in emulator.requests] == [
        ("/activity", {"date": "2026-11-19", "api_key_hash": key_hash}),
        ("/activity", {"api_key_hash": key_hash}),
    ]


def test_live_activity_reads_the_whole_account_once_the_tenant_chooses_it(
    clock: Any, emulator: Any, with_keys: Any, inference_key: str
) -> None:
    account_activity_get(user=with_keys)
    ai_settings_update(user=with_keys, actor=with_keys, activity_whole_account=True)
    # The change clears the tenant's cache: the next read asks again, without the key filter.
    account_activity_get(user=with_keys)
    assert [r.query for r in emulator.requests if r.path == "/activity"] == [
        {"api_key_hash": emulator.key_hash(inference_key)},
        {},
    ]


# ------------------------------------------------------------------ failures


def test_a_failure_serves_the_last_known_value_with_its_age_and_reason(
    clock: Any, emulator: Any, with_keys: Any
) -> None:
    account_credits_get(user=with_keys)
    emulator.inject("status", times=10, path="/credits", status=503)
    clock.shift(90)
    fetched = account_credits_get(user=with_keys)
    assert fetched.stale is True
    assert fetched.value is not None
    assert fetched.value.remaining == Decimal(100)
    assert (fetched.fetched_at, fetched.age_seconds()) == (START, 90)
    assert fetched.problem is not None
    assert (fetched.problem.code, fetched.problem.message) == (
        "unavailable",
        "OpenRouter or the model provider is temporarily unavailable.",
    )


@pytest.mark.parametrize(
    ("kind", "params", "code"),
    [
        ("status", {"status": 502}, "provider_error"),
        ("html", {"status": 502}, "provider_error"),
        ("non_json", {"status": 200}, "bad_response"),
        ("rate_limit", {"retry_after": 0}, "rate_limited"),
    ],
)
def test_every_kind_of_failure_falls_back_to_the_last_known_value(
    clock: Any, emulator: Any, api_key_only: Any, kind: str, params: dict[str, Any], code: str
) -> None:
    account_key_get(user=api_key_only)
    emulator.inject(kind, times=10, path="/key", **params)
    clock.shift(301)
    fetched = account_key_get(user=api_key_only)
    assert (fetched.stale, fetched.age_seconds()) == (True, 301)
    assert fetched.problem is not None
    assert fetched.problem.code == code


def test_a_failure_with_nothing_known_is_reported(clock: Any, emulator: Any, with_keys: Any) -> None:
    emulator.inject("status", times=10, path="/models", status=503)
    fetched = account_models_get()
    assert (fetched.value, fetched.fetched_at, fetched.stale) == (None, None, False)
    assert fetched.problem is not None
    assert fetched.problem.code == "unavailable"
    assert model_ids_known() is None


def test_after_a_failure_openrouter_is_left_alone_for_a_while(
    clock: Any, emulator: Any, with_keys: Any
) -> None:
    account_credits_get(user=with_keys)
    emulator.inject("status", times=50, path="/credits", status=503)
    clock.shift(61)
    account_credits_get(user=with_keys)
    failed_calls = _calls(emulator, "/credits")
    clock.shift(10)
    again = account_credits_get(user=with_keys)
    assert again.stale is True
    assert again.problem is not None
    assert again.problem.code == "unavailable"
    assert _calls(emulator, "/credits") == failed_calls
    emulator.core.faults.clear()
    clock.shift(10)
    recovered = account_credits_get(user=with_keys)
    assert (recovered.stale, recovered.problem, recovered.fetched_at) == (
        False,
        None,
        START + dt.timedelta(seconds=81),
    )


def test_changing_a_key_forgets_values_read_with_the_old_one(
    clock: Any, emulator: Any, account: Any, api_key_only: Any
) -> None:
    account_key_get(user=api_key_only)
    limited = emulator.add_key(account, kind="inference", limit=Decimal(5))
    ai_settings_update(user=api_key_only, actor=api_key_only, api_key=limited, verify=False)
    info = account_key_get(user=api_key_only).value
    assert info is not None
    assert info.limit == Decimal(5)


def test_users_never_share_cached_account_values(
    clock: Any, emulator: Any, user_a: Any, user_b: Any, inference_key: str
) -> None:
    other = emulator.add_account(credits=Decimal(7))
    key_b = emulator.add_key(other, kind="inference", limit=Decimal(3))
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    ai_settings_update(user=user_b, actor=user_b, api_key=key_b, verify=False)
    info_a = account_key_get(user=user_a).value
    info_b = account_key_get(user=user_b).value
    assert (info_a.limit, info_b.limit) == (None, Decimal(3))  # type: ignore[union-attr]
    assert [r.key_hash for r in emulator.requests] == [
        emulator.key_hash(inference_key),
        emulator.key_hash(key_b),
    ]


# ------------------------------------------------------------------ snapshots


def test_a_credit_snapshot_is_recorded_at_most_once_a_minute(clock: Any, with_keys: Any, user_b: Any) -> None:
    account_credits_get(user=with_keys)
    clock.shift(30)
    account_credits_get(user=with_keys)  # cached: no fetch, no snapshot
    clock.shift(31)
    account_credits_get(user=with_keys)  # fresh again
    rows = list(
        CreditSnapshot.objects.order_by("taken_at").values_list("user", "taken_at", "source", "remaining")
    )
    assert rows == [
        (with_keys.pk, START, "account", Decimal(100)),
        (with_keys.pk, START + dt.timedelta(seconds=61), "account", Decimal(100)),
    ]
    info = CreditsInfo(source=CreditSource.ACCOUNT, remaining=Decimal(1))
    at = START + dt.timedelta(seconds=90)
    assert credit_snapshot_record(user=with_keys, info=info, at=at) is None
    assert credit_snapshot_record(user=user_b, info=info, at=at) is not None
    assert CreditSnapshot.objects.for_user(user_b).count() == 1


def test_snapshots_keep_the_balance_so_it_can_be_charted(
    clock: Any, emulator: Any, account: Any, with_keys: Any
) -> None:
    account_credits_get(user=with_keys)
    account.usage = Decimal("12.5")
    clock.shift(60)
    account_credits_get(user=with_keys)
    from apps.integrations.selectors import credit_snapshots_list

    series = [(s.taken_at, s.remaining) for s in credit_snapshots_list(user=with_keys)]
    assert series == [(START, Decimal(100)), (START + dt.timedelta(seconds=60), Decimal("87.5"))]


# ------------------------------------------------------------------ model filters


def test_models_are_sorted_and_can_be_filtered(clock: Any, emulator: Any) -> None:
    models = account_models_get().value
    assert models is not None
    ids = [m.id for m in models.data]
    assert ids == sorted(ids)
    assert len(ids) == 10
    assert [m.id for m in models_filter(models.data, search="CLAUDE")] == [
        "anthropic/claude-haiku-4.5",
        "anthropic/claude-sonnet-4.6",
    ]
    cheap = [m.id for m in models_filter(models.data, max_price=Decimal("0.75"))]
    assert cheap == [
        "deepseek/deepseek-chat-v3.1",
        "openai/gpt-4o-mini",
        "openai/gpt-oss-120b",
        "openai/gpt-oss-120b:free",
    ]
    assert [m.id for m in models_filter(models.data, max_price=Decimal(0))] == ["openai/gpt-oss-120b:free"]
    image_models = models_filter(models.data, modality="image")
    assert image_models
    assert all("image" in m.architecture.input_modalities for m in image_models)
    assert models_filter(models.data, modality="video", search="gpt") == []
    assert "openai/gpt-4o-mini" in (model_ids_known() or set())
