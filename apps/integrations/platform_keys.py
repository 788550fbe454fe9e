"""Keys the platform provisions per tenant with its own OpenRouter management key.

Rules:

* Staff act (from admin) and every action writes one audit row: actor, tenant, time, the key's
  last 4 characters and its OpenRouter hash. Never the key itself, which exists in plaintext only
  between OpenRouter's answer and its encryption into ``AISettings.openrouter_api_key``.
* Nothing is half-created: create upstream, then store; when the store fails the new upstream key
  is deleted again. When OpenRouter refuses (403, 429, 5xx, no answer) nothing is stored and
  :class:`PlatformKeyError` says what happened.
* Rotation creates the new key, stores it in place of the old one, then deletes the old one
  upstream (a disabled key stays disabled). A tenant's own key is never overwritten: staff can
  only provision for a tenant without one.
* The limit is OpenRouter's per-key limit in USD, reset monthly (UTC), between 0.01 and
  ``OPENROUTER_PLATFORM_KEY_MAX_LIMIT_USD``, in whole cents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from apps.core.api.exceptions import ServiceError
from apps.core.models import AuditAction
from apps.core.services import audit_record

from .account import account_cache_clear
from .clients import platform_client, platform_keys_enabled
from .models import SLOT_FIELDS, AISettings, KeySlot, KeySource, KeyStatus
from .openrouter import ApiKey, ErrorCode, NotFoundError, OpenRouterClient, OpenRouterError
from .selectors import ai_settings_call_cache_forget

logger = logging.getLogger(__name__)

LIMIT_RESET = "monthly"
_CENT = Decimal("0.01")
_SECRET_FIELDS = tuple(fields.secret for fields in SLOT_FIELDS.values())
_API = SLOT_FIELDS[KeySlot.API]


class PlatformKeyError(ServiceError):
    """A platform-key action that did not happen (or only partly, as ``message`` says)."""

    code = "platform_key_error"


@dataclass(frozen=True)
class PlatformKeyResult:
    """What an action did: the key's last 4 and hash, its limit, and a warning if any."""

    action: AuditAction
    last4: str
    key_hash: str
    limit_usd: Decimal | None
    warning: str = ""


def platform_key_limit_clean(value: Any) -> Decimal:
    """A monthly USD limit from a form or caller; raises :class:`PlatformKeyError` when it is not
    a number of whole cents from 0.01 up to the configured maximum."""
    maximum: Decimal = settings.OPENROUTER_PLATFORM_KEY_MAX_LIMIT_USD
    try:
        limit = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise PlatformKeyError(_("The limit must be a number of US dollars, e.g. 50.")) from None
    if not limit.is_finite():
        raise PlatformKeyError(_("The limit must be a number of US dollars, e.g. 50."))
    if limit <= 0:
        raise PlatformKeyError(
            _("The limit must be more than 0 USD. To stop the tenant's spending, disable the key.")
        )
    if limit > maximum:
        raise PlatformKeyError(
            _("The limit must be at most %(max)s USD a month (OPENROUTER_PLATFORM_KEY_MAX_LIMIT_USD).")
            % {"max": maximum}
        )
    if limit != limit.quantize(_CENT):
        raise PlatformKeyError(_("The limit must be in whole cents, e.g. 49.99."))
    return limit.quantize(_CENT)


# ------------------------------------------------------------------ helpers


def _require_enabled() -> None:
    if not platform_keys_enabled():
        raise PlatformKeyError(
            _("Platform-provisioned keys are off: OPENROUTER_PLATFORM_MANAGEMENT_KEY is not set.")
        )


def _locked_row(user: Any) -> AISettings:
    """The tenant's row (created if missing), locked for this transaction, keys left unread."""
    row, _created = AISettings.objects.select_for_update().defer(*_SECRET_FIELDS).get_or_create(user=user)
    return row


def _display_row(user: Any) -> AISettings | None:
    return AISettings.objects.for_user(user).defer(*_SECRET_FIELDS).first()


