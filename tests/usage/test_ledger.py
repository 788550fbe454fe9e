"""Ledger integrity: a row per call written before the provider is called, sums that equal
OpenRouter's own ledger exactly, no row left pending forever, costs that only ever improve."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client

from apps.ai_gateway.services import complete
from apps.usage.cost import Cost
from apps.usage.models import AIUsageLog, CostSource
from apps.usage.services import LedgerUnavailableError, usage_set_cost, usage_start
from apps.usage.tasks import expire_stale_pending

pytestmark = pytest.mark.django_db


def test_stale_pending_rows_become_timeouts_and_a_second_run_changes_nothing(user_a: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        old = usage_start(
            user=user_a, use_case="chat", model="openai/gpt-4o-mini", provider="openrouter", streamed=False
        )
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, 20, tzinfo=dt.UTC), tick=False):
        fresh = usage_start(
            user=user_a, use_case="chat", model="openai/gpt-4o-mini", provider="openrouter", streamed=False
        )
        assert expire_stale_pending() == 1
        assert expire_stale_pending() == 0
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, old.error_code) == ("timeout", "stale_pending")
    assert old.completed_at is not None
    assert fresh.status == "pending"


def test_a_better_cost_replaces_a_worse_one_never_the_reverse(user_a: Any) -> None:
    row = usage_start(user=user_a, use_case="chat", model="m/x", provider="openrouter", streamed=False)
    assert usage_set_cost(log_id=row.pk, cost=Cost(Decimal("0.0001"), CostSource.COMPUTED))
    assert usage_set_cost(log_id=row.pk, cost=Cost(Decimal("0.00012"), CostSource.GENERATION_LOOKUP))
    assert not usage_set_cost(log_id=row.pk, cost=Cost(Decimal("0.5"), CostSource.COMPUTED))
    assert not usage_set_cost(log_id=row.pk, cost=Cost(Decimal("0.00012"), CostSource.GENERATION_LOOKUP))
    row.refresh_from_db()
    assert (row.cost_usd, row.cost_source) == (Decimal("0.00012"), "generation_lookup")
    assert row.cost_sek == Decimal("0.00012") * row.fx_rate


def test_negative_costs_are_refused(user_a: Any) -> None:
    row = usage_start(user=user_a, use_case="chat", model="m/x", provider="openrouter", streamed=False)
    assert not usage_set_cost(log_id=row.pk, cost=Cost(Decimal("-1"), CostSource.COMPUTED))
    row.refresh_from_db()
    assert (row.cost_usd, row.cost_source, row.cost_sek) == (None, "unpriced", None)


def test_users_cannot_write_the_ledger_through_any_endpoint(user_a: Any) -> None:
    client = Client()
    client.force_login(user_a)
    for url in ["/api/usage/logs/", "/api/ai/chat/"]:
        client.post(
            url, {"user": user_a.pk, "cost_usd": "-5", "status": "success"}, content_type="application/json"
        )
    assert AIUsageLog.objects.filter(cost_usd__lt=0).count() == 0
    assert AIUsageLog.objects.count() == 0


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_50_concurrent_calls_give_50_rows_that_sum_to_the_emulators_ledger(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    def worker(n: int) -> None:
        try:
            if n < 10:
                barrier.wait()
            complete(
                user=user_a,
                use_case="chat",
                messages=[{"role": "user", "content": f"Fråga nummer {n}: " + "ord " * (n % 7)}],
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = list(AIUsageLog.objects.filter(user=user_a))
    assert len(rows) == 50
    assert {r.status for r in rows} == {"success"}
    generations = emulator.generations
    assert len(generations) == 50
    assert sum((r.cost_usd for r in rows), Decimal(0)) == sum((g.cost for g in generations), Decimal(0))
    assert sum(r.prompt_tokens for r in rows) == sum(g.prompt_tokens for g in generations)
    assert sum(r.completion_tokens for r in rows) == sum(g.completion_tokens for g in generations)
    assert {r.generation_id for r in rows} == {g.id for g in generations}
    assert connection.vendor == "postgresql"


def test_a_cost_the_provider_never_reports_is_computed_from_catalogue_prices(
    user_a: Any, configured_a: Any, emulator: Any
) -> None:
    from apps.usage.services import TokenCounts, usage_finish
    from apps.usage.settlement import usage_cost_settle

    row = usage_start(
        user=user_a, use_case="chat", model="openai/gpt-4o-mini", provider="openrouter", streamed=False
    )
    usage_finish(
        log=row,
        status="success",
        tokens=TokenCounts(prompt=23, completion=9),
        generation_id="gen-1787412283-unknownToTheEmulat0r",
    )
    assert usage_cost_settle(log_id=row.pk) == CostSource.COMPUTED
    row.refresh_from_db()
    assert (row.cost_usd, row.cost_source) == (Decimal("0.00000885"), "computed")
    lookups = [r for r in emulator.requests if r.path == "/generation"]
    assert len(lookups) > 1  # the not-yet-available 404 was retried before giving up
    requests_before = len(emulator.requests)
    assert usage_cost_settle(log_id=row.pk) is None  # settled: a second run does nothing at all
    assert len(emulator.requests) == requests_before


def test_a_row_without_tokens_or_price_stays_unpriced(user_a: Any, configured_a: Any, emulator: Any) -> None:
    from apps.usage.services import usage_finish
    from apps.usage.settlement import usage_cost_settle

    row = usage_start(
        user=user_a, use_case="chat", model="acme/unknown", provider="openrouter", streamed=False
    )
    usage_finish(log=row, status="success")
    assert usage_cost_settle(log_id=row.pk) is None
    row.refresh_from_db()
    assert (row.cost_usd, row.cost_source) == (None, "unpriced")


def test_the_pending_row_is_the_row_the_orm_would_create(user_a: Any) -> None:
    """usage_start writes every column itself; the result matches ``objects.create`` field by field."""
    args = {"user": user_a, "use_case": "chat", "model": "openai/gpt-4o-mini", "provider": "openrouter"}
    log = usage_start(**args, streamed=True, requested_model="openai/gpt-4o", budget_action="degraded")
    created = AIUsageLog.objects.create(
        **args, streamed=True, requested_model="openai/gpt-4o", budget_action="degraded"
    )
    stored = AIUsageLog.objects.get(pk=log.pk)
    differing = {"id", "request_id", "created_at"}
    for field in AIUsageLog._meta.concrete_fields:
        value = getattr(log, field.attname)
        assert value == getattr(stored, field.attname), field.name
        if field.name not in differing:
            assert value == getattr(created, field.attname), field.name
    assert (log.pk, log._state.adding, log._state.db) == (stored.pk, False, "default")
    assert log.user is user_a
    assert stored.created_at == log.created_at
    assert stored.created_at.tzinfo is not None


def test_a_refused_pending_row_inside_a_transaction_leaves_the_transaction_usable(user_a: Any) -> None:
    first = usage_start(user=user_a, use_case="chat", model="m", provider="openrouter", streamed=False)
    with transaction.atomic():
        with pytest.raises(LedgerUnavailableError):
            usage_start(
                user=user_a,
                use_case="chat",
                model="m",
                provider="openrouter",
                streamed=False,
                request_id=first.request_id,  # unique: the database refuses the second row
            )
        assert AIUsageLog.objects.filter(user=user_a).count() == 1
