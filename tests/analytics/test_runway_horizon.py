"""A runway further out than a year reads "more than a year", never a date centuries ahead.

Found by the browser journey: $22.83 of credits at $0.000056 a day read "3142-11-27 (407609 days)".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.test import Client

from apps.analytics import selectors
from apps.integrations.models import CreditSnapshot, CreditSource
from tests.factories import AIUsageLogFactory

TODAY = dt.datetime.now(dt.UTC).date()


def _spend(user: Any, cost: str) -> None:
    AIUsageLogFactory(user=user, created_at=dt.datetime.now(dt.UTC), cost_usd=Decimal(cost))


def test_a_runway_over_a_year_has_no_date(user_a: Any) -> None:
    _spend(user_a, "0.0004")  # about $0.000057 a day over 7 days
    runway = selectors.runway_get(user=user_a, remaining_usd=Decimal("22.83"), today=TODAY)
    assert (runway.days, runway.runs_out_on, runway.beyond_horizon) == (None, None, True)


def test_a_runway_inside_the_year_keeps_its_date(user_a: Any) -> None:
    _spend(user_a, "0.7")  # $0.10 a day: 150 days
    runway = selectors.runway_get(user=user_a, remaining_usd=Decimal(15), today=TODAY)
    assert (runway.days, runway.runs_out_on, runway.beyond_horizon) == (
        150,
        TODAY + dt.timedelta(days=150),
        False,
    )
    horizon = selectors.RUNWAY_HORIZON_DAYS
    exact = selectors.runway_get(user=user_a, remaining_usd=Decimal("0.1") * horizon, today=TODAY)
    assert exact.days == horizon


def test_the_overview_card_says_more_than_a_year(user_a: Any, user_b: Any, page_a: Client) -> None:
    _spend(user_a, "0.0004")
    now = dt.datetime.now(dt.UTC)
    CreditSnapshot.objects.create(
        user=user_a, taken_at=now, minute=now, source=CreditSource.ACCOUNT, remaining=Decimal("22.83")
    )
    html = page_a.get("/dashboard/analytics/overview/").content.decode()
    assert "Räcker mer än ett år med de senaste 7 dagarnas förbrukning" in html
    assert str(TODAY.year + 100) not in html
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(user_a)
    assert "Lasts more than a year" in english.get("/dashboard/analytics/overview/").content.decode()
    # Bertil (no credits, no spend) sees no runway at all.
    other = Client()
    other.force_login(user_b)
    html_b = other.get("/dashboard/analytics/overview/").content.decode()
    assert "mer än ett år" not in html_b
