"""One amount reads the same everywhere on a page: totals, table rows, in Swedish and English."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tests.factories import AIUsageLogFactory

pytestmark = pytest.mark.django_db
NB = "\u00a0"


@pytest.mark.parametrize(
    ("language", "usd", "sek", "tokens"),
    [
        ("sv", "$0,000031", f"0,00033{NB}kr", f"12{NB}345"),
        ("en", "$0.000031", f"0.00033{NB}kr", "12,345"),
    ],
)
def test_a_tiny_cost_reads_the_same_in_the_total_and_the_table(
    user_a: Any, user_b: Any, language: str, usd: str, sek: str, tokens: str
) -> None:
    AIUsageLogFactory(user=user_a, cost_usd=Decimal("0.000031"), prompt_tokens=12000, completion_tokens=345)
    AIUsageLogFactory(user=user_b, cost_usd=Decimal("0.000047"), prompt_tokens=12000, completion_tokens=345)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user_a)
    response = client.get("/dashboard/openrouter/")
    assert response.status_code == 200
    html = response.content.decode()
    # The total and the average per call; the model's row and its average; the data-quality row;
    # the three chart tables (per model, per use case, per day).
    assert html.count(usd) == 8
    assert html.count(sek) == 6  # the total, the average, the model's row, the three chart tables
    assert html.count(f">{tokens}<") == 2
    assert "0.000031000000" not in html  # never the stored decimal places
    assert "0,000047" not in html  # another tenant's call
    assert "0.000047" not in html
    assert "js/money.js" in html


def test_anonymous_visitors_are_sent_to_log_in() -> None:
    response = Client().get("/dashboard/openrouter/")
    assert response.status_code == 302
    assert "/login" in response["Location"] or "/accounts/" in response["Location"]