def _refused(exc: OpenRouterError, *, consequence: str) -> PlatformKeyError:
    """Staff's message for an OpenRouter failure: what OpenRouter said, and what it means here."""
    status = f"HTTP {exc.status}" if exc.status is not None else _("no answer")
    if exc.code in (ErrorCode.INVALID_KEY, ErrorCode.MANAGEMENT_KEY_REQUIRED):
        reason = _(
            "OpenRouter refused the platform management key (%(status)s). "
            "Check OPENROUTER_PLATFORM_MANAGEMENT_KEY: it must be a management key."
        )
    elif exc.code == ErrorCode.RATE_LIMITED:
        reason = _("OpenRouter is rate limiting key management (%(status)s). Try again in a minute.")
    elif exc.code in (ErrorCode.READ_TIMEOUT, ErrorCode.CONNECTION, ErrorCode.TIMEOUT):
        reason = _("OpenRouter did not answer in time (%(status)s).")
    elif exc.code == ErrorCode.NOT_FOUND:
        reason = _("OpenRouter has no such key (%(status)s).")
    else:
        reason = _("OpenRouter refused the request (%(status)s): %(message)s")
    text = reason % {"status": status, "message": exc.upstream_message or str(exc.user_message)}
    return PlatformKeyError(f"{text} {consequence}", code=f"platform_key_{exc.code.value}")


def _audit(row: AISettings, action: AuditAction, actor: Any, ip: str | None, **detail: Any) -> None:
    audit_record(
        action=action,
        actor=actor,
        user=row.user,
        target="ai_settings:platform_key",
        detail={k: str(v) if isinstance(v, Decimal) else v for k, v in detail.items()},
        ip_address=ip,
    )


def _forget_cached(user: Any) -> None:
    # Account values read with the old key must not be served after a change, and the gateway's
    # remembered call settings must not keep the old key (``update()`` sends no save signal).
    account_cache_clear(user_id=user.pk)
    user_id = user.pk
    ai_settings_call_cache_forget(user_id=user_id)
    transaction.on_commit(lambda: ai_settings_call_cache_forget(user_id=user_id))


def _compensate(client: OpenRouterClient, key_hash: str) -> str:
    """Delete a key that was created upstream but could not be stored; "" or a warning."""
    try:
        client.key_delete(key_hash)
    except OpenRouterError as exc:
        logger.error("platform key %s was created but not stored, and deleting it failed: %s", key_hash, exc)
        return _(
            "The new key could not be deleted from OpenRouter again (hash %(hash)s): delete it there by hand."
        ) % {"hash": key_hash}
    return ""


@sensitive_variables()
def _store_key(row: AISettings, key: str, key_hash: str, limit: Decimal | None, *, disabled: bool) -> None:
    row.openrouter_api_key = key
    row.api_key_last4 = key[-4:]
    row.api_key_source = KeySource.PLATFORM
    row.platform_key_hash = key_hash
    row.platform_key_limit_usd = limit
    row.platform_key_disabled = disabled
    row.api_key_status = KeyStatus.UNVERIFIED
    row.api_key_status_detail = ""
    row.api_key_verified_at = None
    row.save(update_fields=[*_KEY_FIELDS, "updated_at"])


_KEY_FIELDS = [
    _API.secret,
    _API.last4,
    _API.status,
    _API.detail,
    _API.verified_at,
    "api_key_source",
    "platform_key_hash",
    "platform_key_limit_usd",
    "platform_key_disabled",
]


# ------------------------------------------------------------------ read


def platform_key_upstream_get(*, row: AISettings) -> ApiKey | str:
    """What OpenRouter reports for the tenant's platform key (limit, usage), or why it could not
    be asked (staff's page shows either; nothing is stored)."""
    if not platform_keys_enabled() or not row.has_platform_key:
        return ""
    with platform_client() as client:
        try:
            # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys (GET /keys/{hash})
            return client.key_get(row.platform_key_hash)
        except OpenRouterError as exc:
            return _refused(exc, consequence="").message.strip()


# ------------------------------------------------------------------ create


def _create_precheck(user: Any) -> None:
    row = _display_row(user)
    if row is None:
        return
    if row.has_platform_key:
        raise PlatformKeyError(_("This tenant already has a platform key: rotate it or change its limit."))
    if row.has_api_key:
        raise PlatformKeyError(
            _(
                "This tenant uses their own OpenRouter API key. A platform key is only created for a "
                "tenant without one (the tenant can remove theirs under Integrations → AI & Models)."
            )
        )


