"""Model prices from OpenRouter's public catalogue, for computing a cost a response did not carry.

The catalogue comes from :func:`.account.account_models_get` (shared by every tenant, cached for
an hour, the last known copy served when OpenRouter is unreachable). Only the price lookup lives
here; what a row costs is decided by the ledger (``apps.usage.cost``).
"""

from __future__ import annotations

from .account import account_models_get
from .openrouter import Pricing


def model_pricing(model_id: str) -> Pricing | None:
    """The catalogue price of ``model_id`` (USD per token), or None when it is not known."""
    catalogue = account_models_get().value
    model = catalogue.get(model_id) if catalogue is not None else None
    if model is not None:
        return model.pricing
    return Pricing() if model_id.endswith(":free") else None  # free variants cost nothing
