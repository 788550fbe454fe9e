"""The budget on the gateway's path: within budget, degrade, block, allow and alert; reservations
are settled whatever the call's outcome."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.ai_gateway.errors import GatewayError
from apps.ai_gateway.services import Completion, complete
from apps.ai_gateway.streaming import GatewayStream
from apps.core.models import Notification
from apps.usage import budgets
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import HELLO, chat_requests
from tests.factories import AISettingsFactory, BudgetFactory, LedgerRowFactory

pytestmark = pytest.mark.django_db

SONNET = "anthropic/claude-sonnet-4.6"
MINI = "openai/gpt-4o-mini"


def _spend(user: Any, sek: str) -> None:
    LedgerRowFactory(user=user, created_at=timezone.now(), cost_sek=Decimal(sek), model=SONNET)


def _reserved(user: Any, scope: str = budgets.ALL) -> int:
    first, _ = budgets.month_of(timezone.now())
    month = first.strftime("%Y-%m")
    keys = budgets._window_keys(user.pk, month, scope, budgets._bucket_now())
    return sum(int(v) for v in cache.get_many(keys).values())


def test_no_budget_reserves_nothing_and_records_no_action(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    result = complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET)
    assert isinstance(result, Completion)
    row = AIUsageLog.objects.get()
    assert (row.model, row.requested_model, row.budget_action) == (SONNET, "", "")
    assert _reserved(user_a) == 0


def test_within_budget_the_reservation_becomes_the_calls_cost(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("100"))
    complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET, max_tokens=50)
    row = AIUsageLog.objects.get()
    assert (row.status, row.model, row.budget_action) == ("success", SONNET, "")
    assert _reserved(user_a) == 0  # released when the row was finalised
    status = budgets.budget_status(user_id=user_a.pk)
    assert status is not None
    # The cached spend moved by the call's own cost, in step with the rollups.
    assert abs(status.spent_sek - row.cost_sek) < Decimal("0.000002")
    fresh = budgets.budget_status(user_id=user_a.pk, fresh=True)
    assert fresh is not None
    assert abs(fresh.spent_sek - row.cost_sek) < Decimal("0.000002")


def test_block_is_a_402_with_limit_spend_and_reset_and_no_upstream_call(
    user_a: Any, inference_key: str, emulator: Any
) -> None:
    # The tenant allows the system fallback: a budget block must never fall back.
    AISettingsFactory(user=user_a, openrouter_api_key=inference_key, use_system_fallback=True)
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("100"), policy="block")
    _spend(user_a, "100.50")
    with pytest.raises(GatewayError) as caught:
        complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET)
    error = caught.value
    assert (error.status_code, error.code) == (402, "budget_exceeded")
    assert error.details["limit_sek"] == "100.00"
    assert error.details["spent_sek"] == "100.50"
    assert error.details["resets_at"].endswith("T00:00:00Z")
    assert chat_requests(emulator) == []
    assert chat_requests(emulator.system) == []
    row = AIUsageLog.objects.exclude(pk__in=[]).filter(error_code="budget_exceeded").get()
    assert (row.status, row.budget_action, row.cost_usd, row.is_fallback) == ("error", "blocked", 0, False)
    assert error.log_id == row.pk
    assert _reserved(user_a) == 0


def test_degrade_serves_the_cheaper_model_and_records_both(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"), policy="degrade", fallback_model=MINI)
    _spend(user_a, "12")
    result = complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET)
    assert isinstance(result, Completion)
    assert chat_requests(emulator)[0].body["model"] == MINI
    row = AIUsageLog.objects.get(generation_id=result.generation_id)
    assert (row.status, row.model, row.requested_model, row.budget_action) == (
        "success",
        MINI,
        SONNET,
        "degraded",
    )
    assert _reserved(user_a) == 0


def test_a_use_case_policy_overrides_the_tenants(user_a: Any, configured_a: Any, emulator: Any) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"), policy="block")
    BudgetFactory(user=user_a, use_case="chat", monthly_limit_sek=None, policy="degrade", fallback_model=MINI)
    _spend(user_a, "12")
    complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET)
    with pytest.raises(GatewayError) as caught:
        complete(user=user_a, use_case="generic", messages=HELLO, model=SONNET)
    assert caught.value.code == "budget_exceeded"
    assert [r.body["model"] for r in chat_requests(emulator)] == [MINI]


def test_a_use_cases_own_limit_blocks_only_that_use_case(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("1000"), policy="block")
    BudgetFactory(user=user_a, use_case="lead_enrichment", monthly_limit_sek=Decimal("5"), policy="block")
    LedgerRowFactory(
        user=user_a, created_at=timezone.now(), cost_sek=Decimal("6"), use_case="lead_enrichment"
    )
    with pytest.raises(GatewayError):
        complete(user=user_a, use_case="lead_enrichment", messages=HELLO, model=SONNET)
    complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET)
    assert len(chat_requests(emulator)) == 1


def test_allow_and_alert_goes_ahead_and_notifies_once(
    user_a: Any, configured_a: Any, emulator: Any, mailoutbox: list[Any]
) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"), policy="allow_and_alert")
    _spend(user_a, "12")
    complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET)
    complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET)
    rows = list(AIUsageLog.objects.filter(budget_action="allowed_over"))
    assert len(rows) == 2
    assert {r.model for r in rows} == {SONNET}
    events = sorted(Notification.objects.for_user(user_a).values_list("event", flat=True))
    assert events == ["budget_over", "budget_soft"]
    assert len(mailoutbox) == 2
    assert mailoutbox[0].to == [user_a.email]


def test_the_soft_threshold_alerts_before_the_limit(
    user_a: Any, configured_a: Any, emulator: Any, mailoutbox: list[Any]
) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"), soft_threshold_percent=80)
    _spend(user_a, "8.5")
    complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET)
    note = Notification.objects.for_user(user_a).get()
    assert note.event == "budget_soft"
    assert "10,00" in note.body  # the shared money format, in the site's language
    assert len(mailoutbox) == 1


def test_a_cancelled_stream_releases_its_reservation(user_a: Any, configured_a: Any, emulator: Any) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("100"))
    stream = complete(user=user_a, use_case="chat", messages=HELLO, model=SONNET, stream=True)
    assert isinstance(stream, GatewayStream)
    assert _reserved(user_a) > 0
    next(stream)
    stream.close()
    assert AIUsageLog.objects.get().status == "cancelled"
    assert _reserved(user_a) == 0


def test_a_failed_call_releases_its_reservation(user_a: Any, configured_a: Any, emulator: Any) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("100"))
    with pytest.raises(GatewayError):
        complete(user=user_a, use_case="chat", messages=HELLO, model="nonexistent/model-x")
    assert _reserved(user_a) == 0


def test_the_reservation_is_the_calls_maximum_cost(user_a: Any, configured_a: Any, emulator: Any) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("100"))
    decision = budgets.budget_check(
        user_id=user_a.pk,
        use_case="chat",
        provider="openrouter",
        model=SONNET,
        messages=HELLO,
        params={"max_tokens": 1000},
    )
    assert decision is not None
    assert decision.reservation is not None
    # 1000 completion tokens at $15/M plus the prompt estimate at $3/M, at the default rate.
    expected = budgets.estimate_usd(
        provider="openrouter", model=SONNET, messages=HELLO, params={"max_tokens": 1000}
    )
    assert Decimal("0.015") < expected < Decimal("0.0152")
    assert _reserved(user_a) == decision.reservation.amounts[budgets.ALL] > 0
    budgets.reservation_settle(decision.reservation, cost_sek=None)
    budgets.reservation_settle(decision.reservation, cost_sek=None)  # idempotent
    assert _reserved(user_a) == 0


def test_room_for_a_few_calls_lets_at_most_one_more_through(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    """Reservations held by calls in flight count against the limit like spend."""
    params = {"max_tokens": 1000}
    one = budgets.to_micro(
        budgets.estimate_usd(provider="openrouter", model=SONNET, messages=HELLO, params=params)
        * Decimal("10")
    )
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal(one * 3) / budgets.MICRO)
    held = [
        budgets.budget_check(
            user_id=user_a.pk,
            use_case="chat",
            provider="openrouter",
            model=SONNET,
            messages=HELLO,
            params=params,
        )
        for _ in range(5)
    ]
    actions = [d.action if d else None for d in held]
    assert actions == ["", "", "", "blocked", "blocked"]
    for decision in held:
        if decision is not None:
            budgets.reservation_settle(decision.reservation, cost_sek=None)
    assert _reserved(user_a) == 0


def test_the_openai_compatible_door_answers_402_in_the_error_shape(
    api_a: Any, user_a: Any, configured_a: Any, emulator: Any
) -> None:
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"), policy="block")
    _spend(user_a, "10")
    response = api_a.post(
        "/api/v1/chat/completions",
        {"model": SONNET, "messages": HELLO},
        format="json",
        HTTP_X_USE_CASE="chat",
    )
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert (error["limit_sek"], error["spent_sek"]) == ("10.00", "10.00")
    assert error["resets_at"].endswith("Z")
    assert error["message"]
    assert chat_requests(emulator) == []


def test_degrade_on_the_system_provider_keeps_the_system_model(
    user_a: Any, emulator: Any, settings: Any
) -> None:
    # The cheaper model is an OpenRouter id; the system provider must never be sent it.
    AISettingsFactory(user=user_a, ai_provider="system")
    cheaper = "mistralai/mistral-small"
    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("10"), policy="degrade", fallback_model=cheaper)
    _spend(user_a, "12")

    result = complete(user=user_a, use_case="chat", messages=HELLO)

    assert isinstance(result, Completion)
    assert [r.body["model"] for r in chat_requests(emulator.system)] == [settings.SYSTEM_AI_MODEL]
    assert chat_requests(emulator) == []
    row = AIUsageLog.objects.get(generation_id=result.generation_id)
    assert (row.provider, row.model, row.requested_model, row.budget_action) == (
        "system",
        settings.SYSTEM_AI_MODEL,
        "",
        "allowed_over",
    )
    assert _reserved(user_a) == 0


def test_sync_adjustments_count_in_the_tenants_spend_not_in_a_use_cases(user_a: Any, user_b: Any) -> None:
    """Spend OpenRouter billed outside the gateway is the tenant's spend, but no use case's (it is
    stored as ``generic``, yet no generic call made it); another tenant's spend is not counted."""
    from apps.usage.services import Adjustment, TokenCounts, usage_adjustments_write

    BudgetFactory(user=user_a, monthly_limit_sek=Decimal("100"))
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("2"), use_case="generic")
    LedgerRowFactory(user=user_b, created_at=timezone.now(), cost_sek=Decimal("50"), use_case="generic")
    first, _ = budgets.month_of(timezone.now())
    usage_adjustments_write(
        user=user_a,
        day=first,
        adjustments={MINI: Adjustment(Decimal("3"), TokenCounts(prompt=10, completion=10))},
    )
    adjustment = AIUsageLog.objects.get(user=user_a, source="activity_sync")
    status = budgets.budget_status(user_id=user_a.pk, fresh=True)
    assert status is not None
    assert status.spent_sek == (Decimal("2") + adjustment.cost_sek).quantize(Decimal("0.000001"))
    assert budgets._month_spend_sek(user_a.pk, first, "generic") == Decimal("2")
