"""Writes to a tenant's AI settings: keys (encrypted, audited), models, provider, fallback,
and the result of each connection test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from apps.core.models import AuditAction
from apps.core.services import audit_record

from . import connection
from .account import account_cache_clear
from .connection import CheckOutcome, ConnectionReport, KeyCheck
from .exceptions import OpenRouterKeyUnavailable
from .models import SLOT_FIELDS, USE_CASE_MODEL_FIELDS, AISettings, KeySlot, KeySource, KeyStatus, Provider
from .selectors import ai_settings_display_get, openrouter_key_get
from .validators import model_id_clean, openrouter_key_clean

_SECRET_FIELDS = tuple(fields.secret for fields in SLOT_FIELDS.values())
PLATFORM_KEY_LOCKED = _("Your API key is provided by the platform and cannot be replaced or removed here.")


@dataclass(frozen=True)
class SettingsSaved:
    """The saved row (key columns not loaded) and, when a key changed, the connection test of
    the stored keys that followed the save."""

    settings: AISettings
    keys_changed: tuple[KeySlot, ...]
    report: ConnectionReport | None = None


def _locked_row(user: Any) -> AISettings:
    """The tenant's row, created if missing, locked for this transaction, keys left unread."""
    row, _ = AISettings.objects.select_for_update().defer(*_SECRET_FIELDS).get_or_create(user=user)
    return row


@sensitive_variables()
def _key_store(row: AISettings, slot: KeySlot, key: str) -> tuple[AuditAction, dict[str, str]]:
    fields = SLOT_FIELDS[slot]
    previous = getattr(row, fields.last4)
    setattr(row, fields.secret, key)
    setattr(row, fields.last4, key[-4:])
    _status_reset(row, slot)
    detail = {"slot": slot.value, "last4": key[-4:]}
    if previous:
        return AuditAction.KEY_REPLACED, {**detail, "previous_last4": previous}
    return AuditAction.KEY_CREATED, detail


def _key_clear(row: AISettings, slot: KeySlot) -> tuple[AuditAction, dict[str, str]]:
    fields = SLOT_FIELDS[slot]
    detail = {"slot": slot.value, "last4": getattr(row, fields.last4)}
    setattr(row, fields.secret, "")
    setattr(row, fields.last4, "")
    _status_reset(row, slot)
    return AuditAction.KEY_REMOVED, detail


def _status_reset(row: AISettings, slot: KeySlot) -> None:
    fields = SLOT_FIELDS[slot]
    setattr(row, fields.status, KeyStatus.UNVERIFIED)
    setattr(row, fields.detail, "")
    setattr(row, fields.verified_at, None)


def _options_apply(
    row: AISettings,
    *,
    ai_provider: str | None,
    use_system_fallback: bool | None,
    default_model: str | None,
    use_case_models: Mapping[str, str] | None,
    activity_whole_account: bool | None = None,
) -> list[str]:
    """Set the non-secret options that were given; return the names of the fields that changed."""
    wanted: dict[str, Any] = {}
    if ai_provider is not None:
        if ai_provider not in Provider.values:
            raise ValidationError({"ai_provider": f"unknown provider {ai_provider!r}"})
        wanted["ai_provider"] = ai_provider
    if use_system_fallback is not None:
        wanted["use_system_fallback"] = bool(use_system_fallback)
    if default_model is not None:
        wanted["default_model"] = model_id_clean(default_model)
    if activity_whole_account is not None:
        wanted["activity_whole_account"] = bool(activity_whole_account)
    for use_case, model in (use_case_models or {}).items():
        if use_case not in USE_CASE_MODEL_FIELDS:
            raise ValidationError({"models": f"unknown use case {use_case!r}"})
        wanted[USE_CASE_MODEL_FIELDS[use_case]] = model_id_clean(model)
    changed = [name for name, value in wanted.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, wanted[name])
    return changed


@sensitive_variables()
def ai_settings_update(
    *,
    user: Any,
    actor: Any,
    api_key: str | None = None,
    management_key: str | None = None,
    remove_api_key: bool = False,
    remove_management_key: bool = False,
    ai_provider: str | None = None,
    use_system_fallback: bool | None = None,
    default_model: str | None = None,
    use_case_models: Mapping[str, str] | None = None,
    activity_whole_account: bool | None = None,
    ip_address: str | None = None,
    verify: bool = True,
) -> SettingsSaved:
    """Save the tenant's AI settings; ``None``/empty means "leave as it is".

    A non-empty key is validated, encrypted and stored (``KEY_CREATED`` or ``KEY_REPLACED``);
    ``remove_*`` deletes a stored key (``KEY_REMOVED``); a key given in the same call wins over
    its removal. Audit rows carry the last 4 characters only. Other changed options write one
    ``SETTINGS_CHANGED`` row naming the fields. Model ids are checked for shape here; whether
    they exist in the catalogue is the interface's check (it holds the catalogue).

    When a key changed and ``verify`` is true, the stored keys are tested after the commit and
    the result recorded (see :func:`ai_connection_test`). Raises ``ValidationError`` on bad input.
    """
    new_keys = {
        KeySlot.API: openrouter_key_clean(api_key) if api_key else "",
        KeySlot.MANAGEMENT: openrouter_key_clean(management_key) if management_key else "",
    }
    removals = {KeySlot.API: remove_api_key, KeySlot.MANAGEMENT: remove_management_key}
    with transaction.atomic():
        row = _locked_row(user)
        if row.has_platform_key and (new_keys[KeySlot.API] or removals[KeySlot.API]):
            # The platform's key is staff's to rotate or delete (upstream too); overwriting or
            # clearing it here would leave its OpenRouter key alive and unowned.
            raise ValidationError({"api_key": PLATFORM_KEY_LOCKED})
        changes: list[tuple[KeySlot, AuditAction, dict[str, str]]] = []
        for slot in KeySlot:
            if new_keys[slot]:
                changes.append((slot, *_key_store(row, slot, new_keys[slot])))
            elif removals[slot] and getattr(row, SLOT_FIELDS[slot].last4):
                changes.append((slot, *_key_clear(row, slot)))
        changed = _options_apply(
            row,
            ai_provider=ai_provider,
            use_system_fallback=use_system_fallback,
            default_model=default_model,
            use_case_models=use_case_models,
            activity_whole_account=activity_whole_account,
        )
        key_fields = [name for slot, _, _ in changes for name in _slot_field_names(slot)]
        if changed or key_fields:
            row.save(update_fields=[*key_fields, *changed, "updated_at"])
        for slot, action, detail in changes:
            audit_record(
                action=action,
                actor=actor,
                user=user,
                target=f"ai_settings:{SLOT_FIELDS[slot].secret}",
                detail=detail,
                ip_address=ip_address,
            )
        if changed:
            audit_record(
                action=AuditAction.SETTINGS_CHANGED,
                actor=actor,
                user=user,
                target="ai_settings",
                detail={"fields": sorted(changed)},
                ip_address=ip_address,
            )
    slots = tuple(slot for slot, _, _ in changes)
    if slots or "activity_whole_account" in changed:
        # After the commit (or inside the caller's transaction, where a stale cache entry would
        # only cost one extra fetch): account values read with the old key (or the old activity
        # scope) must not be served.
        account_cache_clear(user_id=user.pk)
    report = ai_connection_test(user=user) if slots and verify else None
    return SettingsSaved(settings=_reloaded(user), keys_changed=slots, report=report)


