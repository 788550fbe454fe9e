"""OpenRouter's own checks before a chat request reaches a provider: credits, key limit, free-model caps.

Every function here is called with the state lock held, so a check and the counter update that
follows it are one atomic step even when 50 requests arrive at once.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from . import errors
from .billing import affordable_completion_tokens
from .catalogue import Model
from .state import Account, ApiKey
from .wsgi import Response

FREE_PER_MINUTE = 20


def admit(
    key: ApiKey, model: Model, prompt_tokens: int, max_tokens: int | None, now: datetime
) -> Response | None:
    """The rejection OpenRouter would send, in its order of checks, or ``None`` to go ahead."""
    account = key.account
    if account.balance <= 0:
        # A negative balance refuses even free models.
        return errors.error_response(402, errors.INSUFFICIENT_CREDITS)
    remaining = key.limit_remaining(now.date())
    if remaining is not None and remaining <= 0:
        return errors.error_response(403, errors.KEY_LIMIT.format(window=key.limit_reset or "total"))
    requested = max_tokens if max_tokens is not None else model.default_max_tokens
    refusal = _unaffordable(key, model, prompt_tokens, requested, remaining)
    if refusal is not None:
        return refusal
    return _free_model_limits(account, model, now) if model.is_free else None


def _unaffordable(
    key: ApiKey, model: Model, prompt_tokens: int, requested: int, remaining: Decimal | None
) -> Response | None:
    """The pre-flight check: can the balance (and the key's window) pay for ``requested`` tokens?"""
    balance = key.account.balance
    available = balance if remaining is None else min(balance, remaining)
    affordable = affordable_completion_tokens(model, prompt_tokens, available)
    if model.price("completion") <= 0 or affordable >= requested:
        return None
    key_binds = remaining is not None and remaining < balance
    tail = (
        errors.MAX_TOKENS_KEY_TAIL.format(window=key.limit_reset or "total")
        if key_binds
        else errors.MAX_TOKENS_CREDITS_TAIL
    )
    message = errors.MAX_TOKENS.format(requested=requested, affordable=affordable, tail=tail)
    return errors.error_response(402, message, metadata={"provider_name": None}, user_id=key.account.user_id)


def _free_model_limits(account: Account, model: Model, now: datetime) -> Response | None:
    """20 requests a minute and 50 (or 1000) a day on free models; counts the request if admitted."""
    today = now.date()
    minute = int(now.timestamp() // 60)
    daily_limit = account.free_daily_limit
    if account.free_daily.get(today, 0) >= daily_limit:
        midnight = datetime.combine(today + timedelta(days=1), time(), tzinfo=now.tzinfo)
        message = errors.FREE_PER_DAY_HIGH if daily_limit > 50 else errors.FREE_PER_DAY_LOW
        return _rate_limited(message, daily_limit, int(midnight.timestamp()) * 1000, account.user_id, now)
    if account.free_minute.get(minute, 0) >= FREE_PER_MINUTE:
        return _rate_limited(
            errors.FREE_PER_MIN, FREE_PER_MINUTE, (minute + 1) * 60_000, account.user_id, now
        )
    account.free_daily[today] = account.free_daily.get(today, 0) + 1
    account.free_minute = {minute: account.free_minute.get(minute, 0) + 1}  # older minutes are over
    return None


def _rate_limited(message: str, limit: int, reset_ms: int, user_id: str, now: datetime) -> Response:
    return errors.free_model_limited(message, limit, reset_ms, int(now.timestamp() * 1000), user_id)


def free_requests_today(account: Account, now: datetime) -> int:
    return account.free_daily.get(now.date(), 0)
