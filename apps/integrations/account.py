"""The tenant's OpenRouter account, as the AI tab and the API show it: credits, key, models, activity.

Each value is fetched through the tenant's key and kept in the Django cache with its fetch time:

=========  ==========  ===========================================================================
value      lifetime    source
=========  ==========  ===========================================================================
credits    60 s        ``/credits`` with the management key; without one, the API key's remaining
                       limit and usage from ``/key`` (``CreditsInfo.source`` says which)
key        5 min       ``/key`` with the API key
models     1 h         ``/models`` (public, shared by every tenant; sent without a key)
activity   1 min       ``/activity`` with the management key
=========  ==========  ===========================================================================

Freshness is decided from the stored fetch time, not the cache backend's expiry, so the last
known value stays available: when OpenRouter fails, callers get that value back with its age and
the reason (:attr:`Fetched.problem`) instead of an error. After a failure OpenRouter is not asked
again for :data:`RETRY_AFTER_FAILURE` seconds. Each fresh credits value is also written as a
:class:`~.models.CreditSnapshot` (at most once a minute) so the balance can be charted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .connection import interactive_client
from .exceptions import OpenRouterKeyUnavailable
from .models import CreditSnapshot, CreditSource, KeySlot
from .openrouter import ActivityRow, ErrorCode, KeyInfo, Model, ModelList, OpenRouterError, errors
from .selectors import activity_access_get, credit_snapshot_latest, openrouter_key_get, openrouter_key_or_none

logger = logging.getLogger(__name__)

CREDITS_LIFETIME = dt.timedelta(seconds=60)
KEY_LIFETIME = dt.timedelta(minutes=5)
MODELS_LIFETIME = dt.timedelta(hours=1)
ACTIVITY_LIFETIME = dt.timedelta(minutes=1)
SNAPSHOT_INTERVAL = dt.timedelta(seconds=60)
RETRY_AFTER_FAILURE = dt.timedelta(seconds=15)
# How long the cache keeps the last known value around to fall back on.
KEEP_LAST_KNOWN_SECONDS = 7 * 24 * 3600
CACHE_VERSION = 1
PER_MILLION = Decimal(1_000_000)

T = TypeVar("T")

# Our own text for each upstream error code (the stored code is translated when it is shown).
_ERROR_MESSAGES = {
    cls.code: cls.default_message
    for cls in (
        errors.InvalidRequestError,
        errors.InvalidKeyError,
        errors.InsufficientCreditsError,
        errors.KeyLimitError,
        errors.ModerationError,
        errors.ManagementKeyRequiredError,
        errors.NoEndpointsError,
        errors.NotFoundError,
        errors.UpstreamTimeoutError,
        errors.RateLimitedError,
        errors.ProviderError,
        errors.UnavailableError,
        errors.ReadTimeoutError,
        errors.ConnectionFailedError,
        errors.BadResponseError,
        errors.ErrorIn200Error,
    )
}
_ERROR_MESSAGES[ErrorCode.MANAGEMENT_KEY_REQUIRED] = _(
    "OpenRouter refused the stored management key: it looks like an inference key. Test the connection."
)


@dataclass(frozen=True)
class FetchProblem:
    """Why a value could not be fetched now: a stable ``code`` and a message for people."""

    code: str
    message: str


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """A value from OpenRouter with the time it was fetched.

    ``problem`` is set when the latest attempt failed: ``value`` is then the last known value
    (``stale``) or ``None`` when there never was one.
    """

    value: T | None
    fetched_at: dt.datetime | None
    problem: FetchProblem | None = None

    @property
    def stale(self) -> bool:
        return self.value is not None and self.problem is not None

    def age_seconds(self, now: dt.datetime | None = None) -> int | None:
        if self.fetched_at is None:
            return None
        return max(0, int(((now or timezone.now()) - self.fetched_at).total_seconds()))


@dataclass(frozen=True)
class CreditsInfo:
    """What is left to spend. ``source`` says whether it is the account's balance (``/credits``,
    management key) or the API key's own limit (``/key``); the fields of the other source are None.

    ``remaining`` is the balance (can be negative) or the key's remaining limit (None: no limit).
    """

    source: str
    remaining: Decimal | None
    total_credits: Decimal | None = None
    total_usage: Decimal | None = None
    limit: Decimal | None = None
    limit_reset: str | None = None
    usage: Decimal | None = None
    usage_daily: Decimal | None = None
    usage_weekly: Decimal | None = None
    usage_monthly: Decimal | None = None


# ------------------------------------------------------------------ the cache


def _cache_key(name: str, user_id: int | None = None, extra: str = "") -> str:
    """``integrations:openrouter:<name>:v<version>[:u<user>.<generation>][:<extra>]``.

    A tenant's keys carry their cache generation, so :func:`account_cache_clear` forgets all of
    them (every activity day included) by moving to the next generation.
    """
    owner = f":u{user_id}.{_generation(user_id)}" if user_id is not None else ""
    suffix = f":{extra}" if extra else ""
    return f"integrations:openrouter:{name}:v{CACHE_VERSION}{owner}{suffix}"


def _generation_key(user_id: int) -> str:
    return f"integrations:openrouter:generation:u{user_id}"


def _generation(user_id: int) -> int:
    return int(cache.get(_generation_key(user_id)) or 0)


def account_cache_clear(*, user_id: int) -> None:
    """Forget the tenant's cached account values (after their keys change). Models are shared."""
    cache.set(_generation_key(user_id), _generation(user_id) + 1, None)