@sensitive_variables()
def platform_key_create(
    *, user: Any, actor: Any, limit_usd: Any, ip_address: str | None = None
) -> PlatformKeyResult:
    """Create the tenant's key upstream (``limit_reset`` monthly) and store it encrypted.

    Raises :class:`PlatformKeyError` (nothing stored, no key left upstream) when the feature is
    off, the limit is bad, the tenant already has a key, OpenRouter refuses, or the store fails
    (then the upstream key is deleted again; if even that fails the message names its hash).
    """
    _require_enabled()
    limit = platform_key_limit_clean(limit_usd)
    _create_precheck(user)
    with platform_client() as client:
        try:
            # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys (POST /keys)
            created = client.key_create(f"tenant-{user.pk}", limit=limit, limit_reset=LIMIT_RESET)
        except OpenRouterError as exc:
            raise _refused(exc, consequence=_("No key was created or stored.")) from None
        key_hash = created.data.hash
        try:
            with transaction.atomic():
                row = _locked_row(user)
                if row.has_api_key or row.has_platform_key:  # someone else was quicker
                    raise PlatformKeyError(_("The tenant got a key meanwhile; nothing was changed."))
                _store_key(row, created.key.get_secret_value(), key_hash, limit, disabled=False)
                last4 = row.api_key_last4
                _audit(
                    row,
                    AuditAction.PLATFORM_KEY_CREATED,
                    actor,
                    ip_address,
                    last4=last4,
                    key_hash=key_hash,
                    limit_usd=limit,
                    limit_reset=LIMIT_RESET,
                )
        except Exception as exc:
            warning = _compensate(client, key_hash)
            logger.warning(
                "platform key for user %s not stored (%s); upstream key deleted", user.pk, type(exc).__name__
            )
            message = exc.message if isinstance(exc, PlatformKeyError) else _("The key could not be stored.")
            raise PlatformKeyError(
                f"{message} {warning or _('The new OpenRouter key was deleted again.')}"
            ) from None
    _forget_cached(user)
    return PlatformKeyResult(AuditAction.PLATFORM_KEY_CREATED, last4, key_hash, limit)


# ------------------------------------------------------------------ rotate, limit, disable, delete


def _platform_row(user: Any) -> AISettings:
    row = _display_row(user)
    if row is None or not row.has_platform_key:
        raise PlatformKeyError(_("This tenant has no platform key."))
    return row


@sensitive_variables()
def platform_key_rotate(*, user: Any, actor: Any, ip_address: str | None = None) -> PlatformKeyResult:
    """Replace the tenant's key with a new one (same name, limit and disabled state).

    The old key keeps working until the new one is stored; it is deleted upstream last. If that
    delete fails the rotation still stands and ``warning`` names the old key's hash.
    """
    _require_enabled()
    old = _platform_row(user)
    old_hash, old_last4 = old.platform_key_hash, old.api_key_last4
    limit, disabled = old.platform_key_limit_usd, old.platform_key_disabled
    nothing = _("The current key is unchanged.")
    with platform_client() as client:
        try:
            # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys (POST /keys)
            created = client.key_create(f"tenant-{user.pk}", limit=limit, limit_reset=LIMIT_RESET)
        except OpenRouterError as exc:
            raise _refused(exc, consequence=nothing) from None
        new_hash = created.data.hash
        try:
            if disabled:
                # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys (PATCH)
                client.key_update(new_hash, disabled=True)
            with transaction.atomic():
                row = _locked_row(user)
                if row.platform_key_hash != old_hash:
                    raise PlatformKeyError(_("The key changed meanwhile; nothing was changed."))
                _store_key(row, created.key.get_secret_value(), new_hash, limit, disabled=disabled)
                last4 = row.api_key_last4
        except Exception as exc:
            warning = _compensate(client, new_hash)
            message = (
                exc.message if isinstance(exc, PlatformKeyError) else _("The new key could not be stored.")
            )
            raise PlatformKeyError(f"{message} {warning or nothing}") from None
        warning = _old_key_delete(client, old_hash)
    _audit(
        row,
        AuditAction.PLATFORM_KEY_ROTATED,
        actor,
        ip_address,
        last4=last4,
        key_hash=new_hash,
        previous_last4=old_last4,
        previous_key_hash=old_hash,
        previous_deleted=not warning,
    )
    _forget_cached(user)
    return PlatformKeyResult(AuditAction.PLATFORM_KEY_ROTATED, last4, new_hash, limit, warning)


