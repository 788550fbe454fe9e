from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from apps.core.formatting import (
    format_amount,
    format_percent,
    format_sek,
    format_tokens,
    format_usd,
    format_usd_per_million,
    round_amount,
)

NB = "\u00a0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal(0), Decimal(0)),
        (Decimal("0.000031"), Decimal("0.000031")),
        (Decimal("0.0000252"), Decimal("0.000025")),
        (Decimal("0.00000885"), Decimal("0.0000089")),
        (Decimal("0.02123"), Decimal("0.021")),
        (Decimal("0.0999"), Decimal("0.10")),
        (Decimal("0.125"), Decimal("0.13")),
        (Decimal("42.738215"), Decimal("42.74")),
        (Decimal("-0.0000315"), Decimal("-0.000032")),
    ],
)
def test_round_amount_two_decimals_or_two_significant_digits(value: Decimal, expected: Decimal) -> None:
    rounded = round_amount(value)
    assert rounded == expected
    assert rounded.as_tuple().exponent == expected.as_tuple().exponent


@pytest.mark.parametrize(
    ("value", "sv", "en"),
    [
        (Decimal(0), "$0", "$0"),
        (0, "$0", "$0"),
        (Decimal("0.000031"), "$0,000031", "$0.000031"),
        (Decimal("0.0041115"), "$0,0041", "$0.0041"),
        (Decimal("0.15"), "$0,15", "$0.15"),
        (Decimal("42.738215"), "$42,74", "$42.74"),
        (Decimal("4033.5"), f"$4{NB}033,50", "$4,033.50"),
        (Decimal("1234567.891"), f"$1{NB}234{NB}567,89", "$1,234,567.89"),
        (Decimal("-1.5"), "-$1,50", "-$1.50"),
        (Decimal("-0.000031"), "-$0,000031", "-$0.000031"),
        ("0.000258000000", "$0,00026", "$0.00026"),
        (None, "—", "—"),
        ("", "—", "—"),
        ("abc", "—", "—"),
        (float("nan"), "—", "—"),
    ],
)
def test_usd_in_both_languages(value: Any, sv: str, en: str) -> None:
    with translation.override("sv"):
        assert format_usd(value) == sv
    with translation.override("en"):
        assert format_usd(value) == en
    assert format_usd(value, language="en") == en


@pytest.mark.parametrize(
    ("value", "sv", "en"),
    [
        (Decimal(0), f"0{NB}kr", f"0{NB}kr"),
        (Decimal("0.02123"), f"0,021{NB}kr", f"0.021{NB}kr"),
        (Decimal("0.000265000000000000"), f"0,00027{NB}kr", f"0.00027{NB}kr"),
        (Decimal("12.5"), f"12,50{NB}kr", f"12.50{NB}kr"),
        (Decimal("4033"), f"4{NB}033,00{NB}kr", f"4,033.00{NB}kr"),
        (Decimal("-250.125"), f"-250,13{NB}kr", f"-250.13{NB}kr"),
        (None, "—", "—"),
    ],
)
def test_sek_in_both_languages(value: Any, sv: str, en: str) -> None:
    with translation.override("sv"):
        assert format_sek(value) == sv
    with translation.override("en"):
        assert format_sek(value) == en


def test_a_non_zero_amount_never_reads_as_zero() -> None:
    for exponent in range(2, 19):
        amount = Decimal(1).scaleb(-exponent)
        assert format_amount(amount, language="en") not in {"0", "0.00"}
        assert Decimal(format_amount(amount, language="en")) == amount


@pytest.mark.parametrize(
    ("value", "sv", "en"),
    [
        (0, "0", "0"),
        (999, "999", "999"),
        (12345, f"12{NB}345", "12,345"),
        (1048576, f"1{NB}048{NB}576", "1,048,576"),
        (-1200, f"-1{NB}200", "-1,200"),
        (None, "—", "—"),
    ],
)
def test_tokens_are_grouped_whole_numbers(value: Any, sv: str, en: str) -> None:
    assert format_tokens(value, language="sv") == sv
    assert format_tokens(value, language="en") == en


@pytest.mark.parametrize(
    ("value", "sv", "en"),
    [
        (Decimal("0.125"), f"12,5{NB}%", "12.5%"),
        (Decimal(0), f"0,0{NB}%", "0.0%"),
        (Decimal("12.3456"), f"1{NB}234,6{NB}%", "1,234.6%"),
        (Decimal("-0.05"), f"-5,0{NB}%", "-5.0%"),
        (None, "—", "—"),
    ],
)
def test_percent_of_a_ratio(value: Any, sv: str, en: str) -> None:
    assert format_percent(value, language="sv") == sv
    assert format_percent(value, language="en") == en


def test_price_per_million_tokens() -> None:
    assert format_usd_per_million(Decimal("0.00000015"), language="en") == "$0.15"
    assert format_usd_per_million(Decimal("0.0000025"), language="sv") == "$2,50"
    assert format_usd_per_million(Decimal(0)) is None
    assert format_usd_per_million(Decimal(-1)) is None
    assert format_usd_per_million(None) == "—"
