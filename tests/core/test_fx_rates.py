"""Deleting or changing an FX rate applies at once, in every process (issue 12, item 14)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from apps.core import money
from apps.core.models import FxRate

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 2)


def test_item14_deleting_a_rate_in_admin_stops_its_use_at_once(admin_user: Any, settings: Any) -> None:
    rate = FxRate.objects.create(valid_from=dt.date(2026, 11, 1), usd_sek=Decimal("11.250000"))
    assert money.usd_sek_rate(DAY) == Decimal("11.250000")
    client = Client()
    client.force_login(admin_user)
    response = client.post(f"/admin/core/fxrate/{rate.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert money.usd_sek_rate(DAY) == Decimal(settings.USD_SEK_RATE)


def test_item14_another_process_sees_the_change_on_its_next_call(settings: Any) -> None:
    FxRate.objects.create(valid_from=dt.date(2026, 11, 1), usd_sek=Decimal("11.250000"))
    assert money.usd_sek_rate(DAY) == Decimal("11.250000")
    remembered = dict(money._rates)  # what a second worker process still holds
    FxRate.objects.filter(valid_from=dt.date(2026, 11, 1)).delete()
    money._rates.update(remembered)
    assert money.usd_sek_rate(DAY) == Decimal(settings.USD_SEK_RATE)
    remembered = dict(money._rates)
    FxRate.objects.create(valid_from=dt.date(2026, 11, 2), usd_sek=Decimal("9.870000"))
    money._rates.update(remembered)
    assert money.usd_sek_rate(DAY) == Decimal("9.870000")
