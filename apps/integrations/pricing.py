"""Model prices from OpenRouter's public catalogue, cached process-wide for an hour.

The catalogue is public and the same for every tenant, so it is fetched without a key and
shared. Used to compute a cost when a response carried none (``cost_source = computed``).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.cache import cache

from .clients import openrouter_client
from .openrouter import OpenRouterError, Pricing

logger = logging.getLogger(__name__)

CATALOGUE_CACHE_KEY = "openrouter:catalogue-prices:v1"
CATALOGUE_TTL_SECONDS = 60 * 60


def _catalogue_prices() -> dict[str, dict[str, str]]:
    cached = cache.get(CATALOGUE_CACHE_KEY)
    if cached is not None:
        return dict(cached)
    with openrouter_client("", deadline=15) as client:
        models = client.models(output_modalities="all").data
    prices: dict[str, dict[str, str]] = {}
    for model in models:
        serialised = {k: str(v) for k, v in model.pricing.model_dump().items() if isinstance(v, Decimal)}
        prices[model.id] = serialised
        if model.canonical_slug:
            prices.setdefault(model.canonical_slug, serialised)
    cache.set(CATALOGUE_CACHE_KEY, prices, CATALOGUE_TTL_SECONDS)
    return prices


def model_pricing(model_id: str) -> Pricing | None:
    """The catalogue price of ``model_id`` (USD per token), or None when unknown or unreachable."""
    try:
        prices = _catalogue_prices()
    except OpenRouterError as exc:
        logger.warning("model catalogue unavailable: %s", exc.code)
        return None
    entry = prices.get(model_id)
    if entry is None and model_id.endswith(":free"):
        return Pricing()
    return Pricing.model_validate(entry) if entry is not None else None


def cost_from_prices(
    *, model_id: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
) -> Decimal | None:
    """USD for the token counts at catalogue prices, or None when the model has no usable price."""
    pricing = model_pricing(model_id)
    if pricing is None or pricing.is_variable:
        return None
    return pricing.cost_for(prompt_tokens, completion_tokens, cached_tokens=cached_tokens)
