"""Reads of per-tenant AI settings, the tenant's OpenRouter keys and credit snapshots."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from apps.core.crypto import DecryptionError
from apps.core.localcache import MISSING, LocalCache

from .exceptions import OpenRouterKeyUnavailable
from .models import SLOT_FIELDS, USE_CASE_MODEL_FIELDS, AISettings, CreditSnapshot, KeySlot, KeySource

logger = logging.getLogger(__name__)

_SECRET_FIELDS = tuple(fields.secret for fields in SLOT_FIELDS.values())


def ai_settings_get(*, user: Any) -> AISettings | None:
    """The tenant's settings row, or None when they have never saved any.

    Reading decrypts the keys; a row whose keys no configured encryption key can decrypt raises
    ``apps.core.crypto.DecryptionError`` (callers turn that into "configure your key again").
    Prefer :func:`ai_settings_display_get` when the keys themselves are not needed.
    """
    return AISettings.objects.for_user(user).first()


def ai_settings_display_get(*, user: Any) -> AISettings | None:
    """The tenant's settings row with both key columns left unread (never decrypted).

    Safe for pages and API reads: it cannot fail on an undecryptable key, and the plaintext is
    never in memory. Touching ``openrouter_api_key``/``openrouter_management_key`` on the result
    would load them, so callers use ``api_key_last4``/``has_api_key`` and friends instead.
    """
    return AISettings.objects.for_user(user).defer(*_SECRET_FIELDS).first()


def openrouter_key_get(*, user: Any, slot: KeySlot) -> str:
    """The tenant's decrypted key in ``slot`` (``KeySlot.API`` or ``KeySlot.MANAGEMENT``).

    Raises :class:`OpenRouterKeyUnavailable` when none is stored or it cannot be decrypted (the
    failure is logged without the value). Only this column is read and decrypted.
    """
    field = SLOT_FIELDS[slot].secret
    try:
        value = AISettings.objects.for_user(user).values_list(field, flat=True).first()
    except DecryptionError:
        logger.warning("Stored OpenRouter %s key of user %s cannot be decrypted", slot.value, user.pk)
        raise OpenRouterKeyUnavailable(slot=slot, unreadable=True) from None
    if not value:
        raise OpenRouterKeyUnavailable(slot=slot)
    return str(value)


def openrouter_api_key_get(*, user: Any) -> str:
    """The tenant's decrypted OpenRouter API (inference) key; see :func:`openrouter_key_get`."""
    return openrouter_key_get(user=user, slot=KeySlot.API)


def openrouter_management_key_get(*, user: Any) -> str:
    """The tenant's decrypted management key; see :func:`openrouter_key_get`."""
    return openrouter_key_get(user=user, slot=KeySlot.MANAGEMENT)


def openrouter_key_or_none(*, user: Any, slot: KeySlot) -> str | None:
    """Like :func:`openrouter_key_get`, but ``None`` when the key is missing or unreadable."""
    try:
        return openrouter_key_get(user=user, slot=slot)
    except OpenRouterKeyUnavailable:
        return None


@dataclass(frozen=True)
class ActivityAccess:
    """What reading the tenant's ``/activity`` needs: the management key, and the
    ``api_key_hash`` filter (``None``: the whole account)."""

    management_key: str
    api_key_hash: str | None


def _key_hash(api_key: str | None) -> str | None:
    # OpenRouter names a key by a SHA-256 hex hash: the SHA-256 of the key's value.
    return hashlib.sha256(api_key.encode()).hexdigest() if api_key else None


def _platform_access(platform: tuple[str, str]) -> ActivityAccess:
    if not platform[0]:  # the platform's management key was removed from settings
        raise OpenRouterKeyUnavailable(slot=KeySlot.MANAGEMENT)
    return ActivityAccess(management_key=platform[0], api_key_hash=platform[1])


