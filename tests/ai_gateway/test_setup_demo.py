from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import User
from apps.emulator.demo import DEMO
from apps.integrations.models import AISettings
from apps.usage.models import AIUsageLog

pytestmark = pytest.mark.django_db


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
    assert AIUsageLog.objects.filter(user=user, status="success").count() == 5
    call_command("setup_demo", stdout=StringIO())
    assert AIUsageLog.objects.filter(user=user).count() == 5  # a second run adds no calls
    assert User.objects.filter(username="demo").count() == 1


def test_setup_demo_refuses_to_run_in_production(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("setup_demo", stdout=StringIO())
