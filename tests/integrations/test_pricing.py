from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.integrations.openrouter import Pricing
from apps.integrations.pricing import model_pricing

pytestmark = pytest.mark.django_db


def test_catalogue_prices_are_per_token(emulator: Any) -> None:
    pricing = model_pricing("openai/gpt-4o-mini")
    assert pricing is not None
    assert (pricing.prompt, pricing.completion) == (Decimal("0.00000015"), Decimal("0.0000006"))
    assert model_pricing("openai/gpt-oss-120b:free") == Pricing()  # free variants cost nothing


def test_unknown_models_have_no_price_never_zero(emulator: Any) -> None:
    assert model_pricing("acme/unknown-model") is None


def test_the_catalogue_is_fetched_once_and_shared(emulator: Any) -> None:
    model_pricing("openai/gpt-4o-mini")
    model_pricing("anthropic/claude-haiku-4.5")
    assert len([r for r in emulator.requests if r.path == "/models"]) == 1


def test_a_known_price_survives_an_outage(emulator: Any) -> None:
    import time_machine

    with time_machine.travel("2026-11-26 10:00:00Z", tick=False):
        assert model_pricing("openai/gpt-4o-mini") is not None
    emulator.inject("status", status=503, times=20, path="/models")
    with time_machine.travel("2026-11-26 12:00:00Z", tick=False):
        assert model_pricing("openai/gpt-4o-mini") is not None  # the last known catalogue
