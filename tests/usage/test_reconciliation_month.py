"""The reconciliation invariant on a scripted month in the emulator.

Gateway calls, calls made directly against the emulator with the same key, read timeouts,
truncated bodies, streams cut off, failing mid-stream and cancelled, retries and fallbacks:
after the sync, per UTC day and model, the ledger's total equals the emulator's billing exactly,
and no finished row is left without a known cost.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from apps.ai_gateway.errors import GatewayError
from apps.ai_gateway.services import complete
from apps.integrations.clients import openrouter_client
from apps.usage.models import AIUsageLog, SyncTrigger, UsageStatus
from apps.usage.rollups import rollups_rebuild
from apps.usage.sync import sync_run_execute, sync_run_request
from tests.usage.conftest import settings_change
from tests.usage.test_rollups import _snapshot as _rollup_snapshot

pytestmark = pytest.mark.django_db

HELLO = [{"role": "user", "content": "Hej! Vad kostar en klippning?"}]
FIRST_DAY = dt.date(2026, 10, 30)
DAYS = 29  # 2026-10-30 .. 2026-11-27: inside the window on 2026-11-28
MODELS = ("openai/gpt-4o-mini", "google/gemini-2.5-flash")


def _call(user: Any, model: str, **kwargs: Any) -> None:
    try:
        result = complete(user=user, use_case="chat", messages=HELLO, model=model, **kwargs)
        if kwargs.get("stream"):
            list(result)  # type: ignore[call-overload]
    except GatewayError:
        pass


def _cancelled_stream(user: Any, model: str) -> None:
    stream = complete(user=user, use_case="chat", messages=HELLO, model=model, stream=True)
    next(iter(stream))  # type: ignore[call-overload]
    stream.close()  # type: ignore[union-attr]


def _direct(api_key: str, model: str) -> None:
    with openrouter_client(api_key) as client:
        client.chat({"model": model, "messages": HELLO})


def _script_day(day_index: int, user: Any, emulator: Any, api_key: str) -> None:
    """A different mix each day; every kind of outcome happens several times in the month."""
    model = MODELS[day_index % 2]
    other = MODELS[(day_index + 1) % 2]
    _call(user, model)
    _call(user, other, stream=True)
    step = day_index % 6
    if step == 0:
        emulator.inject("read_timeout", key=api_key)
        _call(user, model)
        _direct(api_key, model)
    elif step == 1:
        emulator.inject("truncated", key=api_key)
        _call(user, model)
        emulator.inject("rate_limit", key=api_key, times=2, retry_after=1)
        _call(user, other)
    elif step == 2:
        emulator.inject("midstream_error", key=api_key)
        _call(user, model, stream=True)
        _direct(api_key, other)
        _direct(api_key, other)
    elif step == 3:
        emulator.inject("stream_no_usage", key=api_key)
        _call(user, model, stream=True)
        _cancelled_stream(user, other)
    elif step == 4:
        emulator.inject("status", key=api_key, status=503, times=4)
        _call(user, model)  # falls back to the system provider
        emulator.inject("read_timeout", key=api_key)
        _call(user, other)
        emulator.inject("read_timeout", key=api_key)
        _call(user, other)  # two timeouts of one model on one day: ambiguous
    else:
        emulator.inject("missing_usage", key=api_key)
        _call(user, model)
        emulator.inject("status", key=api_key, status=400)
        _call(user, other)  # refused: not billed


def _openrouter_billing(account: Any) -> dict[tuple[dt.date, str], Decimal]:
    billing: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    for event in account.events:
        billing[(event.day, event.model)] += event.usage
    return dict(billing)


def _ledger(user: Any) -> dict[tuple[dt.date, str], Decimal]:
    ledger: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    rows = AIUsageLog.objects.filter(user=user, provider="openrouter").values_list(
        "created_at", "model", "cost_usd"
    )
    for created_at, model, cost in rows:
        ledger[(created_at.astimezone(dt.UTC).date(), model)] += cost or Decimal(0)
    return dict(ledger)


def test_after_a_sync_the_ledger_equals_openrouters_bill_per_day_and_model(
    user_a: Any,
    user_b: Any,
    tenant: Any,
    emulator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with time_machine.travel(dt.datetime(2026, 10, 30, 9, tzinfo=dt.UTC), tick=False):
        tenant(user_a)
        tenant(user_b)
    settings_change(user_a, use_system_fallback=True)
    for n in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=n)
        # Callbacks are captured, not run: settling the month is the sync's job here.
        with (
            time_machine.travel(dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC), tick=False),
            django_capture_on_commit_callbacks(execute=False),
        ):
            _script_day(n, user_a, emulator, user_a.or_api_key)
    # B's calls on one day: A's sync must leave them alone.
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), tick=False):
        _call(user_b, MODELS[0])
    b_rows = list(AIUsageLog.objects.filter(user=user_b).values_list("id", "cost_usd", "cost_source"))

    before_unpriced = AIUsageLog.objects.filter(user=user_a, cost_usd__isnull=True).count()
    assert before_unpriced > 10  # the month left plenty to settle
    with time_machine.travel(dt.datetime(2026, 11, 28, 3, tzinfo=dt.UTC), tick=False):
        for _ in range(2):  # and however often it runs
            run, _created = sync_run_request(
                user=user_a,
                start=FIRST_DAY,
                end=dt.date(2026, 11, 27),
                trigger=SyncTrigger.COMMAND,
                enqueue=False,
            )
            assert sync_run_execute(run_id=run.pk).state == "succeeded"
            billing = _openrouter_billing(user_a.or_account)
            ledger = _ledger(user_a)
            for key, billed in billing.items():
                assert ledger.get(key, Decimal(0)) == billed, key
            for key, recorded in ledger.items():
                assert recorded == billing.get(key, Decimal(0)), key
            unpriced = AIUsageLog.objects.filter(cost_usd__isnull=True).exclude(status=UsageStatus.PENDING)
            assert unpriced.count() == 0
    # Every settlement path was taken: /generation, a single match, ambiguous, known zeros, adjustments.
    sources = set(AIUsageLog.objects.filter(user=user_a).values_list("source", "cost_source"))
    assert {
        ("gateway", "provider_reported"),
        ("gateway", "generation_lookup"),
        ("gateway", "activity"),
        ("gateway", "not_billed"),
        ("activity_sync", "provider_reported"),
    } <= sources, sources
    costs = AIUsageLog.objects.filter(user=user_a, provider="openrouter").values_list("cost_usd", flat=True)
    assert sum(costs, Decimal(0)) == sum(_openrouter_billing(user_a.or_account).values(), Decimal(0))
    # The daily rollups moved with every settlement and adjustment: a rebuild finds them equal.
    kept = _rollup_snapshot()
    rollups_rebuild()
    assert _rollup_snapshot() == kept
    # The fallback's calls stay on the system provider with their own cost.
    assert AIUsageLog.objects.filter(user=user_a, provider="system", is_fallback=True).count() == 5
    assert list(AIUsageLog.objects.filter(user=user_b).values_list("id", "cost_usd", "cost_source")) == b_rows
