"""Model prices from OpenRouter's public catalogue, for computing a cost a response did not carry.

The catalogue comes from :func:`.account.account_models_get` (shared by every tenant, cached for
an hour, the last known copy served when OpenRouter is unreachable). Used by the ledger when a
cost must be computed (``cost_source = computed``) or estimated.
"""

from __future__ import annotations

from decimal import Decimal

from .account import account_models_get
from .openrouter import Pricing


def model_pricing(model_id: str) -> Pricing | None:
    """The catalogue price of ``model_id`` (USD per token), or None when it is not known."""
    catalogue = account_models_get().value
    model = catalogue.get(model_id) if catalogue is not None else None
    if model is not None:
        return model.pricing
    return Pricing() if model_id.endswith(":free") else None  # free variants cost nothing


def cost_from_prices(
    *, model_id: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
) -> Decimal | None:
    """USD for the token counts at catalogue prices, or None when the model has no usable price."""
    pricing = model_pricing(model_id)
    if pricing is None or pricing.is_variable:
        return None
    return pricing.cost_for(prompt_tokens, completion_tokens, cached_tokens=cached_tokens)
