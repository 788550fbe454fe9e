"""Budgets on the gateway's hot path: month-to-date spend plus in-flight reservations.

The rule: a call reserves its estimated maximum cost (the prompt estimate at the prompt price
plus ``max_tokens`` at the completion price, from the cached catalogue, in SEK at today's rate) in
the shared cache before it is sent, and the reservation is settled when its ledger row is finalised, whatever
the outcome (``usage_finish`` calls :func:`reservation_settle`). A call may go ahead at full price
only while the spend plus the reservations made before it are under the limit, so any number of
concurrent calls overshoot by at most one call's reservation.

* Spend: the running month's ``cost_sek`` from the rollups (``DailyUsage``), cached in the shared
  cache for ``SPENT_TTL`` seconds, and raised at once by each settled call's cost, so the cached
  figure does not lag the calls this deployment makes (sync adjustments and cost upgrades are seen
  when it expires).
* Reservations: integer micro-SEK counters in the shared cache (Redis in production: one atomic
  ``INCRBY`` and one ``MGET`` in one round trip), one counter per five-minute bucket, read over
  the last ``WINDOW_BUCKETS`` buckets. A reservation a crashed worker never settled therefore
  expires with its bucket (after 15 to 20 minutes, past the stale-pending sweep's cutoff).
* No budget, no cost: a tenant without a budget pays one per-process dictionary look-up.

Months are calendar months in UTC, as the ledger's days.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db.models import Sum
from django.utils import timezone

from apps.core.api.throttling import redis_write_client
from apps.core.localcache import MISSING, LocalCache
from apps.core.money import usd_sek_rate
from apps.integrations.account import account_models_get
from apps.integrations.budget_selectors import (
    BudgetRules,
    UseCaseRule,
    budget_rules_for_call,
    budget_rules_load,
)
from apps.integrations.models import BudgetPolicy, Provider

from .models import BudgetAction, DailyUsage, UsageSource

MICRO = 1_000_000
BUCKET_SECONDS = 300
WINDOW_BUCKETS = 4
SPENT_TTL = 60
ALL = "*"  # the scope of the tenant's whole budget (a use case's own limit is scoped by its name)
# Characters per token when estimating a prompt's size before it is sent (OpenAI's rule of thumb).
CHARS_PER_TOKEN = 4


# ------------------------------------------------------------------ months


def month_of(now: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The first day of ``now``'s UTC month and the instant the next month starts (the reset)."""
    day = now.astimezone(dt.UTC).date().replace(day=1)
    following = (day + dt.timedelta(days=32)).replace(day=1)
    return day, dt.datetime.combine(following, dt.time.min, tzinfo=dt.UTC)


def _month_label(first: dt.date) -> str:
    return first.strftime("%Y-%m")


def to_micro(amount: Decimal) -> int:
    return int((amount * MICRO).to_integral_value(rounding=ROUND_CEILING))


def from_micro(value: int) -> Decimal:
    return (Decimal(value) / MICRO).quantize(Decimal("0.000001"))


# ------------------------------------------------------------------ prices


@dataclass(frozen=True)
class Price:
    prompt_usd: Decimal
    completion_usd: Decimal
    request_usd: Decimal
    max_completion_tokens: int | None


PRICES_CACHE_SECONDS = 60.0
_prices: LocalCache[str, dict[str, Price]] = LocalCache("budget-prices", ttl=PRICES_CACHE_SECONDS)


def _price_table() -> dict[str, Price]:
    """Per-token prices of every catalogue model, built once a minute per process (not per call)."""
    table = _prices.get("all")
    if table is not MISSING:
        return table  # type: ignore[return-value]
    catalogue = account_models_get().value
    built: dict[str, Price] = {}
    for model in catalogue.data if catalogue is not None else []:
        pricing = model.pricing
        top = model.top_provider
        price = Price(
            prompt_usd=max(pricing.prompt, Decimal(0)),
            completion_usd=max(pricing.completion, Decimal(0)),
            request_usd=max(pricing.request, Decimal(0)),
            max_completion_tokens=top.max_completion_tokens if top is not None else None,
        )
        built[model.id] = price
        if model.canonical_slug:
            built.setdefault(model.canonical_slug, price)
    if built:  # an unreachable catalogue is asked again on the next call, not remembered empty
        _prices.set("all", built)
    return built


