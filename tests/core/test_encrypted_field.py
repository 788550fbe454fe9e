from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.checks import Error
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from apps.core import crypto
from apps.core.checks import check_field_encryption_keys
from apps.core.models import AuditEvent
from apps.integrations.models import AISettings

pytestmark = pytest.mark.django_db

CANARY = "sk-or-v1-" + "c4a7" * 16
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _raw(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT openrouter_api_key, openrouter_management_key FROM user_ai_settings WHERE id = %s", [pk]
        )
        return cursor.fetchone()


def test_round_trip_and_ciphertext_at_rest(user_a: Any) -> None:
    settings_row = AISettings.objects.create(user=user_a, openrouter_api_key=CANARY)
    raw_api, raw_mgmt = _raw(settings_row.pk)
    assert CANARY not in raw_api
    assert CANARY[-12:] not in raw_api
    assert raw_api.startswith("gAAAA")  # a Fernet token
    assert raw_mgmt == ""
    assert AISettings.objects.get(pk=settings_row.pk).openrouter_api_key == CANARY


def test_a_wrong_key_raises_instead_of_returning_ciphertext(user_a: Any) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        row = AISettings.objects.create(user=user_a, openrouter_api_key=CANARY)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(crypto.DecryptionError):
        AISettings.objects.get(pk=row.pk)


def test_rotation_reencrypts_every_row_and_a_second_run_changes_nothing(user_a: Any, user_b: Any) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        a = AISettings.objects.create(
            user=user_a, openrouter_api_key=CANARY, openrouter_management_key=CANARY[::-1]
        )
        b = AISettings.objects.create(user=user_b, openrouter_api_key="sk-or-v1-" + "b" * 64)
    before = {a.pk: _raw(a.pk), b.pk: _raw(b.pk)}
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        after_first = {a.pk: _raw(a.pk), b.pk: _raw(b.pk)}
        call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        after_second = {a.pk: _raw(a.pk), b.pk: _raw(b.pk)}
    assert after_first[a.pk] != before[a.pk]
    assert after_first[b.pk][0] != before[b.pk][0]
    assert after_first[b.pk][1] == ""  # empty values stay empty
    assert after_second == after_first
    # The old key can go: every row decrypts with the new key alone.
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert AISettings.objects.get(pk=a.pk).openrouter_api_key == CANARY
        assert AISettings.objects.get(pk=a.pk).openrouter_management_key == CANARY[::-1]
        assert AISettings.objects.get(pk=b.pk).openrouter_api_key == "sk-or-v1-" + "b" * 64
    events = list(AuditEvent.objects.filter(action="keys_rotated"))
    assert len(events) == 1  # the second run rotated nothing, so it recorded nothing
    assert events[0].detail == {"rows_checked": 2, "values_rotated": 3}


@pytest.mark.parametrize("keys", [[], ["not-a-key"], [Fernet.generate_key().decode(), "short"]])
def test_missing_or_malformed_keys_fail_the_system_check(keys: list[str]) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        errors = check_field_encryption_keys()
    assert len(errors) == 1
    assert isinstance(errors[0], Error)
    assert errors[0].id == "core.E001"


def test_valid_keys_pass_the_system_check() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        assert check_field_encryption_keys() == []


def test_start_up_stops_without_keys() -> None:
    from django.core.management.base import SystemCheckError

    with override_settings(FIELD_ENCRYPTION_KEYS=[]), pytest.raises(SystemCheckError, match=r"core\.E001"):
        call_command("check")


def test_encrypted_columns_refuse_content_lookups(user_a: Any) -> None:
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError):
        list(AISettings.objects.filter(openrouter_api_key__contains="sk-or"))