def _problem_for(exc: Exception) -> FetchProblem:
    if isinstance(exc, OpenRouterKeyUnavailable):
        return FetchProblem(code=exc.code, message=exc.message)
    if isinstance(exc, OpenRouterError):
        return FetchProblem(code=exc.code.value, message=str(_ERROR_MESSAGES.get(exc.code, exc.user_message)))
    return FetchProblem(code="error", message=str(_("Something went wrong reading from OpenRouter.")))


def _stored_problem(code: str) -> FetchProblem:
    try:
        message = _ERROR_MESSAGES[ErrorCode(code)]
    except (KeyError, ValueError):
        message = _("Something went wrong reading from OpenRouter.")
    return FetchProblem(code=code, message=str(message))


def _cached(
    key: str,
    lifetime: dt.timedelta,
    fetch: Callable[[], Any],
    load: Callable[[Any], T],
    *,
    on_fresh: Callable[[Any, dt.datetime], None] | None = None,
) -> Fetched[T]:
    """The value under ``key``: from the cache while younger than ``lifetime``, else fetched.

    ``fetch`` returns a picklable plain value (stored); ``load`` turns it into what callers get.
    A missing key (``OpenRouterKeyUnavailable``) is reported and never cached.
    """
    now = timezone.now()
    entry: dict[str, Any] | None = cache.get(key)
    if entry and now - entry["fetched_at"] < lifetime:
        return Fetched(load(entry["data"]), entry["fetched_at"])
    if entry and entry.get("failed_at") and now - entry["failed_at"] < RETRY_AFTER_FAILURE:
        return _last_known(entry, load, _stored_problem(entry["problem"]))
    try:
        data = fetch()
    except OpenRouterKeyUnavailable as exc:
        return Fetched(None, None, _problem_for(exc))
    except OpenRouterError as exc:
        logger.warning("OpenRouter account read %s failed: %s", key.split(":")[2], exc)
        problem = _problem_for(exc)
        if entry is not None:
            cache.set(key, {**entry, "failed_at": now, "problem": problem.code}, KEEP_LAST_KNOWN_SECONDS)
        return _last_known(entry, load, problem)
    cache.set(key, {"data": data, "fetched_at": now}, KEEP_LAST_KNOWN_SECONDS)
    if on_fresh is not None:
        on_fresh(data, now)
    return Fetched(load(data), now)


def _last_known(entry: dict[str, Any] | None, load: Callable[[Any], T], problem: FetchProblem) -> Fetched[T]:
    if entry is None or entry.get("data") is None:
        return Fetched(None, None, problem)
    return Fetched(load(entry["data"]), entry["fetched_at"], problem)


# ------------------------------------------------------------------ credits


def _credits_fetch(user: Any) -> dict[str, Any]:
    management_key = openrouter_key_or_none(user=user, slot=KeySlot.MANAGEMENT)
    if management_key:
        with interactive_client(management_key) as client:
            credits = client.credits()
        info = CreditsInfo(
            source=CreditSource.ACCOUNT,
            remaining=credits.balance,
            total_credits=credits.total_credits,
            total_usage=credits.total_usage,
        )
        return asdict(info)
    with interactive_client(openrouter_key_get(user=user, slot=KeySlot.API)) as client:
        key = client.key()
    return asdict(
        CreditsInfo(
            source=CreditSource.KEY_LIMIT,
            remaining=key.limit_remaining,
            limit=key.limit,
            limit_reset=key.limit_reset,
            usage=key.usage,
            usage_daily=key.usage_daily,
            usage_weekly=key.usage_weekly,
            usage_monthly=key.usage_monthly,
        )
    )


def account_credits_get(*, user: Any) -> Fetched[CreditsInfo]:
    """What the tenant has left to spend (60 s cache); records a credit snapshot when fresh."""

    def snapshot(data: dict[str, Any], at: dt.datetime) -> None:
        credit_snapshot_record(user=user, info=CreditsInfo(**data), at=at)

    return _cached(
        _cache_key("credits", user.pk),
        CREDITS_LIFETIME,
        lambda: _credits_fetch(user),
        lambda data: CreditsInfo(**data),
        on_fresh=snapshot,
    )


