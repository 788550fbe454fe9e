"""The rules that decide a ledger row's cost (``apps.usage.cost``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from apps.integrations.openrouter import Generation, Usage
from apps.usage.cost import (
    UNPRICED,
    Cost,
    catalogue_cost_usd,
    cost_at_call,
    cost_computed,
    cost_from_generation,
    cost_improves,
    cost_is_settled,
    cost_sek,
    system_cost_usd,
)
from apps.usage.models import CostSource
from tests.factories import FxRateFactory

pytestmark = pytest.mark.django_db

RANKED = [
    CostSource.UNPRICED,
    CostSource.ESTIMATED,
    CostSource.COMPUTED,
    CostSource.GENERATION_LOOKUP,
    CostSource.PROVIDER_REPORTED,
]


def test_catalogue_costs_are_exact(emulator: Any) -> None:
    # chat_completion.json: gpt-4o-mini, 23 prompt + 9 completion tokens = $0.00000885
    assert catalogue_cost_usd(model="openai/gpt-4o-mini", prompt_tokens=23, completion_tokens=9) == Decimal(
        "0.00000885"
    )
    assert catalogue_cost_usd(model="openai/gpt-oss-120b:free", prompt_tokens=500, completion_tokens=500) == 0


def test_a_model_without_a_price_has_no_cost_never_zero(emulator: Any) -> None:
    assert catalogue_cost_usd(model="acme/unknown-model", prompt_tokens=10, completion_tokens=10) is None
    usage = Usage(prompt_tokens=10, completion_tokens=10)
    assert cost_at_call(provider="openrouter", model="acme/unknown-model", usage=usage) == UNPRICED
    assert (
        cost_computed(model="acme/unknown-model", prompt_tokens=10, completion_tokens=10, cached_tokens=0)
        == UNPRICED
    )


def test_at_call_time_the_reported_cost_wins(emulator: Any) -> None:
    usage = Usage(prompt_tokens=23, completion_tokens=9, cost=Decimal("0.0042"))
    assert cost_at_call(provider="openrouter", model="openai/gpt-4o-mini", usage=usage) == Cost(
        Decimal("0.0042"), CostSource.PROVIDER_REPORTED
    )


def test_without_a_reported_cost_the_catalogue_price_is_an_estimate(emulator: Any) -> None:
    usage = Usage(prompt_tokens=23, completion_tokens=9)
    assert cost_at_call(provider="openrouter", model="openai/gpt-4o-mini", usage=usage) == Cost(
        Decimal("0.00000885"), CostSource.ESTIMATED
    )


def test_a_call_without_usage_is_unpriced(emulator: Any) -> None:
    assert cost_at_call(provider="openrouter", model="openai/gpt-4o-mini", usage=None) == UNPRICED
    assert cost_at_call(provider="system", model="openai/gpt-4o-mini", usage=None) == UNPRICED


def test_the_system_provider_is_computed_at_its_configured_prices(settings: Any) -> None:
    settings.SYSTEM_AI_PROMPT_PRICE_PER_M = Decimal("0.15")
    settings.SYSTEM_AI_COMPLETION_PRICE_PER_M = Decimal("0.60")
    # 1000 x 0.15/1M + 500 x 0.60/1M = 0.00015 + 0.0003; a reported cost is not the system's price.
    usage = Usage(prompt_tokens=1000, completion_tokens=500, cost=Decimal("9"))
    assert system_cost_usd(1000, 500) == Decimal("0.00045")
    assert cost_at_call(provider="system", model="openai/gpt-4o-mini", usage=usage) == Cost(
        Decimal("0.00045"), CostSource.COMPUTED
    )


def test_generation_cost_is_a_lookup_and_none_is_unpriced() -> None:
    generation = Generation(id="gen-1", total_cost=Decimal("0.000123"))
    assert cost_from_generation(generation) == Cost(Decimal("0.000123"), CostSource.GENERATION_LOOKUP)
    assert cost_from_generation(Generation(id="gen-2")) == UNPRICED


def test_settlement_without_tokens_stays_unpriced(emulator: Any) -> None:
    assert (
        cost_computed(model="openai/gpt-4o-mini", prompt_tokens=0, completion_tokens=0, cached_tokens=0)
        == UNPRICED
    )
    assert cost_computed(
        model="openai/gpt-4o-mini", prompt_tokens=23, completion_tokens=9, cached_tokens=0
    ) == Cost(Decimal("0.00000885"), CostSource.COMPUTED)


def test_a_negative_or_missing_figure_is_unpriced() -> None:
    assert Cost(Decimal("-0.01"), CostSource.PROVIDER_REPORTED) == UNPRICED
    assert Cost(None, CostSource.GENERATION_LOOKUP) == UNPRICED
    assert Cost(Decimal(0), CostSource.PROVIDER_REPORTED).usd == Decimal(0)  # free is a real figure


@pytest.mark.parametrize("current", RANKED)
@pytest.mark.parametrize("new", RANKED[1:])
def test_only_a_strictly_better_figure_replaces_a_cost(current: CostSource, new: CostSource) -> None:
    better = RANKED.index(new) > RANKED.index(current)
    current_usd = None if current == CostSource.UNPRICED else Decimal("0.1")
    replaced = cost_improves(current_usd=current_usd, current_source=current, new=Cost(Decimal("0.2"), new))
    assert replaced is (better or current_usd is None)
    assert cost_improves(current_usd=current_usd, current_source=current, new=UNPRICED) is False


def test_settled_sources() -> None:
    settled = [s for s in RANKED if cost_is_settled(usd=Decimal(1), source=s)]
    assert settled == [CostSource.COMPUTED, CostSource.GENERATION_LOOKUP, CostSource.PROVIDER_REPORTED]
    assert not cost_is_settled(usd=None, source=CostSource.COMPUTED)


def test_sek_is_usd_at_the_rate_of_the_calls_utc_day() -> None:
    FxRateFactory(valid_from=dt.date(2026, 11, 1), usd_sek=Decimal("11.250000"))
    FxRateFactory(valid_from=dt.date(2026, 11, 2), usd_sek=Decimal("12.000000"))
    # 23:30 on 1 November in Stockholm is 22:30 UTC: still 1 November's rate.
    late = dt.datetime(2026, 11, 1, 22, 30, tzinfo=dt.UTC)
    assert cost_sek(Decimal("0.000031"), created_at=late) == (Decimal("0.00034875"), Decimal("11.250000"))
    next_day = dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC)
    assert cost_sek(Decimal("0.5"), created_at=next_day) == (Decimal("6"), Decimal("12"))


def test_sek_keeps_the_rate_already_stored_and_none_stays_none() -> None:
    at = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
    assert cost_sek(Decimal("2"), created_at=at, rate=Decimal("9.5")) == (Decimal("19"), Decimal("9.5"))
    assert cost_sek(None, created_at=at) == (None, None)
