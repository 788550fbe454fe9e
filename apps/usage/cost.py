"""Every rule that decides what a ledger row costs, in one place.

Provenance, best first:

1. ``provider_reported``: the ``usage.cost`` OpenRouter put in the response itself;
2. ``generation_lookup``: the cost ``GET /generation`` reports for the call afterwards;
3. ``computed``: the token counts at catalogue prices (or, for the system provider, at its
   configured price per million tokens);
4. ``estimated``: catalogue prices at call time, while the ``/generation`` figure is awaited;
5. ``unpriced``: nothing to go on (no usage, or a model without a price). The cost is NULL,
   never a silent zero.

Two figures come from elsewhere and are final: ``not_billed``, a failure OpenRouter cannot have
billed (refused before any work: a known zero, unlike ``unpriced``), and ``activity``, a row
settled by the reconciliation with OpenRouter's daily activity (:mod:`apps.usage.reconciliation`).

A better figure may replace a worse one, never the reverse. USD is canonical; SEK is USD times
the USD→SEK rate of the call's UTC day, and the rate used is stored on the row beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from django.conf import settings
from django.utils import timezone

from apps.core.money import usd_sek_rate, usd_to_sek
from apps.integrations.models import Provider
from apps.integrations.openrouter import Generation, Usage
from apps.integrations.pricing import model_pricing

from .models import CostSource

_MILLION = Decimal(1_000_000)

COST_RANK: Mapping[CostSource, int] = MappingProxyType(
    {
        CostSource.UNPRICED: 0,
        CostSource.ESTIMATED: 1,
        CostSource.ACTIVITY: 2,
        CostSource.COMPUTED: 2,
        CostSource.GENERATION_LOOKUP: 3,
        CostSource.PROVIDER_REPORTED: 4,
        CostSource.NOT_BILLED: 4,
    }
)
# Figures that are final: settlement leaves a row carrying one of them alone.
SETTLED_SOURCES: frozenset[CostSource] = frozenset(
    {
        CostSource.PROVIDER_REPORTED,
        CostSource.GENERATION_LOOKUP,
        CostSource.COMPUTED,
        CostSource.NOT_BILLED,
        CostSource.ACTIVITY,
    }
)


@dataclass(frozen=True)
class Cost:
    """A cost in USD and where it came from. ``usd`` is None exactly when ``source`` is unpriced."""

    usd: Decimal | None
    source: CostSource

    def __post_init__(self) -> None:
        # A negative cost is no figure at all; no cost is always unpriced.
        if self.usd is None or self.usd < 0:
            object.__setattr__(self, "usd", None)
            object.__setattr__(self, "source", CostSource.UNPRICED)


UNPRICED = Cost(None, CostSource.UNPRICED)


def cost_improves(*, current_usd: Decimal | None, current_source: str, new: Cost) -> bool:
    """Whether ``new`` may replace a row's current cost: only a real, strictly better figure may."""
    if new.usd is None:
        return False
    return current_usd is None or COST_RANK[CostSource(current_source)] < COST_RANK[new.source]


def cost_is_settled(*, usd: Decimal | None, source: str) -> bool:
    """Whether a row's cost is final (nothing left for ``/generation`` or catalogue prices to do)."""
    return usd is not None and CostSource(source) in SETTLED_SOURCES


def system_cost_usd(prompt_tokens: int, completion_tokens: int) -> Decimal:
    """The system provider's cost: tokens at its configured USD price per million tokens."""
    return (
        Decimal(prompt_tokens) * settings.SYSTEM_AI_PROMPT_PRICE_PER_M
        + Decimal(completion_tokens) * settings.SYSTEM_AI_COMPLETION_PRICE_PER_M
    ) / _MILLION


def catalogue_cost_usd(
    *, model: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
) -> Decimal | None:
    """USD for the token counts at OpenRouter's catalogue prices.

    None when the model has no usable price (unknown to the catalogue, or priced per request in a
    way tokens cannot compute): the caller records it as unpriced, never as zero.
    """
    pricing = model_pricing(model)
    if pricing is None or pricing.is_variable:
        return None
    return pricing.cost_for(prompt_tokens, completion_tokens, cached_tokens=cached_tokens)


def cost_at_call(*, provider: str, model: str, usage: Usage | None) -> Cost:
    """The cost of a call as its response (or failure) reported it, at the moment it ends.

    No usage: unpriced (a stream that ended without usage is no success at zero cost). The system
    provider: computed from its configured prices. Otherwise the cost OpenRouter reported; failing
    that, the catalogue price marked ``estimated`` until ``/generation`` settles it.
    """
    if usage is None:
        return UNPRICED
    if provider == Provider.SYSTEM:
        return Cost(system_cost_usd(usage.prompt_tokens, usage.completion_tokens), CostSource.COMPUTED)
    if usage.cost is not None:
        return Cost(usage.cost, CostSource.PROVIDER_REPORTED)
    estimate = catalogue_cost_usd(
        model=model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
    )
    return Cost(estimate, CostSource.ESTIMATED)


def cost_of_failure(*, provider: str, model: str, usage: Usage | None, may_be_billed: bool) -> Cost:
    """The cost of a failed call: what it reported, else a known zero when OpenRouter cannot have
    billed it (refused before any work), else unpriced until ``/generation`` or the activity
    reconciliation settles it."""
    if usage is None and not may_be_billed:
        return Cost(Decimal(0), CostSource.NOT_BILLED)
    return cost_at_call(provider=provider, model=model, usage=usage)


def cost_from_generation(generation: Generation) -> Cost:
    """The cost ``GET /generation`` reports (``generation_lookup``), unpriced when it has none."""
    return Cost(generation.cost, CostSource.GENERATION_LOOKUP)


def cost_computed(*, model: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> Cost:
    """The last resort of settlement: the recorded tokens at catalogue prices, marked ``computed``.

    A row without tokens stays unpriced: zero tokens at any price would be a silent zero.
    """
    if not (prompt_tokens or completion_tokens):
        return UNPRICED
    usd = catalogue_cost_usd(
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cached_tokens=cached_tokens,
    )
    return Cost(usd, CostSource.COMPUTED)


def cost_sek(
    usd: Decimal | None, *, created_at: dt.datetime, rate: Decimal | None = None
) -> tuple[Decimal | None, Decimal | None]:
    """``(sek, rate)`` for ``usd``: USD times the rate of the call's UTC day, rate stored beside it.

    ``rate`` is the one already stored on the row, if any: a row keeps the rate it was first
    priced at. No USD means no SEK and no rate.
    """
    if usd is None:
        return None, None
    rate = rate or usd_sek_rate(timezone.localtime(created_at, dt.UTC).date())
    return usd_to_sek(usd, rate), rate
