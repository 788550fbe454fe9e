from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.accounts.models import User
from apps.emulator.demo import DEMO
from apps.integrations.models import AISettings
from apps.roi.management.commands.seed_demo_bookings import demo_bookings
from apps.roi.models import Booking, ROISettings
from apps.usage.models import AIUsageLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"control_endpoints": True}  # simulate_usage scripts failures and fallbacks


def test_setup_demo_creates_a_working_tenant_and_is_repeatable(settings: Any, demo_emulator: Any) -> None:
    settings.DEBUG = True
    out = StringIO()
    call_command("setup_demo", stdout=out)
    password = out.getvalue().split("password ")[1].split()[0]
    user = User.objects.get(username="demo")
    assert user.check_password(password)
    row = AISettings.objects.get(user=user)
    assert (row.openrouter_api_key, row.openrouter_management_key) == (
        DEMO.inference_key,
        DEMO.management_key,
    )
    assert (row.api_key_status, row.management_key_status) == ("ok", "ok")
    calls = AIUsageLog.objects.filter(user=user, source="gateway")
    assert calls.count() == 60
    # The emulator's history of the demo key, synced through the real sync: one adjustment row per
    # earlier UTC day and model, none for today (only completed days are synced).
    synced = AIUsageLog.objects.filter(user=user, source="activity_sync")
    synced_days = set(synced.values_list("activity_date", flat=True))
    assert len(synced_days) == 30
    assert max(synced_days) == timezone.now().date() - dt.timedelta(days=1)
    synced_count = synced.count()
    assert ROISettings.objects.get(user=user).support_sek == Decimal("990.00")
    assert set(calls.values_list("use_case", flat=True)) == {
        "chat",
        "lead_enrichment",
        "review_analysis",
        "sms_classification",
        "message_generation",
        "generic",
    }
    assert calls.filter(status="success").count() == 54  # six of sixty fail on a scripted 400
    assert (calls.filter(streamed=True).count(), calls.filter(is_fallback=True).count()) == (10, 6)
    expected = demo_bookings(timezone.now().date(), 90)
    assert 90 < len(expected) < 600
    assert sorted(
        Booking.objects.filter(user=user).values_list("external_id", "date", "value_sek")
    ) == sorted((external_id, day, value) for external_id, day, _description, value in expected)
    assert sum(b.value_sek for b in Booking.objects.filter(user=user)) > 0

    second = StringIO()
    call_command("setup_demo", stdout=second)
    assert calls.count() == 60  # a second run adds no calls
    assert synced.count() == synced_count  # re-syncing the same days writes no new rows
    assert Booking.objects.filter(user=user).count() == len(expected)  # nor bookings
    assert "0 demo bookings added." in second.getvalue()
    assert User.objects.filter(username="demo").count() == 1
    new_password = second.getvalue().split("password ")[1].split()[0]
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_setup_demo_refuses_to_run_in_production(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("setup_demo", stdout=StringIO())