def credit_snapshot_record(*, user: Any, info: CreditsInfo, at: dt.datetime) -> CreditSnapshot | None:
    """Store the remaining balance at ``at``, unless a snapshot was taken in the last minute.

    Idempotent within a minute: a second call (or a concurrent one) writes nothing and returns None.
    """
    latest = credit_snapshot_latest(user=user)
    if latest is not None and at - latest.taken_at < SNAPSHOT_INTERVAL:
        return None
    try:
        with transaction.atomic():
            return CreditSnapshot.objects.create(
                user=user,
                taken_at=at,
                minute=at.replace(second=0, microsecond=0),
                source=info.source,
                total_credits=info.total_credits,
                total_usage=info.total_usage,
                remaining=info.remaining,
            )
    except IntegrityError:  # another request took this minute's snapshot first
        return None


# ------------------------------------------------------------------ key


def _key_fetch(user: Any) -> dict[str, Any]:
    with interactive_client(openrouter_key_get(user=user, slot=KeySlot.API)) as client:
        info = client.key()
    # OpenRouter's label repeats the key's first characters: it is never stored or shown.
    return info.model_copy(update={"label": ""}).model_dump()


def account_key_get(*, user: Any) -> Fetched[KeyInfo]:
    """The API key's limit, usage and type from ``/key`` (5 min cache). ``label`` is always ``""``."""
    return _cached(_cache_key("key", user.pk), KEY_LIFETIME, lambda: _key_fetch(user), KeyInfo.model_validate)


# ------------------------------------------------------------------ models


def _models_fetch() -> dict[str, Any]:
    # The catalogue is public: it is fetched without anyone's key and shared by every tenant.
    with interactive_client("") as client:
        return client.models(output_modalities="all").model_dump()


def account_models_get() -> Fetched[ModelList]:
    """OpenRouter's model catalogue with prices (1 h cache, shared), sorted by id."""
    return _cached(_cache_key("models"), MODELS_LIFETIME, _models_fetch, _sorted_models)


def _sorted_models(data: dict[str, Any]) -> ModelList:
    models = ModelList.model_validate(data)
    models.data.sort(key=lambda m: m.id)
    return models


def model_ids_known() -> set[str] | None:
    """The ids (and canonical slugs) in the catalogue, or None when it cannot be had at all."""
    catalogue = account_models_get().value
    if catalogue is None:
        return None
    return {m.id for m in catalogue.data} | {m.canonical_slug for m in catalogue.data if m.canonical_slug}


def models_filter(
    models: Iterable[Model], *, search: str = "", modality: str = "", max_price: Decimal | None = None
) -> list[Model]:
    """Models whose id or name contains ``search`` (any case), that take or give ``modality``
    (``text``, ``image``, ``audio``, ``file``…), and whose prompt and completion prices are both
    at most ``max_price`` USD per million tokens (variable-priced routers are left out then)."""
    needle = search.strip().lower()
    wanted = modality.strip().lower()
    found = []
    for model in models:
        if needle and needle not in model.id.lower() and needle not in model.name.lower():
            continue
        modalities = {*model.architecture.input_modalities, *model.architecture.output_modalities}
        if wanted and wanted not in modalities:
            continue
        if max_price is not None and not _within_price(model, max_price):
            continue
        found.append(model)
    return found


def _within_price(model: Model, max_per_million: Decimal) -> bool:
    pricing = model.pricing
    if pricing.is_variable:
        return False
    return max(pricing.prompt, pricing.completion) * PER_MILLION <= max_per_million


# ------------------------------------------------------------------ activity


def _activity_fetch(user: Any, date: dt.date | None) -> list[dict[str, Any]]:
    # The same scope as the sync: the configured API key's spend unless the tenant chose the
    # whole account (a change of that setting clears the tenant's cache).
    access = activity_access_get(user=user)
    with interactive_client(access.management_key) as client:
        rows = client.activity(date=date, api_key_hash=access.api_key_hash)
    return [row.model_dump() for row in rows]


def account_activity_get(*, user: Any, date: dt.date | None = None) -> Fetched[list[ActivityRow]]:
    """``/activity`` rows (management key; 1 min cache): the last 30 completed UTC days, or one day.

    Rows are ordered by date (newest first), then by spend (largest first), then by model.
    """
    day = date.isoformat() if date else "all"

    def load(data: list[dict[str, Any]]) -> list[ActivityRow]:
        rows = [ActivityRow.model_validate(row) for row in data]
        rows.sort(key=lambda r: (-r.date.toordinal(), -r.usage, r.model))
        return rows

    return _cached(
        _cache_key("activity", user.pk, day), ACTIVITY_LIFETIME, lambda: _activity_fetch(user, date), load
    )
