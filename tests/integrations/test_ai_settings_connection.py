"""Test connection against the emulator: every outcome a user can meet, and what gets recorded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import time_machine

from apps.integrations.connection import CheckOutcome
from apps.integrations.models import AISettings, KeySlot, KeyStatus
from apps.integrations.services import ai_connection_test, ai_settings_update

pytestmark = pytest.mark.django_db


def _outcomes(report: Any) -> tuple[str, str]:
    return report.api.outcome.value, report.management.outcome.value


def test_a_valid_inference_key_and_a_valid_management_key(
    user_a: Any, inference_key: str, management_key: str
) -> None:
    report = ai_connection_test(user=user_a, api_key=inference_key, management_key=management_key)
    assert _outcomes(report) == ("ok", "ok")
    assert report.ok is True
    api, management = report.api, report.management
    assert (api.source, api.last4, api.is_management_key, api.balance) == (
        "entered",
        inference_key[-4:],
        False,
        Decimal(100),
    )
    assert (management.source, management.last4, management.is_management_key, management.balance) == (
        "entered",
        management_key[-4:],
        True,
        Decimal(100),
    )
    assert api.message == "Valid inference API key: it can make AI calls."
    assert management.message.startswith("Valid management key")
    # Entered keys are not saved, so nothing is recorded.
    assert not AISettings.objects.exists()


def test_a_valid_inference_key_alone(user_a: Any, emulator: Any, inference_key: str) -> None:
    report = ai_connection_test(user=user_a, api_key=inference_key)
    assert _outcomes(report) == ("ok", "not_configured")
    assert report.ok is True
    # Without a management key the balance is unknown (OpenRouter refuses /credits to inference keys).
    assert report.api.balance is None
    assert sorted(r.path for r in emulator.requests) == ["/credits", "/key"]


def test_a_management_key_pasted_into_the_api_key_field_is_explained(
    user_a: Any, management_key: str
) -> None:
    report = ai_connection_test(user=user_a, api_key=management_key)
    assert report.api.outcome == CheckOutcome.MANAGEMENT_KEY_IN_API_FIELD
    assert report.api.is_management_key is True
    assert "This is a management key" in report.api.message
    assert report.ok is False


def test_an_inference_key_pasted_into_the_management_field_is_explained(
    user_a: Any, inference_key: str
) -> None:
    report = ai_connection_test(user=user_a, management_key=inference_key)
    assert report.management.outcome == CheckOutcome.INFERENCE_KEY_IN_MANAGEMENT_FIELD
    assert report.management.is_management_key is False
    assert "not a management key" in report.management.message


def test_an_unknown_key_is_invalid(user_a: Any, emulator: Any) -> None:
    report = ai_connection_test(
        user=user_a, api_key="sk-or-v1-" + "0" * 64, management_key="sk-or-v1-" + "1" * 64
    )
    assert _outcomes(report) == ("invalid_key", "invalid_key")
    assert "does not recognise this key" in report.api.message


def test_a_disabled_key_is_invalid(user_a: Any, emulator: Any, account: Any) -> None:
    key = emulator.add_key(account, kind="inference", disabled=True)
    assert ai_connection_test(user=user_a, api_key=key).api.outcome == CheckOutcome.INVALID_KEY


def test_an_account_out_of_credits_is_reported_through_the_management_key(user_a: Any, emulator: Any) -> None:
    empty = emulator.add_account(credits=Decimal(0))
    api = emulator.add_key(empty, kind="inference")
    management = emulator.add_key(empty, kind="management")
    report = ai_connection_test(user=user_a, api_key=api, management_key=management)
    assert _outcomes(report) == ("out_of_credits", "out_of_credits")
    assert report.api.balance == Decimal(0)
    assert "out of credits" in report.api.message


def test_out_of_credits_is_found_with_an_inference_key_where_credits_still_answer(
    user_a: Any, settings: Any
) -> None:
    from apps.core import http
    from apps.emulator import Emulator

    legacy = Emulator(credits_mode="legacy")
    account = legacy.add_account(credits=Decimal(5))
    key = legacy.add_key(account, kind="inference")
    account.usage = Decimal(5)  # everything bought has been spent
    with http.mount(settings.OPENROUTER_BASE_URL, legacy.transport()):
        report = ai_connection_test(user=user_a, api_key=key)
    assert report.api.outcome == CheckOutcome.OUT_OF_CREDITS
    assert report.api.balance == Decimal(0)


def test_a_key_at_its_limit_is_reported(user_a: Any, emulator: Any, account: Any) -> None:
    key = emulator.add_key(account, kind="inference", limit=Decimal(0), limit_reset="monthly")
    report = ai_connection_test(user=user_a, api_key=key)
    check = report.api
    assert (check.outcome, check.limit, check.limit_remaining, check.limit_reset) == (
        CheckOutcome.KEY_LIMIT,
        Decimal(0),
        Decimal(0),
        "monthly",
    )
    assert "spending limit" in check.message


@pytest.mark.parametrize(
    ("kind", "params"),
    [("status", {"status": 503}), ("html", {"status": 502}), ("non_json", {"status": 200})],
)
def test_openrouter_unreachable_is_reported_not_raised(
    user_a: Any, emulator: Any, inference_key: str, kind: str, params: dict[str, Any]
) -> None:
    emulator.inject(kind, times=5, path="/key", **params)
    report = ai_connection_test(user=user_a, api_key=inference_key)
    assert report.api.outcome == CheckOutcome.UNREACHABLE
    assert report.api.message == "OpenRouter could not be reached. Try again later."
    assert report.api.detail  # OpenRouter's specific reason, for the curious


def test_rate_limiting_is_reported(user_a: Any, emulator: Any, inference_key: str) -> None:
    emulator.inject("rate_limit", times=5, path="/key", retry_after=0)
    assert ai_connection_test(user=user_a, api_key=inference_key).api.outcome == CheckOutcome.RATE_LIMITED


def test_nothing_to_test(user_a: Any, emulator: Any) -> None:
    report = ai_connection_test(user=user_a)
    assert _outcomes(report) == ("not_configured", "not_configured")
    assert report.ok is False
    assert emulator.requests == []


def test_stored_keys_are_tested_and_the_result_recorded(
    user_a: Any, emulator: Any, account: Any, inference_key: str
) -> None:
    management = emulator.add_key(account, kind="inference")  # the wrong kind, on purpose
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management, verify=False
    )
    with time_machine.travel("2026-11-20 10:00:00+00:00", tick=False):
        report = ai_connection_test(user=user_a)
    assert (report.api.source, report.management.source) == ("stored", "stored")
    row = AISettings.objects.get(user=user_a)
    assert (row.api_key_status, row.api_key_status_detail, row.api_key_verified_at.isoformat()) == (
        KeyStatus.OK,
        "",
        "2026-11-20T10:00:00+00:00",
    )
    assert (row.management_key_status, row.management_key_status_detail) == (
        KeyStatus.FAILING,
        "inference_key_in_management_field",
    )
    assert row.management_key_verified_at is not None


def test_an_unreachable_openrouter_marks_the_key_failing_without_a_verification_time(
    user_a: Any, emulator: Any, inference_key: str
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    emulator.inject("status", times=5, path="/key", status=503)
    ai_connection_test(user=user_a)
    row = AISettings.objects.get(user=user_a)
    assert (row.api_key_status, row.api_key_status_detail, row.api_key_verified_at) == (
        KeyStatus.FAILING,
        "unreachable",
        None,
    )


def test_entered_keys_are_reported_but_never_recorded(
    user_a: Any, inference_key: str, management_key: str
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    report = ai_connection_test(user=user_a, api_key=management_key)
    assert report.api.outcome == CheckOutcome.MANAGEMENT_KEY_IN_API_FIELD
    row = AISettings.objects.get(user=user_a)
    assert (row.api_key_status, row.api_key_verified_at) == (KeyStatus.UNVERIFIED, None)


def test_saving_a_key_tests_it_and_records_the_result(
    user_a: Any, inference_key: str, management_key: str
) -> None:
    saved = ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management_key
    )
    assert saved.report is not None
    assert _outcomes(saved.report) == ("ok", "ok")
    assert (saved.settings.api_key_status, saved.settings.management_key_status) == (
        KeyStatus.OK,
        KeyStatus.OK,
    )


def test_each_user_is_tested_with_their_own_key(
    user_a: Any, user_b: Any, emulator: Any, account: Any, inference_key: str
) -> None:
    key_b = emulator.add_key(account, kind="inference", name="bob")
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    ai_settings_update(user=user_b, actor=user_b, api_key=key_b, verify=False)
    emulator.reset_ledger()
    ai_connection_test(user=user_a)
    assert {r.key_hash for r in emulator.requests} == {emulator.key_hash(inference_key)}
    row_b = AISettings.objects.get(user=user_b)
    assert (row_b.api_key_status, row_b.api_key_verified_at) == (KeyStatus.UNVERIFIED, None)


def test_a_stored_key_that_no_longer_decrypts_is_reported_as_unreadable(
    user_a: Any, emulator: Any, inference_key: str, settings: Any
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    settings.FIELD_ENCRYPTION_KEYS = ["bmV3LWtleS1uZXctZmllbGQta2V5LTAwMDAwMDAwMDA="]
    report = ai_connection_test(user=user_a)
    assert report.api.outcome == CheckOutcome.UNREADABLE
    assert emulator.requests == []
    row = AISettings.objects.defer("openrouter_api_key", "openrouter_management_key").get(user=user_a)
    assert (row.api_key_status, row.api_key_status_detail) == (KeyStatus.FAILING, "unreadable")


def test_slot_labels_are_the_products(user_a: Any) -> None:
    report = ai_connection_test(user=user_a)
    assert report.api.slot_label == "API key"
    assert report.management.slot_label == "Provisioning / management key"
    assert report.management.slot == KeySlot.MANAGEMENT