def _price_of(provider: str, model: str) -> Price | None:
    if provider == Provider.SYSTEM:
        return Price(
            prompt_usd=Decimal(settings.SYSTEM_AI_PROMPT_PRICE_PER_M) / MICRO,
            completion_usd=Decimal(settings.SYSTEM_AI_COMPLETION_PRICE_PER_M) / MICRO,
            request_usd=Decimal(0),
            max_completion_tokens=None,
        )
    price = _price_table().get(model)
    if price is None and model.endswith(":free"):
        return Price(Decimal(0), Decimal(0), Decimal(0), None)
    return price


# An estimate's USD→SEK rate may be a minute old (the ledger's costs always use the current
# rate); remembering it here spares the hot path the shared cache's rate-version read.
_rates: LocalCache[dt.date, Decimal] = LocalCache("budget-rate", ttl=60.0)


def _estimate_rate(day: dt.date) -> Decimal:
    rate = _rates.get(day)
    if rate is MISSING:
        rate = usd_sek_rate(day)
        _rates.set(day, rate)  # type: ignore[arg-type]
    return rate  # type: ignore[return-value]


def _prompt_tokens_estimate(messages: list[dict[str, Any]]) -> int:
    chars = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(str(part.get("text", ""))) for part in content if isinstance(part, dict))
        chars += 16  # the role and the message's framing
    return math.ceil(chars / CHARS_PER_TOKEN)


