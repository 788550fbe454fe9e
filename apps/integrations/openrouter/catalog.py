"""The model catalogue (``GET /models``): models, their per-token prices, and cost arithmetic."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from .fields import OpenRouterModel, Price


class Pricing(OpenRouterModel):
    """USD per token (``request``/``image``/``web_search`` are per unit). A missing key is 0.

    A negative price (``"-1"``) is OpenRouter's marker for variable pricing (routers such as
    ``openrouter/auto``); :attr:`is_variable` says so and :meth:`cost_for` refuses it.
    """

    prompt: Price = Decimal(0)
    completion: Price = Decimal(0)
    request: Price = Decimal(0)
    image: Price = Decimal(0)
    web_search: Price = Decimal(0)
    internal_reasoning: Price = Decimal(0)
    input_cache_read: Price = Decimal(0)
    input_cache_write: Price = Decimal(0)
    discount: Price = Decimal(0)

    @property
    def is_variable(self) -> bool:
        return self.prompt < 0 or self.completion < 0

    @property
    def is_free(self) -> bool:
        return self.prompt == 0 and self.completion == 0 and self.request == 0

    def cost_for(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> Decimal:
        """USD for one request, as OpenRouter bills it from per-token prices (reasoning tokens are
        inside completion tokens and billed at the completion price).

        ``uncached = prompt - cached - cache_write``; ``cost = uncached*prompt + cached*cache_read
        + cache_write*cache_write_price + completion*completion + request``.
        """
        if self.is_variable:
            raise ValueError("this model has variable pricing; its cost cannot be computed")
        uncached = prompt_tokens - cached_tokens - cache_write_tokens
        if min(uncached, completion_tokens, cached_tokens, cache_write_tokens) < 0:
            raise ValueError("token counts must be non-negative and cached ≤ prompt")
        prompt_cost = (
            uncached * self.prompt
            + cached_tokens * self.input_cache_read
            + cache_write_tokens * self.input_cache_write
        )
        return prompt_cost + completion_tokens * self.completion + self.request


class Architecture(OpenRouterModel):
    modality: str | None = None
    input_modalities: list[str] = Field(default_factory=list)
    output_modalities: list[str] = Field(default_factory=list)
    tokenizer: str | None = None


class TopProvider(OpenRouterModel):
    context_length: int | None = None
    max_completion_tokens: int | None = None
    is_moderated: bool = False


class Model(OpenRouterModel):
    id: str
    canonical_slug: str | None = None
    name: str = ""
    created: int | None = None
    description: str | None = None
    context_length: int | None = None
    architecture: Architecture = Field(default_factory=Architecture)
    pricing: Pricing = Field(default_factory=Pricing)
    top_provider: TopProvider = Field(default_factory=TopProvider)
    supported_parameters: list[str] = Field(default_factory=list)
    expiration_date: str | None = None

    @field_validator("architecture", "pricing", "top_provider", mode="before")
    @classmethod
    def _null_object(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("supported_parameters", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value

    def cost_for(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> Decimal:
        return self.pricing.cost_for(prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens)


class ModelList(OpenRouterModel):
    """``GET /models``. ``total_count``/``next`` are 2026 additions (``None`` on older bodies)."""

    data: list[Model] = Field(default_factory=list)
    total_count: int | None = None
    links: dict[str, Any] = Field(default_factory=dict)

    @field_validator("links", mode="before")
    @classmethod
    def _null_links(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def next(self) -> str | None:
        value = self.links.get("next")
        return value if isinstance(value, str) else None

    def get(self, model_id: str) -> Model | None:
        return next((m for m in self.data if model_id in (m.id, m.canonical_slug)), None)