def activity_access_get(*, user: Any) -> ActivityAccess:
    """The management key and the key filter for the tenant's ``/activity`` reads, in one query.

    By default only the spend of the configured API key is read; ``activity_whole_account`` (or
    no API key at all) reads every key of the account. A tenant on a platform-provisioned key is
    read with the platform's management key, filtered to its key hash (never the whole account).
    Raises :class:`OpenRouterKeyUnavailable` for a missing or unreadable management key, and for
    an unreadable API key (unless the whole account is read).
    """
    try:
        row = (
            AISettings.objects.for_user(user)
            .values_list(
                "openrouter_management_key",
                "openrouter_api_key",
                "activity_whole_account",
                "api_key_source",
                "platform_key_hash",
            )
            .first()
        )
    except DecryptionError:
        platform = platform_activity_source_get(user=user)
        if platform is not None:
            return _platform_access(platform)
        # One of the two keys cannot be read: find out which, each on its own.
        management_key = openrouter_key_get(user=user, slot=KeySlot.MANAGEMENT)
        whole = AISettings.objects.for_user(user).values_list("activity_whole_account", flat=True).first()
        api_key = None
        if not whole:
            try:
                api_key = openrouter_key_get(user=user, slot=KeySlot.API)
            except OpenRouterKeyUnavailable as exc:
                # An unreadable API key must not widen the read to the whole account.
                if exc.unreadable:
                    raise
        return ActivityAccess(management_key=management_key, api_key_hash=_key_hash(api_key))
    if row is not None and row[3] == KeySource.PLATFORM and row[4]:
        return _platform_access((settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY, row[4]))
    if row is None or not row[0]:
        raise OpenRouterKeyUnavailable(slot=KeySlot.MANAGEMENT)
    management_key, api_key, whole, _source, _hash = row
    return ActivityAccess(
        management_key=str(management_key), api_key_hash=None if whole else _key_hash(api_key)
    )


def platform_activity_source_get(*, user: Any) -> tuple[str, str] | None:
    """``(platform management key, key hash)`` when the tenant runs on a platform-provisioned key.

    Such a tenant's spend lives in the platform's OpenRouter account, next to every other
    tenant's: it is read with the platform's management key, filtered to this tenant's key hash
    (never the whole account). ``None`` for a tenant on their own key.
    """
    key_hash = (
        AISettings.objects.for_user(user)
        .filter(api_key_source=KeySource.PLATFORM)
        .values_list("platform_key_hash", flat=True)
        .first()
    )
    if not key_hash:
        return None
    return settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY, key_hash


def activity_sync_settings() -> QuerySet[AISettings]:
    """Every tenant whose activity can be synced: with a management key or a platform key."""
    # cross-tenant: the nightly job and the operator's --all-users visit every such tenant.
    return AISettings.objects.filter(~Q(management_key_last4="") | Q(api_key_source=KeySource.PLATFORM))


def credit_snapshots_list(
    *, user: Any, since: dt.datetime | None = None, limit: int = 1000
) -> list[CreditSnapshot]:
    """The tenant's credit snapshots, oldest first (for charts), at most ``limit`` of the newest."""
    rows = CreditSnapshot.objects.for_user(user)
    if since is not None:
        rows = rows.filter(taken_at__gte=since)
    newest = list(rows.order_by("-taken_at")[:limit])
    return newest[::-1]


def credit_snapshot_latest(*, user: Any) -> CreditSnapshot | None:
    return CreditSnapshot.objects.for_user(user).order_by("-taken_at").first()


# The longest a settings change made in another process goes unseen by this one's AI calls.
CALL_SETTINGS_CACHE_SECONDS = 5.0
_for_call: LocalCache[int, AISettings | None] = LocalCache(
    "ai-settings-for-call", ttl=CALL_SETTINGS_CACHE_SECONDS
)


def ai_settings_for_call(*, user: Any) -> AISettings | None:
    """Just what routing a call needs (decrypts the API key only, not the management key).

    Remembered per process and per user id for ``CALL_SETTINGS_CACHE_SECONDS``; a save or delete
    of the row in this process drops it at once (see :func:`ai_settings_call_cache_forget`). The
    returned row is shared between threads: read it, never change it. A key that cannot be
    decrypted raises ``DecryptionError`` every time (never cached).
    """
    cached = _for_call.get(user.pk)
    if cached is not MISSING:
        return cached  # type: ignore[return-value]
    row = _ai_settings_for_call_load(user)
    _for_call.set(user.pk, row)
    return row


def ai_settings_call_cache_forget(*, user_id: int) -> None:
    """Drop this process's remembered call settings of ``user_id`` (after they changed)."""
    _for_call.discard(user_id)


def _ai_settings_for_call_load(user: Any) -> AISettings | None:
    return (
        AISettings.objects.for_user(user)
        .only(
            "user_id",
            "openrouter_api_key",
            "ai_provider",
            "use_system_fallback",
            "default_model",
            "api_key_source",
            *USE_CASE_MODEL_FIELDS.values(),
        )
        .first()
    )
