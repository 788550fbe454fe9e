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


def test_a_version_peeked_by_the_throttle_saves_the_round_trip_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throttle's Redis round trip reads the FX version for the call it admits; pricing that
    call uses it instead of asking again, exactly once, and only while it is fresh."""
    asked: list[str] = []
    monkeypatch.setattr(money.cache, "get", lambda key, default=None: asked.append(key) or 3)
    money.rates_version_peeked(7)
    assert money._rates_version() == 7
    assert asked == []
    assert money._rates_version() == 3  # used once: the next call asks the shared cache
    assert asked == [money.rates_version_key()]
    money.rates_version_peeked(9)
    monkeypatch.setattr(money.time, "monotonic", lambda: 10**9)  # a stale peek is not trusted
    assert money._rates_version() == 3


def test_the_throttles_round_trip_carries_the_fx_version(settings: Any) -> None:
    """On Redis, admitting an API call reads the FX rates' version in the same pipeline."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from apps.core.api import throttling

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("needs Redis as the shared cache")
    money.usd_sek_rates_changed()
    version = int(caches["default"].get(money.rates_version_key()))
    throttling._count("throttle:test-fx-peek", ttl=5)
    assert money._peeked.value[1] == version
