"""Keys the platform provisions per tenant: the lifecycle against the emulator, failure halfway,
bad limits, audit rows, and that the key never leaves the server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.core.models import AuditAction, AuditEvent
from apps.integrations.models import AISettings, KeySlot, KeySource
from apps.integrations.platform_keys import (
    PlatformKeyError,
    platform_key_create,
    platform_key_delete,
    platform_key_disabled_set,
    platform_key_limit_set,
    platform_key_rotate,
)
from apps.integrations.selectors import openrouter_key_get
from apps.integrations.services import ai_settings_update
from tests.factories import AISettingsFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(settings: Any, emulator: Any, management_key: str) -> Any:
    """Platform keys on: the platform's management key is the emulator account's."""
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = management_key
    return emulator


def _key_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.startswith("/keys")]


def _row(user: Any) -> AISettings:
    return AISettings.objects.for_user(user).get()


def _audit(user: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(e.action, e.detail) for e in AuditEvent.objects.filter(user=user).order_by("pk")]


def _create(user: Any, actor: Any, limit: Any = "50") -> Any:
    return platform_key_create(user=user, actor=actor, limit_usd=limit, ip_address="10.0.0.1")


# ------------------------------------------------------------------ create


def test_create_makes_a_monthly_limited_key_upstream_and_stores_it_encrypted(
    platform: Any, user_a: Any, staff: Any, management_key: str
) -> None:
    result = _create(user_a, staff)

    plaintext = openrouter_key_get(user=user_a, slot=KeySlot.API)
    upstream = platform.key(plaintext)
    row = _row(user_a)
    assert (upstream.name, upstream.limit, upstream.limit_reset, upstream.disabled) == (
        f"tenant-{user_a.pk}",
        Decimal(50),
        "monthly",
        False,
    )
    sent = _key_requests(platform)
    assert [(r.method, r.path, r.body) for r in sent] == [
        ("POST", "/keys", {"name": f"tenant-{user_a.pk}", "limit": 50, "limit_reset": "monthly"})
    ]
    assert sent[0].key_hash == platform.key_hash(management_key)
    assert (row.api_key_source, row.platform_key_hash, row.platform_key_limit_usd) == (
        KeySource.PLATFORM,
        upstream.hash,
        Decimal("50.00"),
    )
    assert row.api_key_last4 == plaintext[-4:] == result.last4
    raw = AISettings.objects.filter(pk=row.pk).extra(select={"raw": "openrouter_api_key"}).values("raw")[0]
    assert plaintext not in raw["raw"]  # ciphertext at rest
    event = AuditEvent.objects.get(user=user_a)
    assert (event.action, event.actor, event.target, event.ip_address) == (
        AuditAction.PLATFORM_KEY_CREATED,
        staff,
        "ai_settings:platform_key",
        "10.0.0.1",
    )
    assert event.detail == {
        "last4": plaintext[-4:],
        "key_hash": upstream.hash,
        "limit_usd": "50.00",
        "limit_reset": "monthly",
    }


def test_the_provisioned_key_serves_the_tenants_ai_calls(
    platform: Any, user_a: Any, staff: Any, api_a: Any
) -> None:
    _create(user_a, staff)

    response = api_a.post(
        "/api/v1/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5},
        format="json",
    )

    assert response.status_code == 200
    plaintext = openrouter_key_get(user=user_a, slot=KeySlot.API)
    assert platform.generations[-1].key_hash == platform.key_hash(plaintext)


@pytest.mark.parametrize(
    ("fault", "params", "status"),
    [
        ("status", {"status": 403}, "HTTP 403"),
        ("rate_limit", {}, "HTTP 429"),
        ("status", {"status": 500}, "HTTP 500"),
        ("status", {"status": 502}, "HTTP 502"),
        ("status", {"status": 503}, "HTTP 503"),
    ],
)
def test_openrouter_refusing_to_create_stores_nothing(
    platform: Any,
    management_key: str,
    user_a: Any,
    staff: Any,
    fault: str,
    params: dict[str, Any],
    status: str,
) -> None:
    platform.inject(fault, path="/keys", **params)

    with pytest.raises(PlatformKeyError) as raised:
        _create(user_a, staff)

    assert status in raised.value.message
    assert "No key was created or stored." in raised.value.message
    assert not AISettings.objects.for_user(user_a).exclude(api_key_last4="").exists()
    assert platform.core.state.account_keys(platform.key(management_key).account, "inference") == []
    assert len(_key_requests(platform)) == 1  # never retried: a retried POST could make a second key
    assert AuditEvent.objects.filter(user=user_a).count() == 0


def test_a_403_for_a_platform_key_that_is_not_a_management_key_stores_nothing(
    settings: Any, emulator: Any, inference_key: str, user_a: Any, staff: Any
) -> None:
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = inference_key

    with pytest.raises(PlatformKeyError) as raised:
        _create(user_a, staff)

    assert raised.value.message == (
        "OpenRouter refused the platform management key (HTTP 403). Check "
        "OPENROUTER_PLATFORM_MANAGEMENT_KEY: it must be a management key. No key was created or stored."
    )
    assert not AISettings.objects.for_user(user_a).exists()
    assert AuditEvent.objects.count() == 0


def test_when_storing_fails_the_new_upstream_key_is_deleted_again(
    platform: Any, settings: Any, user_a: Any, staff: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = []  # encryption is misconfigured: the store fails

    with pytest.raises(PlatformKeyError) as raised:
        _create(user_a, staff)

    assert raised.value.message == "The key could not be stored. The new OpenRouter key was deleted again."
    sent = [(r.method, r.path.split("/")[1]) for r in _key_requests(platform)]
    assert sent == [("POST", "keys"), ("DELETE", "keys")]
    created_hash = _key_requests(platform)[1].path.removeprefix("/keys/")
    assert platform.core.state.keys[created_hash].deleted is True
    assert not AISettings.objects.for_user(user_a).exclude(api_key_last4="").exists()
    assert AuditEvent.objects.count() == 0


def test_when_storing_and_the_cleanup_both_fail_the_message_names_the_hash(
    platform: Any, settings: Any, user_a: Any, staff: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = []
    # OpenRouter also fails the clean-up DELETE of the key it just created.
    platform.core.state.keys = _Keys(
        platform.core.state.keys,
        lambda key_hash: platform.inject_for_hash("status", path=f"/keys/{key_hash}", status=503),
    )

    with pytest.raises(PlatformKeyError) as raised:
        _create(user_a, staff)

    created_hash = _key_requests(platform)[1].path.removeprefix("/keys/")
    assert raised.value.message == (
        "The key could not be stored. The new key could not be deleted from OpenRouter again "
        f"(hash {created_hash}): delete it there by hand."
    )
    assert platform.core.state.keys[created_hash].deleted is False
    assert not AISettings.objects.for_user(user_a).exclude(api_key_last4="").exists()


class _Keys(dict[str, Any]):
    """The emulator's key registry, calling ``added`` with each new key's hash (to script faults)."""

    def __init__(self, keys: dict[str, Any], added: Any) -> None:
        super().__init__(keys)
        self._added = added

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._added(key)


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("-5", "The limit must be more than 0 USD. To stop the tenant's spending, disable the key."),
        ("0", "The limit must be more than 0 USD. To stop the tenant's spending, disable the key."),
        ("abc", "The limit must be a number of US dollars, e.g. 50."),
        ("NaN", "The limit must be a number of US dollars, e.g. 50."),
        ("Infinity", "The limit must be a number of US dollars, e.g. 50."),
        ("1e9", "The limit must be at most 1000 USD a month (OPENROUTER_PLATFORM_KEY_MAX_LIMIT_USD)."),
        ("1000.01", "The limit must be at most 1000 USD a month (OPENROUTER_PLATFORM_KEY_MAX_LIMIT_USD)."),
        ("10.001", "The limit must be in whole cents, e.g. 49.99."),
        ("", "The limit must be a number of US dollars, e.g. 50."),
    ],
)
def test_a_negative_or_absurd_limit_is_refused_before_anything_is_sent(
    platform: Any, user_a: Any, staff: Any, limit: str, message: str
) -> None:
    with pytest.raises(PlatformKeyError) as raised:
        _create(user_a, staff, limit)

    assert raised.value.message == message
    assert _key_requests(platform) == []
    assert not AISettings.objects.for_user(user_a).exists()


def test_a_comma_decimal_limit_is_accepted(platform: Any, user_a: Any, staff: Any) -> None:
    result = _create(user_a, staff, "12,50")
    assert result.limit_usd == Decimal("12.50")


def test_with_the_feature_off_nothing_is_sent(settings: Any, emulator: Any, user_a: Any, staff: Any) -> None:
    settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY = ""

    with pytest.raises(PlatformKeyError) as raised:
        _create(user_a, staff)

    assert raised.value.message == (
        "Platform-provisioned keys are off: OPENROUTER_PLATFORM_MANAGEMENT_KEY is not set."
    )
    assert emulator.requests == []


def test_a_tenant_with_their_own_key_is_not_given_a_platform_key(
    platform: Any, user_a: Any, staff: Any
) -> None:
    own = AISettingsFactory(user=user_a)

    with pytest.raises(PlatformKeyError) as raised:
        _create(user_a, staff)

    assert "uses their own OpenRouter API key" in raised.value.message
    assert _key_requests(platform) == []
    assert openrouter_key_get(user=user_a, slot=KeySlot.API) == own.openrouter_api_key


def test_a_second_create_is_refused(platform: Any, user_a: Any, staff: Any) -> None:
    _create(user_a, staff)

    with pytest.raises(PlatformKeyError) as raised:
        _create(user_a, staff)

    assert raised.value.message == "This tenant already has a platform key: rotate it or change its limit."
    assert len(_key_requests(platform)) == 1


# ------------------------------------------------------------------ rotate, limit, disable, delete


def test_rotate_stores_a_new_key_and_deletes_the_old_one_upstream(
    platform: Any, user_a: Any, staff: Any
) -> None:
    first = _create(user_a, staff, "40")
    old_plaintext = openrouter_key_get(user=user_a, slot=KeySlot.API)

    result = platform_key_rotate(user=user_a, actor=staff)

    new_plaintext = openrouter_key_get(user=user_a, slot=KeySlot.API)
    assert new_plaintext != old_plaintext
    assert platform.key(old_plaintext).deleted is True
    new_upstream = platform.key(new_plaintext)
    assert (new_upstream.limit, new_upstream.limit_reset, new_upstream.deleted) == (
        Decimal(40),
        "monthly",
        False,
    )
    assert (result.warning, _row(user_a).platform_key_hash) == ("", new_upstream.hash)
    assert _audit(user_a)[-1] == (
        AuditAction.PLATFORM_KEY_ROTATED,
        {
            "last4": new_plaintext[-4:],
            "key_hash": new_upstream.hash,
            "previous_last4": first.last4,
            "previous_key_hash": first.key_hash,
            "previous_deleted": True,
        },
    )


def test_rotating_a_disabled_key_keeps_it_disabled(platform: Any, user_a: Any, staff: Any) -> None:
    _create(user_a, staff)
    platform_key_disabled_set(user=user_a, actor=staff, disabled=True)

    platform_key_rotate(user=user_a, actor=staff)

    assert platform.key(openrouter_key_get(user=user_a, slot=KeySlot.API)).disabled is True
    assert _row(user_a).platform_key_disabled is True


def test_rotate_refused_upstream_keeps_the_current_key(platform: Any, user_a: Any, staff: Any) -> None:
    _create(user_a, staff)
    before = openrouter_key_get(user=user_a, slot=KeySlot.API)
    platform.inject("status", path="/keys", status=502)

    with pytest.raises(PlatformKeyError) as raised:
        platform_key_rotate(user=user_a, actor=staff)

    assert raised.value.message.endswith("The current key is unchanged.")
    assert openrouter_key_get(user=user_a, slot=KeySlot.API) == before
    assert platform.key(before).deleted is False
    assert [a for a, _ in _audit(user_a)] == [AuditAction.PLATFORM_KEY_CREATED]


def test_rotate_whose_store_fails_deletes_the_new_key_and_keeps_the_old(
    platform: Any, settings: Any, user_a: Any, staff: Any
) -> None:
    _create(user_a, staff)
    before = openrouter_key_get(user=user_a, slot=KeySlot.API)
    keys = settings.FIELD_ENCRYPTION_KEYS
    settings.FIELD_ENCRYPTION_KEYS = []

    with pytest.raises(PlatformKeyError) as raised:
        platform_key_rotate(user=user_a, actor=staff)

    settings.FIELD_ENCRYPTION_KEYS = keys
    assert raised.value.message == "The new key could not be stored. The current key is unchanged."
    created = [k for k in platform.core.state.keys.values() if k.kind == "inference"]
    assert [(k.hash == platform.key_hash(before), k.deleted) for k in created] == [
        (True, False),
        (False, True),
    ]
    assert openrouter_key_get(user=user_a, slot=KeySlot.API) == before


def test_limit_change_patches_upstream_and_is_audited_once(platform: Any, user_a: Any, staff: Any) -> None:
    _create(user_a, staff, "50")
    plaintext = openrouter_key_get(user=user_a, slot=KeySlot.API)

    platform_key_limit_set(user=user_a, actor=staff, limit_usd="75.5")
    platform_key_limit_set(user=user_a, actor=staff, limit_usd="75.50")  # the same: nothing sent

    patches = [r for r in _key_requests(platform) if r.method == "PATCH"]
    assert [r.body for r in patches] == [{"limit": 75.5, "limit_reset": "monthly"}]
    assert platform.key(plaintext).limit == Decimal("75.5")
    assert _row(user_a).platform_key_limit_usd == Decimal("75.50")
    assert _audit(user_a)[1:] == [
        (
            AuditAction.PLATFORM_KEY_LIMIT_CHANGED,
            {
                "last4": plaintext[-4:],
                "key_hash": platform.key_hash(plaintext),
                "limit_usd": "75.50",
                "previous_limit_usd": "50.00",
            },
        )
    ]


def test_a_bad_new_limit_changes_nothing(platform: Any, user_a: Any, staff: Any) -> None:
    _create(user_a, staff, "50")

    with pytest.raises(PlatformKeyError):
        platform_key_limit_set(user=user_a, actor=staff, limit_usd="-1")

    assert [r.method for r in _key_requests(platform)] == ["POST"]
    assert _row(user_a).platform_key_limit_usd == Decimal("50.00")


def test_disable_makes_openrouter_refuse_the_tenants_calls_and_enable_restores_them(
    platform: Any, user_a: Any, staff: Any, api_a: Any
) -> None:
    _create(user_a, staff)
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}

    platform_key_disabled_set(user=user_a, actor=staff, disabled=True)
    refused = api_a.post("/api/v1/chat/completions", body, format="json")
    platform_key_disabled_set(user=user_a, actor=staff, disabled=False)
    served = api_a.post("/api/v1/chat/completions", body, format="json")

    # OpenRouter answers a disabled key with 401; the gateway reports it as a refused key.
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_key")
    assert served.status_code == 200
    assert [a for a, _ in _audit(user_a)] == [
        AuditAction.PLATFORM_KEY_CREATED,
        AuditAction.PLATFORM_KEY_DISABLED,
        AuditAction.PLATFORM_KEY_ENABLED,
    ]


def test_delete_removes_the_key_upstream_and_here(platform: Any, user_a: Any, staff: Any) -> None:
    result = _create(user_a, staff)
    plaintext = openrouter_key_get(user=user_a, slot=KeySlot.API)

    platform_key_delete(user=user_a, actor=staff)

    row = _row(user_a)
    assert platform.key(plaintext).deleted is True
    assert (row.api_key_source, row.platform_key_hash, row.api_key_last4, row.platform_key_limit_usd) == (
        KeySource.OWN,
        "",
        "",
        None,
    )
    assert AISettings.objects.for_user(user_a).values_list("openrouter_api_key", flat=True).get() == ""
    assert _audit(user_a)[-1] == (
        AuditAction.PLATFORM_KEY_DELETED,
        {"last4": result.last4, "key_hash": result.key_hash},
    )


def test_delete_of_a_key_openrouter_no_longer_knows_still_clears_it_here(
    platform: Any, user_a: Any, staff: Any, management_key: str
) -> None:
    result = _create(user_a, staff)
    platform.core.state.keys[result.key_hash].deleted = True  # deleted on openrouter.ai by hand

    platform_key_delete(user=user_a, actor=staff)

    assert _row(user_a).api_key_source == KeySource.OWN


def test_delete_refused_upstream_keeps_everything(platform: Any, user_a: Any, staff: Any) -> None:
    result = _create(user_a, staff)
    platform.inject("status", path=f"/keys/{result.key_hash}", status=503)

    with pytest.raises(PlatformKeyError) as raised:
        platform_key_delete(user=user_a, actor=staff)

    assert raised.value.message.endswith("The key was not deleted.")
    assert _row(user_a).platform_key_hash == result.key_hash


def test_actions_on_a_tenant_without_a_platform_key_are_refused(
    platform: Any, user_a: Any, staff: Any
) -> None:
    AISettingsFactory(user=user_a)
    for action in (
        lambda: platform_key_rotate(user=user_a, actor=staff),
        lambda: platform_key_limit_set(user=user_a, actor=staff, limit_usd="5"),
        lambda: platform_key_disabled_set(user=user_a, actor=staff, disabled=True),
        lambda: platform_key_delete(user=user_a, actor=staff),
    ):
        with pytest.raises(PlatformKeyError, match=r"^This tenant has no platform key\.$"):
            action()
    assert _key_requests(platform) == []


def test_the_tenant_cannot_overwrite_or_remove_the_platform_key(
    platform: Any, user_a: Any, staff: Any
) -> None:
    _create(user_a, staff)
    before = openrouter_key_get(user=user_a, slot=KeySlot.API)

    for change in ({"api_key": "sk-or-v1-" + "a" * 64}, {"remove_api_key": True}):
        with pytest.raises(Exception, match="provided by the platform"):
            ai_settings_update(user=user_a, actor=user_a, verify=False, **change)

    assert openrouter_key_get(user=user_a, slot=KeySlot.API) == before
    assert ai_settings_update(user=user_a, actor=user_a, default_model="openai/gpt-4o-mini", verify=False)


def test_the_database_refuses_a_platform_source_without_a_hash(user_a: Any) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AISettingsFactory(user=user_a, api_key_source=KeySource.PLATFORM, platform_key_hash="")
