from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.factories import AIUsageLogFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "expected_calls", "expected_sek"),
    [
        ("/dashboard/analytics/", 2, "3,00 kr"),
        ("/dashboard/openrouter/", 1, "1,00 kr"),  # Swedish decimal comma
    ],
)
def test_dashboards_total_my_rows_only(
    page_a: Any, user_a: Any, user_b: Any, path: str, expected_calls: int, expected_sek: str
) -> None:
    AIUsageLogFactory(user=user_a, cost_usd=Decimal("0.1"), fx_rate=Decimal(10))
    AIUsageLogFactory(
        user=user_a, cost_usd=Decimal("0.2"), provider="system", model="system/model", fx_rate=Decimal(10)
    )
    AIUsageLogFactory(user=user_b, cost_usd=Decimal("50"), fx_rate=Decimal(10))
    response = page_a.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="total-calls">{expected_calls}<' in html
    nbsp_sek = expected_sek.replace(" ", "\u00a0")
    assert f'id="total-cost-sek">{nbsp_sek}<' in html
    charts = json.loads(html.split('id="chart-data" type="application/json">')[1].split("</script>")[0])
    assert sum(charts["by_model"]["values"]) == pytest.approx(
        float(Decimal(expected_sek.split()[0].replace(",", ".")) / 10)
    )


def test_empty_period_shows_an_empty_state(page_a: Any) -> None:
    html = page_a.get("/dashboard/analytics/?start=2020-01-01&end=2020-01-31").content.decode()
    assert "chart-data" not in html
    assert "/dashboard/ai/" in html


def test_bad_period_falls_back_to_this_month(page_a: Any, user_a: Any) -> None:
    AIUsageLogFactory(user=user_a, cost_usd=Decimal("0.1"), fx_rate=Decimal(10))
    response = page_a.get("/dashboard/analytics/?start=2026-12-31&end=2020-01-01")
    assert response.status_code == 200
    assert 'id="total-calls">1<' in response.content.decode()


def test_overview_card_shows_this_months_figures_for_me_only(page_a: Any, user_a: Any, user_b: Any) -> None:
    AIUsageLogFactory(user=user_a, cost_usd=Decimal("0.1"), fx_rate=Decimal(10))
    AIUsageLogFactory(user=user_b, cost_usd=Decimal("50"), fx_rate=Decimal(10))
    html = page_a.get("/dashboard/analytics/overview/").content.decode()
    assert "1,00\u00a0kr" in html  # 0.1 USD x 10 in the test rows
    assert "500" not in html
    assert html.count("<tr>") == 1


def test_landing_page_loads_the_overview(page_a: Any) -> None:
    html = page_a.get("/dashboard/").content.decode()
    assert 'hx-get="/dashboard/analytics/overview/"' in html