def _max_tokens_of(params: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def estimate_usd(
    *, provider: str, model: str, messages: list[dict[str, Any]], params: dict[str, Any]
) -> Decimal:
    """The most a call can cost: the prompt estimate at the prompt price plus ``max_tokens`` (or
    the model's maximum, or ``BUDGET_DEFAULT_MAX_TOKENS``, whichever is smaller) at the completion
    price. A model without a known price reserves nothing (its spend still counts once settled)."""
    price = _price_of(provider, model)
    if price is None:
        return Decimal(0)
    completion = _max_tokens_of(params)
    if completion is None:
        completion = settings.BUDGET_DEFAULT_MAX_TOKENS
        if price.max_completion_tokens:
            completion = min(completion, price.max_completion_tokens)
    prompt = _prompt_tokens_estimate(messages)
    return prompt * price.prompt_usd + completion * price.completion_usd + price.request_usd


# ------------------------------------------------------------------ the shared counters


def _spent_key(user_id: int, month: str, scope: str) -> str:
    return f"budget:spent:{user_id}:{month}:{scope}"


def _bucket_key(user_id: int, month: str, scope: str, bucket: int) -> str:
    return f"budget:reserved:{user_id}:{month}:{scope}:{bucket}"


def _bucket_now() -> int:
    return int(time.time() // BUCKET_SECONDS)


def _window_keys(user_id: int, month: str, scope: str, bucket: int) -> list[str]:
    return [_bucket_key(user_id, month, scope, b) for b in range(bucket - WINDOW_BUCKETS + 1, bucket + 1)]


BUCKET_TTL = BUCKET_SECONDS * (WINDOW_BUCKETS + 1)


def _redis_client(key: str) -> Any | None:
    """The raw Redis client behind Django's Redis cache backend, or None for other backends."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    # Built once per backend (per thread), not per operation as Django does: a budget costs two
    # round trips per call, and a fresh client each time cost more than the trips themselves.
    return redis_write_client(backend)


def _add_and_read(add_key: str, delta: int, read_keys: list[str]) -> dict[str, int | None]:
    """Atomically add ``delta`` to the counter ``add_key`` (created with a lifetime) and read
    ``read_keys``; on Redis one round trip (``INCRBY``, ``EXPIRE NX`` and ``MGET`` in MULTI)."""
    client = _redis_client(add_key)
    if client is not None:
        full = cache.make_and_validate_key(add_key)
        reads = [cache.make_and_validate_key(k) for k in read_keys]
        pipe = client.pipeline(transaction=True)
        pipe.incrby(full, delta)
        pipe.expire(full, BUCKET_TTL, nx=True)
        pipe.mget(reads)
        _, _, values = pipe.execute()
        return {k: (int(v) if v is not None else None) for k, v in zip(read_keys, values, strict=True)}
    if delta:
        _counter_add(add_key, delta, BUCKET_TTL)
    found = cache.get_many(read_keys)
    return {k: (int(found[k]) if k in found else None) for k in read_keys}


def _counter_add(key: str, delta: int, ttl: int, *, create: bool = True) -> None:
    """Add ``delta`` to an integer in the shared cache (atomic on Redis and locmem)."""
    client = _redis_client(key)
    if client is not None:
        full = cache.make_and_validate_key(key)
        if create:
            pipe = client.pipeline(transaction=True)
            pipe.incrby(full, delta)
            pipe.expire(full, ttl, nx=True)
            pipe.execute()
        elif client.exists(full):
            client.incrby(full, delta)
        return
    try:
        cache.incr(key, delta)
    except ValueError:
        if not create:
            return
        cache.add(key, 0, ttl)
        # Evicted in between: the reservation is lost, never double counted.
        with contextlib.suppress(ValueError):
            cache.incr(key, delta)


def _month_spend_sek(user_id: int, first: dt.date, scope: str) -> Decimal:
    # cross-tenant: the hot path carries a user id, not a user; every filter is on that id.
    rows = DailyUsage.objects.filter(user_id=user_id, day__gte=first)
    if scope != ALL:
        # A use case's spend is its gateway calls' cost. Sync adjustments (spend OpenRouter billed
        # outside the gateway) are stored as ``generic`` but belong to no use case of the product:
        # they count in the tenant-wide spend only.
        rows = rows.filter(use_case=scope, source=UsageSource.GATEWAY)
    return rows.aggregate(total=Sum("cost_sek"))["total"] or Decimal(0)


def _spent_load(user_id: int, first: dt.date, scope: str) -> int:
    value = to_micro(_month_spend_sek(user_id, first, scope))
    cache.add(_spent_key(user_id, _month_label(first), scope), value, SPENT_TTL)
    return value


# ------------------------------------------------------------------ the check


@dataclass
class Reservation:
    """What one call holds in the shared counters; settled exactly once."""

    user_id: int
    month: str
    bucket: int
    amounts: dict[str, int]  # scope -> micro-SEK
    settled: bool = False


@dataclass(frozen=True)
class Decision:
    """The budget's verdict on one call. ``action`` is a :class:`BudgetAction` value."""

    action: str
    model: str
    requested_model: str
    reservation: Reservation | None
    limit_sek: Decimal | None = None
    spent_sek: Decimal | None = None
    resets_at: dt.datetime | None = None
    crossed: tuple[str, ...] = ()  # alert events this call noticed: soft, degrade, block, over


def _scopes(rules: BudgetRules, use_case: str, rule: UseCaseRule) -> list[tuple[str, int]]:
    scopes: list[tuple[str, int]] = []
    if rules.limit_sek is not None:
        scopes.append((ALL, to_micro(rules.limit_sek)))
    if rule.limit_sek is not None:
        scopes.append((use_case, to_micro(rule.limit_sek)))
    return scopes


@dataclass(frozen=True)
class _Claim:
    scope: str
    limit: int
    before: int  # spend plus the reservations made before this one
    after: int


def _claim(
    user_id: int, month: str, first: dt.date, bucket: int, scope: str, limit: int, amount: int
) -> _Claim:
    spent_key = _spent_key(user_id, month, scope)
    window = _window_keys(user_id, month, scope, bucket)
    values = _add_and_read(window[-1], amount, [spent_key, *window])
    spent = values[spent_key]
    if spent is None:
        spent = _spent_load(user_id, first, scope)
    reserved = sum(v for k, v in values.items() if k != spent_key and v is not None)
    after = spent + reserved
    return _Claim(scope, limit, after - amount, after)


def _release(reservation: Reservation) -> None:
    for scope, amount in reservation.amounts.items():
        if amount:
            key = _bucket_key(reservation.user_id, reservation.month, scope, reservation.bucket)
            _counter_add(key, -amount, BUCKET_TTL, create=False)


# Settling on Redis in one round trip: add the cost to each cached spend that exists (a missing
# one is read from the rollups next time) and take the reservation off its bucket (an expired
# bucket is left expired). KEYS: spend, bucket per scope; ARGV: cost, minus the reservation.
_SETTLE_LUA = """
for i = 1, #KEYS, 2 do
  if ARGV[i] ~= '0' and redis.call('exists', KEYS[i]) == 1 then redis.call('incrby', KEYS[i], ARGV[i]) end
  if ARGV[i + 1] ~= '0' and redis.call('exists', KEYS[i + 1]) == 1 then
    redis.call('incrby', KEYS[i + 1], ARGV[i + 1])
  end
end
return 1
"""


def _settle_redis(client: Any, reservation: Reservation, cost: int) -> None:
    keys: list[str] = []
    values: list[int] = []
    for scope, amount in reservation.amounts.items():
        keys.append(cache.make_and_validate_key(_spent_key(reservation.user_id, reservation.month, scope)))
        keys.append(
            cache.make_and_validate_key(
                _bucket_key(reservation.user_id, reservation.month, scope, reservation.bucket)
            )
        )
        values += [cost, -amount]  # integers as text; the script adds them as they are
    client.eval(_SETTLE_LUA, len(keys), *keys, *values)


def budget_check(
    *,
    user_id: int,
    use_case: str,
    provider: str,
    model: str,
    messages: list[dict[str, Any]],
    params: dict[str, Any],
    now: dt.datetime | None = None,
) -> Decision | None:
    """Reserve this call's maximum cost and decide: go ahead, degrade, block or allow over.

    ``None`` when the tenant has no limit that applies (nothing reserved, nothing to settle).
    A blocked call's reservation is already released; any other decision's reservation must be
    settled with :func:`reservation_settle` when the call's ledger row is finalised.
    """
    rules = budget_rules_for_call(user_id=user_id)
    if rules is None:
        return None
    rule = rules.rule_for(use_case)
    scopes = _scopes(rules, use_case, rule)
    if not scopes:
        return None
    moment = now or timezone.now()
    first, resets_at = month_of(moment)
    month = _month_label(first)
    rate = _estimate_rate(moment.astimezone(dt.UTC).date())
    amount = to_micro(estimate_usd(provider=provider, model=model, messages=messages, params=params) * rate)
    bucket = _bucket_now()
    claims = [_claim(user_id, month, first, bucket, scope, limit, amount) for scope, limit in scopes]
    reservation = Reservation(user_id, month, bucket, {c.scope: amount for c in claims})
    crossed: list[str] = []
    threshold = rules.soft_threshold_percent
    if any(c.after * 100 >= c.limit * threshold for c in claims if c.scope == ALL):
        crossed.append("soft")
    over = [c for c in claims if c.before >= c.limit]
    if not over:
        return Decision(BudgetAction.NONE, model, "", reservation, crossed=tuple(crossed))
    worst = max(over, key=lambda c: c.before - c.limit)
    facts: dict[str, Any] = {
        "limit_sek": from_micro(worst.limit),
        "spent_sek": from_micro(worst.before),
        "resets_at": resets_at,
    }
    if rule.policy == BudgetPolicy.BLOCK or (rule.policy == BudgetPolicy.DEGRADE and not rule.fallback_model):
        _release(reservation)
        return Decision(BudgetAction.BLOCKED, model, model, None, crossed=(*crossed, "block"), **facts)
    if rule.policy == BudgetPolicy.DEGRADE and provider != Provider.OPENROUTER:
        # The cheaper model is an OpenRouter model id: the system provider cannot serve it, so
        # degrading applies to OpenRouter calls only. A system-provider call keeps the system
        # model and goes ahead over the budget, recorded and alerted as such (never silently).
        return Decision(
            BudgetAction.ALLOWED_OVER, model, "", reservation, crossed=(*crossed, "over"), **facts
        )
    if rule.policy == BudgetPolicy.DEGRADE and rule.fallback_model != model:
        # The cheaper model's own maximum replaces the requested model's reservation.
        cheaper = to_micro(
            estimate_usd(provider=provider, model=rule.fallback_model, messages=messages, params=params)
            * rate
        )
        for scope in reservation.amounts:
            delta = cheaper - reservation.amounts[scope]
            if delta:
                _counter_add(_bucket_key(user_id, month, scope, bucket), delta, BUCKET_TTL)
            reservation.amounts[scope] = cheaper
        return Decision(
            BudgetAction.DEGRADED,
            rule.fallback_model,
            model,
            reservation,
            crossed=(*crossed, "degrade"),
            **facts,
        )
    if rule.policy == BudgetPolicy.DEGRADE:  # already on the cheaper model: it keeps working
        return Decision(
            BudgetAction.DEGRADED, model, model, reservation, crossed=(*crossed, "degrade"), **facts
        )
    return Decision(BudgetAction.ALLOWED_OVER, model, "", reservation, crossed=(*crossed, "over"), **facts)


def reservation_settle(reservation: Reservation | None, *, cost_sek: Decimal | None) -> None:
    """The call's row is final: release its reservation and add its cost to the cached spend.

    Idempotent (a second call does nothing). A cost still unknown adds nothing now; it is counted
    when the cached spend is next read from the rollups.
    """
    if reservation is None or reservation.settled:
        return
    reservation.settled = True
    client = _redis_client(_spent_key(reservation.user_id, reservation.month, ALL))
    if client is not None:
        _settle_redis(client, reservation, to_micro(cost_sek) if cost_sek else 0)
        return
    # The cost is added before the reservation is released, so no reader sees neither.
    if cost_sek:
        for scope in reservation.amounts:
            key = _spent_key(reservation.user_id, reservation.month, scope)
            _counter_add(key, to_micro(cost_sek), SPENT_TTL, create=False)
    _release(reservation)


# ------------------------------------------------------------------ pages and alerts


@dataclass(frozen=True)
class BudgetStatus:
    """The tenant's whole-budget state this month, for the budget bar, the banner and alerts."""

    limit_sek: Decimal
    spent_sek: Decimal
    reserved_sek: Decimal
    left_sek: Decimal
    forecast_sek: Decimal
    percent: int
    soft_threshold_percent: int
    policy: str
    fallback_model: str
    resets_at: dt.datetime
    state: str  # "ok", "soft", "degraded", "blocked", "over" (allowed and alerted)
    month: str

    @property
    def over(self) -> bool:
        return self.state in ("degraded", "blocked", "over")


def budget_status_for_page(request: Any) -> BudgetStatus | None:
    """The status a page shows (the bar, the banner): read once per request, from the database's
    current budget rather than the gateway's few-seconds-old copy, so a page saved a moment ago
    shows the new budget."""
    memo = getattr(request, "_budget_status", MISSING)
    if memo is MISSING:
        user_id = request.user.pk
        memo = budget_status(user_id=user_id, rules=budget_rules_load(user_id=user_id))
        request._budget_status = memo
    return memo  # type: ignore[return-value]


def budget_status(
    *,
    user_id: int,
    now: dt.datetime | None = None,
    fresh: bool = False,
    rules: BudgetRules | object | None = MISSING,
) -> BudgetStatus | None:
    """The tenant-wide budget this month (``None`` without a tenant-wide limit).

    Reads the cached spend and the reservations (one cache read); ``fresh`` reads the spend from
    the rollups instead (the alert job). ``rules`` defaults to the gateway's cached copy.
    """
    if rules is MISSING:
        rules = budget_rules_for_call(user_id=user_id)
    if not isinstance(rules, BudgetRules):
        return None
    if rules is None or rules.limit_sek is None:
        return None
    moment = now or timezone.now()
    first, resets_at = month_of(moment)
    month = _month_label(first)
    spent_key = _spent_key(user_id, month, ALL)
    window = _window_keys(user_id, month, ALL, _bucket_now())
    values = cache.get_many([spent_key, *window])
    if fresh:
        spent = to_micro(_month_spend_sek(user_id, first, ALL))
    elif spent_key not in values:
        spent = _spent_load(user_id, first, ALL)
    else:
        spent = int(values[spent_key])
    reserved = max(0, sum(int(v) for k, v in values.items() if k != spent_key))
    limit = to_micro(rules.limit_sek)
    day = moment.astimezone(dt.UTC)
    elapsed_days = (day - dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)).total_seconds() / 86400
    month_days = (resets_at.date() - first).days
    forecast = spent if elapsed_days <= 0 else int(spent / max(elapsed_days, 1 / 24) * month_days)
    percent = int(spent * 100 / limit) if limit else (100 if spent else 0)
    if spent >= limit:
        state = {
            BudgetPolicy.BLOCK: "blocked",
            BudgetPolicy.DEGRADE: "degraded" if rules.fallback_model else "blocked",
        }.get(rules.policy, "over")  # type: ignore[call-overload]
    elif spent * 100 >= limit * rules.soft_threshold_percent:
        state = "soft"
    else:
        state = "ok"
    return BudgetStatus(
        limit_sek=rules.limit_sek,
        spent_sek=from_micro(spent),
        reserved_sek=from_micro(reserved),
        left_sek=max(Decimal(0), from_micro(limit - spent - reserved)),
        forecast_sek=from_micro(forecast),
        percent=percent,
        soft_threshold_percent=rules.soft_threshold_percent,
        policy=rules.policy,
        fallback_model=rules.fallback_model,
        resets_at=resets_at,
        state=state,
        month=month,
    )