def _slot_field_names(slot: KeySlot) -> list[str]:
    fields = SLOT_FIELDS[slot]
    return [fields.secret, fields.last4, fields.status, fields.detail, fields.verified_at]


def _reloaded(user: Any) -> AISettings:
    return AISettings.objects.for_user(user).defer(*_SECRET_FIELDS).get()


def ai_settings_key_remove(*, user: Any, actor: Any, slot: KeySlot, ip_address: str | None = None) -> bool:
    """Delete the tenant's key in ``slot``. Returns False when there was none (nothing audited)."""
    saved = ai_settings_update(
        user=user,
        actor=actor,
        remove_api_key=slot == KeySlot.API,
        remove_management_key=slot == KeySlot.MANAGEMENT,
        ip_address=ip_address,
        verify=False,
    )
    return bool(saved.keys_changed)


# ------------------------------------------------------------------ connection test


@sensitive_variables()
def _stored_or_entered(user: Any, slot: KeySlot, entered: str | None) -> tuple[str, str] | KeyCheck:
    """``(key, source)`` for ``slot``: the entered key if any, else the stored one; or the
    :class:`KeyCheck` that explains why there is none."""
    if entered:
        return openrouter_key_clean(entered), "entered"
    try:
        return openrouter_key_get(user=user, slot=slot), "stored"
    except OpenRouterKeyUnavailable as exc:
        if not exc.unreadable:
            return connection.not_configured(slot)
        row = ai_settings_display_get(user=user)
        last4 = getattr(row, SLOT_FIELDS[slot].last4) if row else ""
        return replace(connection.unreadable(slot), last4=last4)


def _with_source(check: KeyCheck, key: str, source: str) -> KeyCheck:
    return replace(check, source=source, last4=key[-4:])


@sensitive_variables()
def ai_connection_test(
    *, user: Any, api_key: str | None = None, management_key: str | None = None
) -> ConnectionReport:
    """Test each key against OpenRouter: the one entered (not yet saved) or else the stored one.

    Results for stored keys are recorded on the tenant's settings (status, reason, time);
    entered keys are only reported. Acts on ``user`` alone. Raises ``ValidationError`` for an
    entered key that is not shaped like a key (nothing is sent then).
    """
    management = _stored_or_entered(user, KeySlot.MANAGEMENT, management_key)
    api = _stored_or_entered(user, KeySlot.API, api_key)
    if isinstance(management, tuple):
        management_check = _with_source(connection.check_management_key(management[0]), *management)
    else:
        management_check = management
    balance = management_check.balance if management_check.is_management_key else None
    if isinstance(api, tuple):
        api_check = _with_source(connection.check_api_key(api[0], balance=balance), *api)
        if api[1] == "stored" and _on_platform_key(user):
            api_check = replace(api_check, platform=True)
    else:
        api_check = api
    report = ConnectionReport(api=api_check, management=management_check)
    for check in report.checks:
        if check.source == "stored":
            ai_settings_verification_record(user=user, check=check)
    return report


def _on_platform_key(user: Any) -> bool:
    return AISettings.objects.for_user(user).filter(api_key_source=KeySource.PLATFORM).exists()


def ai_settings_verification_record(*, user: Any, check: KeyCheck) -> bool:
    """Record what a test of the stored key found (only if that key is still the stored one)."""
    fields = SLOT_FIELDS[check.slot]
    if check.outcome == CheckOutcome.OK:
        status = KeyStatus.OK
    elif check.outcome == CheckOutcome.NOT_CONFIGURED:
        status = KeyStatus.UNVERIFIED
    else:
        status = KeyStatus.FAILING
    values: dict[str, Any] = {
        fields.status: status,
        fields.detail: "" if check.ok else check.outcome.value,
        "updated_at": timezone.now(),
    }
    if check.reached_openrouter:
        values[fields.verified_at] = timezone.now()
    rows = AISettings.objects.for_user(user).filter(**{fields.last4: check.last4}).update(**values)
    return bool(rows)
