"""simulate_usage: a realistic mix through the real gateway, priced exactly as the emulator bills."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.emulator.demo import DEMO
from apps.usage.models import AIUsageLog
from tests.factories import AISettingsFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"control_endpoints": True}


@pytest.fixture
def demo_user(demo_emulator: Any) -> Any:
    user = UserFactory(username="demo")
    AISettingsFactory(user=user, openrouter_api_key=DEMO.inference_key, use_system_fallback=True)
    return user


def test_every_use_case_some_streamed_some_failed_some_fallen_back(
    demo_emulator: Any, demo_user: Any
) -> None:
    out = StringIO()
    call_command("simulate_usage", "--calls", "20", "--faults", "on", stdout=out)

    rows = list(AIUsageLog.objects.filter(user=demo_user).order_by("pk"))
    assert len(rows) == 20
    assert Counter(r.use_case for r in rows) == {
        "chat": 4,
        "lead_enrichment": 4,
        "review_analysis": 3,
        "sms_classification": 3,
        "message_generation": 3,
        "generic": 3,
    }
    assert Counter(r.model for r in rows if not r.is_fallback) == {
        "openai/gpt-4o-mini": 5,  # models in turn; the fallbacks (3 deepseek, 13 claude) ran the system's
        "anthropic/claude-haiku-4.5": 4,
        "google/gemini-2.5-flash": 5,
        "deepseek/deepseek-chat-v3.1": 4,
    }
    # Rounds 0 and 2 stream chat and generic: calls 0, 5, 12, 17.
    assert [i for i, r in enumerate(rows) if r.streamed] == [0, 5, 12, 17]
    # Calls 3 and 13 fall back (503 on every attempt of the tenant's key); 7 and 17 (a streamed
    # generic prompt) fail with a 400 that is neither retried nor falls back.
    assert [(i, r.provider) for i, r in enumerate(rows) if r.is_fallback] == [(3, "system"), (13, "system")]
    assert all(rows[i].attempts == 5 for i in (3, 13))  # four tries of the tenant's key, one of the system's
    failed = [(i, r.status, r.error_code) for i, r in enumerate(rows) if r.status != "success"]
    assert failed == [(7, "error", "invalid_request"), (17, "error", "invalid_request")]
    assert all(r.status == "success" for i, r in enumerate(rows) if i not in (7, 17))
    assert "16 succeeded, 2 served by the fallback provider, 2 failed" in out.getvalue()
    assert "AI calls" in out.getvalue()  # the progress bar's label

    # The ledger is what the emulator billed the tenant's key, to the last decimal: every
    # OpenRouter row (the failures included) against every generation on the tenant's key.
    billed = sum(
        (
            g.cost
            for g in demo_emulator.generations
            if g.key_hash == demo_emulator.key_hash(DEMO.inference_key)
        ),
        Decimal(0),
    )
    recorded = sum((r.cost_usd or Decimal(0) for r in rows if r.provider == "openrouter"), Decimal(0))
    assert billed > 0
    assert recorded == billed
    system_billed = sum((g.cost for g in demo_emulator.system.generations), Decimal(0))
    assert sum((r.cost_usd for r in rows if r.provider == "system"), Decimal(0)) == system_billed


def test_without_faults_every_call_succeeds_on_the_tenants_key(demo_emulator: Any, demo_user: Any) -> None:
    call_command("simulate_usage", "--user", "demo", "--calls", "6", "--faults", "off", stdout=StringIO())
    rows = AIUsageLog.objects.filter(user=demo_user)
    assert sorted(rows.values_list("use_case", "status", "provider", "streamed")) == [
        ("chat", "success", "openrouter", True),
        ("generic", "success", "openrouter", True),
        ("lead_enrichment", "success", "openrouter", False),
        ("message_generation", "success", "openrouter", False),
        ("review_analysis", "success", "openrouter", False),
        ("sms_classification", "success", "openrouter", False),
    ]
    assert demo_emulator.core.faults.pending() == []


def test_only_the_named_users_ledger_grows(demo_emulator: Any, demo_user: Any, user_b: Any) -> None:
    AISettingsFactory(user=user_b, openrouter_api_key=DEMO.inference_key)
    call_command("simulate_usage", "--calls", "3", "--faults", "off", stdout=StringIO())
    assert AIUsageLog.objects.filter(user=demo_user).count() == 3
    assert not AIUsageLog.objects.filter(user=user_b).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody"], "No user 'nobody'."),
        (["--calls", "0"], "--calls must be between 1 and 10000."),
    ],
)
def test_bad_arguments_are_refused(demo_user: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("simulate_usage", *args, stdout=StringIO())


def test_a_user_without_a_key_is_refused(db: Any) -> None:
    UserFactory(username="keyless")
    with pytest.raises(CommandError, match="has no OpenRouter API key"):
        call_command("simulate_usage", "--user", "keyless", stdout=StringIO())