def _old_key_delete(client: OpenRouterClient, key_hash: str) -> str:
    try:
        # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys (DELETE)
        client.key_delete(key_hash)
    except NotFoundError:
        return ""  # already gone: what rotation wants
    except OpenRouterError as exc:
        logger.warning("rotated platform key %s could not be deleted upstream: %s", key_hash, exc.code.value)
        return _(
            "The new key is in use, but the old one could not be deleted from OpenRouter "
            "(hash %(hash)s): delete it there by hand."
        ) % {"hash": key_hash}
    return ""


def _patch(row: AISettings, consequence: str, **fields: Any) -> None:
    with platform_client() as client:
        try:
            # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys (PATCH /keys/{hash})
            client.key_update(row.platform_key_hash, **fields)
        except OpenRouterError as exc:
            raise _refused(exc, consequence=consequence) from None


def platform_key_limit_set(
    *, user: Any, actor: Any, limit_usd: Any, ip_address: str | None = None
) -> PlatformKeyResult:
    """Change the key's monthly limit upstream, then here. Same limit: nothing is sent or audited."""
    _require_enabled()
    limit = platform_key_limit_clean(limit_usd)
    row = _platform_row(user)
    previous = row.platform_key_limit_usd
    if previous != limit:
        _patch(row, _("The limit is unchanged."), limit=limit, limit_reset=LIMIT_RESET)
        with transaction.atomic():
            AISettings.objects.for_user(user).update(platform_key_limit_usd=limit)
            _audit(
                row,
                AuditAction.PLATFORM_KEY_LIMIT_CHANGED,
                actor,
                ip_address,
                last4=row.api_key_last4,
                key_hash=row.platform_key_hash,
                limit_usd=limit,
                previous_limit_usd=previous,
            )
        _forget_cached(user)
    return PlatformKeyResult(
        AuditAction.PLATFORM_KEY_LIMIT_CHANGED, row.api_key_last4, row.platform_key_hash, limit
    )


def platform_key_disabled_set(
    *, user: Any, actor: Any, disabled: bool, ip_address: str | None = None
) -> PlatformKeyResult:
    """Disable (OpenRouter then answers 401 to the tenant's calls) or enable the key again."""
    _require_enabled()
    row = _platform_row(user)
    action = AuditAction.PLATFORM_KEY_DISABLED if disabled else AuditAction.PLATFORM_KEY_ENABLED
    if row.platform_key_disabled != disabled:
        _patch(row, _("The key's state is unchanged."), disabled=disabled)
        with transaction.atomic():
            AISettings.objects.for_user(user).update(platform_key_disabled=disabled)
            _audit(row, action, actor, ip_address, last4=row.api_key_last4, key_hash=row.platform_key_hash)
        _forget_cached(user)
    return PlatformKeyResult(action, row.api_key_last4, row.platform_key_hash, row.platform_key_limit_usd)


def platform_key_delete(*, user: Any, actor: Any, ip_address: str | None = None) -> PlatformKeyResult:
    """Delete the key upstream, then from the tenant's settings (who then has no API key).

    A key OpenRouter no longer knows (404) is removed here too; any other failure changes nothing.
    """
    _require_enabled()
    row = _platform_row(user)
    with platform_client() as client:
        try:
            # Reference: https://openrouter.ai/docs/guides/overview/auth/management-api-keys (DELETE /keys/{hash})
            client.key_delete(row.platform_key_hash)
        except NotFoundError:
            pass  # deleted upstream already: clear it here as well
        except OpenRouterError as exc:
            raise _refused(exc, consequence=_("The key was not deleted.")) from None
    with transaction.atomic():
        AISettings.objects.for_user(user).update(
            openrouter_api_key="",
            api_key_last4="",
            api_key_status=KeyStatus.UNVERIFIED,
            api_key_status_detail="",
            api_key_verified_at=None,
            api_key_source=KeySource.OWN,
            platform_key_hash="",
            platform_key_limit_usd=None,
            platform_key_disabled=False,
        )
        _audit(
            row,
            AuditAction.PLATFORM_KEY_DELETED,
            actor,
            ip_address,
            last4=row.api_key_last4,
            key_hash=row.platform_key_hash,
        )
    _forget_cached(user)
    return PlatformKeyResult(AuditAction.PLATFORM_KEY_DELETED, row.api_key_last4, row.platform_key_hash, None)
