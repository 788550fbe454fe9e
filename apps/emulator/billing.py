"""Cost arithmetic (tokens times the catalogue's per-token prices, cached reads and writes priced
apart) and charging it to an account and key.

All money is ``Decimal``; a wider context than the default keeps long catalogue prices such as
``0.00000008333333333333334`` exact when multiplied by large token counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

from .catalogue import Model
from .state import ZERO, Account, ApiKey, UsageEvent


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Cost:
    prompt: Decimal
    completion: Decimal
    request: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.prompt + self.completion + self.request


def compute_cost(model: Model, usage: TokenUsage) -> Cost:
    """Tokens x the model's per-token prices; reasoning tokens are inside ``completion_tokens``."""
    with localcontext() as ctx:
        ctx.prec = 60
        uncached = usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens
        prompt = (
            uncached * model.price("prompt")
            + usage.cached_tokens * model.price("input_cache_read")
            + usage.cache_write_tokens * _cache_write_price(model)
        )
        completion = usage.completion_tokens * model.price("completion")
        return Cost(prompt=+prompt, completion=+completion, request=model.price("request"))


def _cache_write_price(model: Model) -> Decimal:
    # Providers without a cache-write price (OpenAI) write the cache at the normal prompt price.
    return model.prices.get("input_cache_write", model.price("prompt"))


def affordable_completion_tokens(model: Model, prompt_tokens: int, available: Decimal) -> int:
    """How many completion tokens ``available`` USD pays for after the prompt (never negative)."""
    price = model.price("completion")
    left = available - prompt_tokens * model.price("prompt") - model.price("request")
    if price <= 0:
        return 0
    return max(int(left // price), 0)


def charge(
    account: Account, key: ApiKey, model: Model, usage: TokenUsage, cost: Decimal, at: datetime
) -> None:
    """Add one generation to the account total, the key's counters and the activity history.

    The caller holds the state lock.
    """
    day = at.date()
    account.usage += cost
    key.add_spend(day, cost)
    key.last_used_at = at
    account.events.append(
        UsageEvent(
            day=day,
            key_hash=key.hash,
            model=model.id,
            model_permaslug=model.canonical_slug,
            endpoint_id=model.endpoint_id,
            provider_name=model.provider,
            usage=cost,
            requests=1,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cached_tokens=usage.cached_tokens,
        )
    )
