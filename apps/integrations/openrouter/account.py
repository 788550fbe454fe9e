"""Account bodies: credits, the current key, managed keys, activity rows and generations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from .fields import Money, OpenRouterModel, Timestamp, UtcDate


class Credits(OpenRouterModel):
    """``GET /credits``. The balance can be negative."""

    total_credits: Money
    total_usage: Money

    @property
    def balance(self) -> Decimal:
        return self.total_credits - self.total_usage


class RateLimit(OpenRouterModel):
    requests: int | None = None
    interval: str | None = None


class Budget(OpenRouterModel):
    scope: str | None = None
    limit_usd: Money | None = None
    remaining_usd: Money | None = None
    spend_usd: Money | None = None
    reset_interval: str | None = None
    resets_at: Timestamp | None = None


class KeyInfo(OpenRouterModel):
    """``GET /key`` (and legacy ``/auth/key``): the key used for the request.

    The legacy body only has ``label, usage, limit, is_free_tier, rate_limit``; every other
    field is then ``None``/``False``. ``is_management_key`` is true when either of the two
    booleans (``is_management_key``, the older ``is_provisioning_key``) says so.
    """

    label: str = ""
    is_management_key: bool = False
    is_provisioning_key: bool = False
    limit: Money | None = None
    limit_remaining: Money | None = None
    limit_reset: str | None = None
    include_byok_in_limit: bool = False
    usage: Money | None = None
    usage_daily: Money | None = None
    usage_weekly: Money | None = None
    usage_monthly: Money | None = None
    byok_usage: Money | None = None
    is_free_tier: bool = False
    expires_at: Timestamp | None = None
    creator_user_id: str | None = None
    workspace_id: str | None = None
    rate_limit: RateLimit | None = None
    budgets: list[Budget] = Field(default_factory=list)
    effective_budget: Budget | None = None

    @field_validator("budgets", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value

    @model_validator(mode="after")
    def _either_flag(self) -> KeyInfo:
        either = self.is_management_key or self.is_provisioning_key
        self.is_management_key = self.is_provisioning_key = either
        return self


class ApiKey(OpenRouterModel):
    """A managed key (``/keys``). Never carries the plaintext key; ``label`` is masked."""

    hash: str
    name: str = ""
    label: str = ""
    disabled: bool = False
    limit: Money | None = None
    limit_remaining: Money | None = None
    limit_reset: str | None = None
    include_byok_in_limit: bool = False
    usage: Money | None = None
    usage_daily: Money | None = None
    usage_weekly: Money | None = None
    usage_monthly: Money | None = None
    byok_usage: Money | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    last_used_at: Timestamp | None = None
    creator_user_id: str | None = None
    workspace_id: str | None = None


class CreatedKey(OpenRouterModel):
    """``POST /keys``: the key's record plus its plaintext, shown this once (kept secret in reprs)."""

    data: ApiKey
    key: SecretStr


class ActivityRow(OpenRouterModel):
    """One (UTC day, model, endpoint) row of ``GET /activity``."""

    date: UtcDate
    model: str
    model_permaslug: str | None = None
    endpoint_id: str | None = None
    provider_name: str | None = None
    usage: Money = Decimal(0)
    byok_usage_inference: Money = Decimal(0)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0

    @field_validator(
        "usage",
        "byok_usage_inference",
        "requests",
        "prompt_tokens",
        "completion_tokens",
        "reasoning_tokens",
        "cached_tokens",
        mode="before",
    )
    @classmethod
    def _null_is_zero(cls, value: Any) -> Any:
        return 0 if value is None else value


class Generation(OpenRouterModel):
    """``GET /generation?id=``: the stored record of one generation (cost and native tokens)."""

    id: str
    total_cost: Money | None = None
    usage: Money | None = None
    upstream_inference_cost: Money | None = None
    cache_discount: Money | None = None
    created_at: Timestamp | None = None
    model: str | None = None
    provider_name: str | None = None
    streamed: bool | None = None
    cancelled: bool | None = None
    latency: int | None = None
    generation_time: int | None = None
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    tokens_prompt: int | None = None
    tokens_completion: int | None = None
    native_tokens_prompt: int | None = None
    native_tokens_completion: int | None = None
    native_tokens_reasoning: int | None = None
    native_tokens_cached: int | None = None
    is_byok: bool | None = None
    external_user: str | None = None
    http_referer: str | None = None
    origin: str | None = None
    api_type: str | None = None

    @property
    def cost(self) -> Decimal | None:
        """What the generation cost: ``total_cost`` (``usage`` on bodies that only have that)."""
        return self.total_cost if self.total_cost is not None else self.usage
