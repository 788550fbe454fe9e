"""50 concurrent calls against a budget with room for 10 (PostgreSQL; Redis when CACHE_URL says so)."""

from __future__ import annotations

import threading
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.ai_gateway.services import complete
from apps.integrations.models import Budget
from apps.usage import budgets
from apps.usage.models import AIUsageLog, DailyUsage
from tests.ai_gateway.conftest import chat_requests
from tests.factories import BudgetFactory

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

SONNET = "anthropic/claude-sonnet-4.6"
MINI = "openai/gpt-4o-mini"
PROMPT = [{"role": "user", "content": "Skriv en lång text om våra öppettider."}]
PARAMS = {"max_tokens": 40}
CALLS = 50


def _run(user: Any) -> list[Any]:
    token = api_token_create(user=user, name="load").plaintext
    barrier = threading.Barrier(CALLS)
    results: list[Any] = []

    def worker(n: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_USE_CASE="chat")
        try:
            barrier.wait()
            response = client.post(
                "/api/v1/chat/completions", {"model": SONNET, "messages": PROMPT, **PARAMS}, format="json"
            )
            results.append((response.status_code, response.json()))
        except BaseException as exc:
            results.append((0, repr(exc)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CALLS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _one_call_micro() -> int:
    usd = budgets.estimate_usd(provider="openrouter", model=SONNET, messages=PROMPT, params=PARAMS)
    return budgets.to_micro(usd * Decimal(settings.USD_SEK_RATE))


def _reserved(user: Any) -> int:
    month = budgets.month_of(timezone.now())[0].strftime("%Y-%m")
    keys = budgets._window_keys(user.pk, month, budgets.ALL, budgets._bucket_now())
    return sum(int(v) for v in cache.get_many(keys).values())


@pytest.mark.parametrize("policy", ["block", "degrade"])
def test_fifty_calls_with_room_for_ten(user_a: Any, configured_a: Any, emulator: Any, policy: str) -> None:
    # One call first, to learn what a call really costs: the budget leaves room for ten of them
    # after it (each reserves its maximum, at least what it costs).
    complete(user=user_a, use_case="chat", messages=PROMPT, model=SONNET, **PARAMS)
    warm = AIUsageLog.objects.get(user=user_a)
    one = _one_call_micro()
    assert budgets.to_micro(warm.cost_sek) <= one
    limit = warm.cost_sek * 11
    BudgetFactory(
        user=user_a,
        monthly_limit_sek=limit.quantize(Decimal("0.01"), rounding=ROUND_DOWN) or Decimal("0.01"),
        policy=policy,
        fallback_model=MINI,
    )
    limit = Budget.objects.get(user=user_a).monthly_limit_sek
    results = _run(user_a)
    assert [r for r in results if r[0] not in (200, 402)] == []
    rows = list(AIUsageLog.objects.filter(user=user_a).exclude(pk=warm.pk))
    assert len(rows) == CALLS
    full = [r for r in rows if r.budget_action == "" and r.status == "success"]
    print(f"{policy}: {len(full)} of {CALLS} at full price")  # shown with -s, for the record
    # Reservations are each call's maximum: at most one call past the room, whatever the timing.
    assert 1 <= len(full) <= 11
    full_cost = sum((r.cost_sek for r in full), Decimal(0))
    assert full_cost <= limit + Decimal(one) / budgets.MICRO
    if policy == "block":
        blocked = [r for r in rows if r.budget_action == "blocked"]
        assert len(blocked) == CALLS - len(full) == sum(1 for r in results if r[0] == 402)
        assert {r.error_code for r in blocked} == {"budget_exceeded"}
        assert len(chat_requests(emulator)) == len(full) + 1  # + the first call
    else:
        degraded = [r for r in rows if r.budget_action == "degraded"]
        assert len(degraded) == CALLS - len(full)
        assert {(r.model, r.requested_model, r.status) for r in degraded} == {(MINI, SONNET, "success")}
    # Afterwards nothing is held, and the cached spend is the ledger's (and the rollups') own.
    assert _reserved(user_a) == 0
    ledger = AIUsageLog.objects.filter(user=user_a).aggregate(s=Sum("cost_sek"))["s"]
    rollups = DailyUsage.objects.filter(user=user_a).aggregate(s=Sum("cost_sek"))["s"]
    assert ledger == rollups
    status = budgets.budget_status(user_id=user_a.pk)
    assert status is not None
    assert abs(status.spent_sek - ledger) <= Decimal(CALLS) / budgets.MICRO
