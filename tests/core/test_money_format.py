from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from apps.core.templatetags.money import sek, usd


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.000031"), "$0.000031"),
        (Decimal("0.0000252"), "$0.000025"),
        (Decimal("0.00000885"), "$0.000009"),  # capped at six places
        (Decimal("0.0041115"), "$0.0041"),
        (Decimal("42.738215"), "$42.74"),
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal(0), "$0.00"),
        (None, "—"),
    ],
)
def test_usd_shows_small_costs_with_two_significant_digits(value: Decimal | None, expected: str) -> None:
    with translation.override("en"):
        assert usd(value) == expected


def test_sek_uses_the_swedish_decimal_comma() -> None:
    with translation.override("sv"):
        assert sek(Decimal("12.5")) == "12,50\u00a0kr"
        assert sek(Decimal("0.000265")) == "0,00027\u00a0kr"
