"""RELIABILITY.md "Activity sync": the sync service and the reconciliation it runs per day."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db.models import Sum

from apps.usage.models import (
    ActivityRecord,
    AIUsageLog,
    CostSource,
    Reconciliation,
    SyncRun,
    SyncState,
    SyncTrigger,
    UsageSource,
    UsageStatus,
)
from apps.usage.sync import (
    SyncRangeError,
    sync_nightly_fan_out,
    sync_range_check,
    sync_range_clamp,
    sync_run_execute,
    sync_run_request,
)
from tests.usage.conftest import YESTERDAY, settings_change

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 11, 25), dt.date(2026, 11, 26)


def _sync(user: Any, start: dt.date = D1, end: dt.date = YESTERDAY) -> SyncRun:
    run, created = sync_run_request(
        user=user, start=start, end=end, trigger=SyncTrigger.COMMAND, enqueue=False
    )
    assert created
    return sync_run_execute(run_id=run.pk)


def _snapshot(user: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    records = list(
        ActivityRecord.objects.filter(user=user)
        .order_by("date", "model_permaslug", "endpoint_id")
        .values_list("date", "model", "model_permaslug", "usage", "requests")
    )
    ledger = list(
        AIUsageLog.objects.filter(user=user)
        .order_by("id")
        .values_list("id", "source", "model", "activity_date", "cost_usd", "cost_sek", "cost_source")
    )
    return records, ledger


def _ledger_total(user: Any, day: dt.date, model: str) -> Decimal:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    total = AIUsageLog.objects.filter(
        user=user, model=model, created_at__gte=start, created_at__lt=start + dt.timedelta(days=1)
    ).aggregate(total=Sum("cost_usd"))["total"]
    return total or Decimal(0)


def test_a_sync_stores_the_records_and_writes_one_adjustment_per_day_and_model(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.0123465", requests=37, tokens=(51230, 7769))
    billed(user_a, D2, "openai/gpt-4o-mini", "0.004581", requests=11)
    billed(
        user_a,
        D2,
        "anthropic/claude-sonnet-4.6",
        "1.846215",
        permaslug="anthropic/claude-4.6-sonnet-20260217",
    )

    run = _sync(user_a)

    assert (run.state, run.days_total, run.days_done, run.records, run.adjustments) == (
        "succeeded",
        3,
        3,
        3,
        3,
    )
    assert (run.start, run.end, run.error) == (D1, YESTERDAY, "")
    adjustments = list(
        AIUsageLog.objects.filter(source=UsageSource.ACTIVITY_SYNC)
        .order_by("activity_date", "model")
        .values_list(
            "user_id", "activity_date", "model", "cost_usd", "cost_sek", "prompt_tokens", "completion_tokens"
        )
    )
    rate = Decimal("10.50")
    assert adjustments == [
        (user_a.pk, D1, "openai/gpt-4o-mini", Decimal("0.0123465"), Decimal("0.0123465") * rate, 51230, 7769),
        (
            user_a.pk,
            D2,
            "anthropic/claude-sonnet-4.6",
            Decimal("1.846215"),
            Decimal("1.846215") * rate,
            100,
            10,
        ),
        (user_a.pk, D2, "openai/gpt-4o-mini", Decimal("0.004581"), Decimal("0.004581") * rate, 100, 10),
    ]
    row = AIUsageLog.objects.get(activity_date=D1)
    assert row.created_at == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    # Only the tenant's API key's spend was asked for, day by day, with the management key.
    asked = [r for r in emulator.requests if r.path == "/activity"]
    assert [r.query for r in asked] == [
        {"date": day, "api_key_hash": emulator.key_hash(user_a.or_api_key)}
        for day in ("2026-11-25", "2026-11-26", "2026-11-27")
    ]


@pytest.mark.parametrize("times", [2, 5])
def test_the_same_range_again_gives_identical_rows_and_totals(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, times: int
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.0123465", requests=3)
    billed(user_a, D2, "openai/gpt-4o-mini", "0.5", requests=2)
    first = _sync(user_a)
    before = _snapshot(user_a)
    for _ in range(times - 1):
        again = _sync(user_a)
        assert (again.state, again.adjustments, again.records) == ("succeeded", 0, 2)
    assert _snapshot(user_a) == before
    assert first.adjustments == 2


def test_a_revised_day_updates_rows_instead_of_adding(
    frozen: Any, user_a: Any, tenant: Any, billed: Any
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.01")
    _sync(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.02")  # OpenRouter revises the day
    run = _sync(user_a)
    assert run.adjustments == 1
    assert list(ActivityRecord.objects.values_list("date", "usage", "requests")) == [(D1, Decimal("0.03"), 2)]
    assert list(AIUsageLog.objects.values_list("activity_date", "cost_usd")) == [(D1, Decimal("0.03"))]


def test_a_revised_day_writes_only_the_rows_that_changed(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    tenant(user_a)
    for model, usage in (
        ("openai/gpt-4o-mini", "0.01"),
        ("anthropic/claude-sonnet-4.6", "0.5"),
        ("x/y", "0.2"),
    ):
        billed(user_a, D1, model, usage)
    _sync(user_a, D1, D1)
    before = dict(ActivityRecord.objects.values_list("model", "id"))
    stamps = dict(ActivityRecord.objects.values_list("model", "updated_at"))
    # OpenRouter revises one model's figure and stops reporting another.
    events = user_a.or_account.events
    events[0] = dataclasses.replace(events[0], usage=Decimal("0.011"), requests=2)
    del events[2]
    with time_machine.travel(dt.datetime(2026, 11, 28, 13, 0, tzinfo=dt.UTC), tick=False):
        run = _sync(user_a, D1, D1)
    rows = {r.model: r for r in ActivityRecord.objects.all()}
    assert set(rows) == {"openai/gpt-4o-mini", "anthropic/claude-sonnet-4.6"}
    # Revised in place (same row, new figures), untouched where unchanged, gone where unreported.
    assert (rows["openai/gpt-4o-mini"].id, rows["openai/gpt-4o-mini"].usage) == (
        before["openai/gpt-4o-mini"],
        Decimal("0.011"),
    )
    assert rows["openai/gpt-4o-mini"].updated_at > stamps["openai/gpt-4o-mini"]
    assert rows["anthropic/claude-sonnet-4.6"].updated_at == stamps["anthropic/claude-sonnet-4.6"]
    assert run.records == 2
    assert dict(AIUsageLog.objects.values_list("model", "cost_usd")) == {
        "openai/gpt-4o-mini": Decimal("0.011"),
        "anthropic/claude-sonnet-4.6": Decimal("0.5"),
        "x/y": Decimal("0"),  # the adjustment row stays, at zero: its history is kept
    }


def test_a_renamed_display_value_creates_no_new_rows(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    tenant(user_a)
    billed(user_a, D1, "anthropic/claude-sonnet-4.6", "1.5", permaslug="anthropic/claude-4.6-sonnet-20260217")
    _sync(user_a)
    # OpenRouter renames the model's display slug; the permaslug (natural key) is unchanged.
    events = user_a.or_account.events
    events[-1] = dataclasses.replace(events[-1], model="anthropic/claude-sonnet-4.6-renamed")
    _sync(user_a)
    assert list(ActivityRecord.objects.values_list("model", "model_permaslug")) == [
        ("anthropic/claude-sonnet-4.6-renamed", "anthropic/claude-4.6-sonnet-20260217")
    ]
    # The day's OpenRouter total is still counted once: the old model's adjustment went to zero.
    assert AIUsageLog.objects.aggregate(total=Sum("cost_usd"))["total"] == Decimal("1.5")


def test_the_day_before_the_last_synced_day_is_synced_again(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.01")
    _sync(user_a, D1, D1)
    run = _sync(user_a, YESTERDAY, YESTERDAY)
    assert (run.start, run.end, run.days_total) == (dt.date(2026, 11, 24), YESTERDAY, 4)


def test_older_synced_days_stay_after_they_leave_the_window(
    user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC), tick=False):
        tenant(user_a)
        billed(user_a, dt.date(2026, 11, 1), "openai/gpt-4o-mini", "0.25")
        _sync(user_a, dt.date(2026, 11, 1), dt.date(2026, 11, 1))
    with time_machine.travel(dt.datetime(2026, 12, 20, 12, tzinfo=dt.UTC), tick=False):
        run = _sync(user_a, dt.date(2026, 12, 19), dt.date(2026, 12, 19))
    assert run.state == "succeeded"
    assert list(ActivityRecord.objects.values_list("date", "usage")) == [
        (dt.date(2026, 11, 1), Decimal("0.25"))
    ]
    assert AIUsageLog.objects.get().cost_usd == Decimal("0.25")


@pytest.mark.parametrize(
    ("moment", "first", "last"),
    [
        (dt.datetime(2026, 11, 28, 23, 59, 59, tzinfo=dt.UTC), dt.date(2026, 10, 29), dt.date(2026, 11, 27)),
        (dt.datetime(2026, 11, 29, 0, 0, 1, tzinfo=dt.UTC), dt.date(2026, 10, 30), dt.date(2026, 11, 28)),
    ],
)
def test_only_completed_utc_days_of_the_last_30_are_requested(
    moment: dt.datetime, first: dt.date, last: dt.date, user_a: Any, tenant: Any, emulator: Any
) -> None:
    with time_machine.travel(moment, tick=False):
        tenant(user_a)
        assert sync_range_clamp() == (first, last)
        assert sync_range_check(start=first, end=last) == (first, last)
        with pytest.raises(SyncRangeError):
            sync_range_check(start=first, end=last + dt.timedelta(days=1))
        with pytest.raises(SyncRangeError):
            sync_range_check(start=first - dt.timedelta(days=1), end=last)
        run = _sync(user_a, first, last)
    asked = [r.query["date"] for r in emulator.requests if r.path == "/activity"]
    assert (run.state, asked[0], asked[-1], len(asked)) == (
        "succeeded",
        first.isoformat(),
        last.isoformat(),
        30,
    )


def test_billed_calls_outside_the_product_and_the_gateway_add_up_to_openrouters_total(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    from apps.ai_gateway.services import complete

    tenant(user_a)
    with time_machine.travel(dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC), tick=False):
        complete(user=user_a, use_case="chat", messages=[{"role": "user", "content": "Hej"}])
    billed(user_a, D2, "openai/gpt-4o-mini", "0.5", requests=4)  # direct calls with the same key
    gateway_cost = AIUsageLog.objects.get().cost_usd
    _sync(user_a)
    openrouter = sum((g.cost for g in emulator.generations), Decimal(0)) + Decimal("0.5")
    assert _ledger_total(user_a, D2, "openai/gpt-4o-mini") == openrouter
    adjustment = AIUsageLog.objects.get(source=UsageSource.ACTIVITY_SYNC)
    assert adjustment.cost_usd == Decimal("0.5")
    assert Reconciliation.objects.filter(user=user_a).values_list(
        "date", "model", "billed_usd", "gateway_usd", "adjustment_usd", "discrepancy_usd"
    ).get() == (D2, "openai/gpt-4o-mini", openrouter, gateway_cost, Decimal("0.5"), Decimal(0))


def test_a_single_timed_out_call_takes_the_unexplained_spend_exactly(
    frozen: Any, user_a: Any, tenant: Any, emulator: Any
) -> None:
    from apps.ai_gateway.errors import GatewayError
    from apps.ai_gateway.services import complete

    tenant(user_a)
    emulator.inject("read_timeout")
    with (
        time_machine.travel(dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC), tick=False),
        pytest.raises(GatewayError),
    ):
        complete(user=user_a, use_case="chat", messages=[{"role": "user", "content": "Hej"}])
    row = AIUsageLog.objects.get()
    assert (row.status, row.cost_usd, row.generation_id) == ("timeout", None, None)
    run = _sync(user_a)
    row.refresh_from_db()
    assert (row.cost_usd, row.cost_source) == (emulator.generations[0].cost, CostSource.ACTIVITY)
    assert (run.settled, run.adjustments) == (1, 0)
    assert not AIUsageLog.objects.filter(source=UsageSource.ACTIVITY_SYNC).exists()


def test_the_single_timed_out_call_takes_the_unexplained_tokens_too_and_a_rerun_changes_nothing(
    frozen: Any, user_a: Any, tenant: Any, emulator: Any
) -> None:
    """Found by the live fault suite (bench/faults.py): the row took the day's spend but kept 0
    tokens, so the day's ledger tokens fell short of OpenRouter's by the timed-out call's."""
    from apps.ai_gateway.errors import GatewayError
    from apps.ai_gateway.services import complete

    tenant(user_a)
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC), tick=False):
        complete(user=user_a, use_case="chat", messages=[{"role": "user", "content": "Hej"}])
    emulator.inject("read_timeout")
    with (
        time_machine.travel(dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC), tick=False),
        pytest.raises(GatewayError),
    ):
        complete(user=user_a, use_case="chat", messages=[{"role": "user", "content": "Hej då"}])
    answered, lost = emulator.generations
    _sync(user_a)
    row = AIUsageLog.objects.get(status=UsageStatus.TIMEOUT)
    assert (row.prompt_tokens, row.completion_tokens, row.total_tokens) == (
        lost.prompt_tokens,
        lost.completion_tokens,
        lost.prompt_tokens + lost.completion_tokens,
    )
    assert (row.cost_usd, row.cost_source) == (lost.cost, CostSource.ACTIVITY)
    day = AIUsageLog.objects.filter(user=user_a).aggregate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
    assert (day["p"], day["c"]) == (
        answered.prompt_tokens + lost.prompt_tokens,
        answered.completion_tokens + lost.completion_tokens,
    )
    assert not AIUsageLog.objects.filter(source=UsageSource.ACTIVITY_SYNC).exists()
    before = _snapshot(user_a)
    run, _ = sync_run_request(user=user_a, start=D2, end=D2, trigger=SyncTrigger.COMMAND, enqueue=False)
    rerun = sync_run_execute(run_id=run.pk)
    assert (rerun.settled, rerun.adjustments) == (0, 0)
    assert _snapshot(user_a) == before


def test_a_failure_openrouter_did_not_bill_is_settled_as_a_known_zero(
    frozen: Any, user_a: Any, tenant: Any, emulator: Any
) -> None:
    tenant(user_a)
    row = AIUsageLog.objects.create(
        user=user_a,
        provider="openrouter",
        model="openai/gpt-4o-mini",
        use_case="chat",
        status=UsageStatus.TIMEOUT,
        created_at=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC),
    )
    _sync(user_a)
    row.refresh_from_db()
    assert (row.cost_usd, row.cost_source) == (Decimal(0), CostSource.NOT_BILLED)


def test_recording_more_than_openrouter_billed_is_a_discrepancy_never_negative_spend(
    frozen: Any, user_a: Any, tenant: Any, billed: Any
) -> None:
    tenant(user_a)
    AIUsageLog.objects.create(
        user=user_a,
        provider="openrouter",
        model="openai/gpt-4o-mini",
        use_case="chat",
        status=UsageStatus.SUCCESS,
        cost_usd=Decimal("0.30"),
        cost_source=CostSource.PROVIDER_REPORTED,
        created_at=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC),
    )
    billed(user_a, D2, "openai/gpt-4o-mini", "0.10")
    _sync(user_a)
    assert not AIUsageLog.objects.filter(source=UsageSource.ACTIVITY_SYNC).exists()
    assert Reconciliation.objects.values_list("adjustment_usd", "discrepancy_usd").get() == (
        Decimal(0),
        Decimal("0.20"),
    )


@pytest.mark.parametrize(
    ("fault", "state", "code"),
    [
        ({"kind": "status", "status": 502, "times": 4}, "failed", "provider_error"),
        ({"kind": "status", "status": 503, "times": 4}, "failed", "unavailable"),
        ({"kind": "rate_limit", "times": 4, "retry_after": 2}, "failed", "rate_limited"),
        ({"kind": "non_json", "times": 1}, "failed", "bad_response"),
    ],
)
def test_a_failing_day_stops_the_run_and_writes_nothing_of_it(
    frozen: Any,
    user_a: Any,
    tenant: Any,
    billed: Any,
    emulator: Any,
    fault: dict[str, Any],
    state: str,
    code: str,
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.01")
    billed(user_a, D2, "openai/gpt-4o-mini", "0.02")
    _sync(user_a, D1, D1)
    before = _snapshot(user_a)
    kind = fault.pop("kind")
    emulator.inject(kind, path="/activity", key=user_a.or_management_key, **fault)
    run = _sync(user_a, D2, D2)
    assert (run.state, run.error_code, run.days_done) == (state, code, 0)
    assert "2026-11" in run.error
    assert _snapshot(user_a) == before
    if kind in ("status", "rate_limit"):
        asked = [r for r in emulator.requests if r.path == "/activity"]
        assert len(asked) == 1 + 4  # the earlier day, then 4 attempts with backoff
    if kind == "rate_limit":
        assert emulator.sleeps == [2, 2, 2]
    # The next run retries the day and succeeds.
    assert _sync(user_a, D2, D2).state == "succeeded"


def test_a_retried_429_then_success_completes(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.01")
    emulator.inject("rate_limit", path="/activity", times=2, retry_after=1)
    run = _sync(user_a, D1, D1)
    assert (run.state, run.records) == ("succeeded", 1)
    assert emulator.sleeps == [1, 1]


def test_a_wrong_type_management_key_needs_attention_without_retries(
    frozen: Any, user_a: Any, tenant: Any, emulator: Any
) -> None:
    tenant(user_a)
    # An inference key stored as the management key: OpenRouter answers 403.
    settings_change(user_a, openrouter_management_key=user_a.or_api_key, management_key_last4="abcd")
    run = _sync(user_a, D1, D1)
    assert (run.state, run.error_code) == ("needs_attention", "management_key_required")
    assert "management key" in run.error
    assert len([r for r in emulator.requests if r.path == "/activity"]) == 1
    assert not AIUsageLog.objects.exists()


def test_a_revoked_management_key_needs_attention(
    frozen: Any, user_a: Any, tenant: Any, emulator: Any
) -> None:
    tenant(user_a)
    emulator.key(user_a.or_management_key).disabled = True
    run = _sync(user_a, D1, D1)
    assert (run.state, run.error_code) == ("needs_attention", "invalid_key")
    assert len([r for r in emulator.requests if r.path == "/activity"]) == 1


def test_no_management_key_needs_attention_without_calling_openrouter(
    frozen: Any, user_a: Any, tenant: Any, emulator: Any
) -> None:
    tenant(user_a, management=False)
    run = _sync(user_a, D1, D1)
    assert (run.state, run.error_code) == ("needs_attention", "management_key_missing")
    assert "management key" in run.error
    assert emulator.requests == []


def test_a_second_request_joins_the_active_run(frozen: Any, user_a: Any, tenant: Any) -> None:
    tenant(user_a)
    first, created = sync_run_request(user=user_a, start=D1, end=D2, trigger=SyncTrigger.API, enqueue=False)
    second, created_again = sync_run_request(
        user=user_a, start=D2, end=YESTERDAY, trigger=SyncTrigger.MANUAL, enqueue=False
    )
    assert (created, created_again, second.pk) == (True, False, first.pk)
    assert SyncRun.objects.count() == 1


def test_two_workers_on_one_run_never_interleave(frozen: Any, user_a: Any, tenant: Any, billed: Any) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.01")
    run, _ = sync_run_request(user=user_a, start=D1, end=D1, trigger=SyncTrigger.API, enqueue=False)
    SyncRun.objects.filter(pk=run.pk).update(state=SyncState.RUNNING)  # another worker holds it
    assert sync_run_execute(run_id=run.pk).state == "running"
    assert not ActivityRecord.objects.exists()


def test_a_sync_for_a_never_reads_or_writes_b(
    frozen: Any, user_a: Any, user_b: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    tenant(user_a)
    tenant(user_b)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.01")
    billed(user_b, D1, "openai/gpt-4o-mini", "0.07")
    _sync(user_a, D1, D1)
    assert set(ActivityRecord.objects.values_list("user_id", flat=True)) == {user_a.pk}
    assert set(AIUsageLog.objects.values_list("user_id", "cost_usd")) == {(user_a.pk, Decimal("0.01"))}
    keys = {r.key_hash for r in emulator.requests if r.path == "/activity"}
    assert keys == {emulator.key_hash(user_a.or_management_key)}


def test_the_nightly_fan_out_twice_changes_nothing_the_second_time(
    frozen: Any, user_a: Any, user_b: Any, user_c: Any, tenant: Any, billed: Any
) -> None:
    tenant(user_a)
    tenant(user_b)
    tenant(user_c, management=False)
    billed(user_a, D2, "openai/gpt-4o-mini", "0.01")
    billed(user_b, YESTERDAY, "openai/gpt-4o-mini", "0.02")
    runs = sync_nightly_fan_out()
    assert SyncRun.objects.filter(pk__in=runs).count() == 2
    assert set(SyncRun.objects.values_list("user_id", "start", "end", "trigger")) == {
        (user_a.pk, D2, YESTERDAY, "scheduled"),
        (user_b.pk, D2, YESTERDAY, "scheduled"),
    }
    for run_id in runs:
        sync_run_execute(run_id=run_id)
    before = [_snapshot(u) for u in (user_a, user_b)]
    for run_id in sync_nightly_fan_out():
        assert sync_run_execute(run_id=run_id).adjustments == 0
    assert [_snapshot(u) for u in (user_a, user_b)] == before


def test_whole_account_setting_reads_every_key(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    tenant(user_a)
    other_key = emulator.add_key(user_a.or_account, kind="inference", name="other")
    billed(user_a, D1, "openai/gpt-4o-mini", "0.01")
    billed(user_a, D1, "openai/gpt-4o-mini", "0.04", key=other_key)
    _sync(user_a, D1, D1)
    assert AIUsageLog.objects.get().cost_usd == Decimal("0.01")
    settings_change(user_a, activity_whole_account=True)
    _sync(user_a, D1, D1)
    assert AIUsageLog.objects.get().cost_usd == Decimal("0.05")
    assert "api_key_hash" not in [r for r in emulator.requests if r.path == "/activity"][-1].query


def test_reconciliation_gaps_and_last_run_for_the_data_quality_panel(
    frozen: Any, user_a: Any, user_b: Any, tenant: Any, billed: Any
) -> None:
    from django.contrib.auth.models import AnonymousUser

    from apps.core.periods import Period
    from apps.usage.sync_selectors import reconciliation_gaps, sync_last_run

    tenant(user_a)
    tenant(user_b)
    AIUsageLog.objects.create(
        user=user_a,
        provider="openrouter",
        model="openai/gpt-4o-mini",
        use_case="chat",
        status=UsageStatus.SUCCESS,
        cost_usd=Decimal("0.30"),
        cost_source=CostSource.PROVIDER_REPORTED,
        created_at=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC),
    )
    billed(user_a, D1, "google/gemini-2.5-flash", "0.10")  # billed, never recorded: an adjustment
    billed(user_a, D2, "openai/gpt-4o-mini", "0.30")  # matches exactly: no gap
    billed(user_b, D1, "openai/gpt-4o-mini", "5")
    run = _sync(user_a)
    _sync(user_b)
    gaps = reconciliation_gaps(user=user_a, period=Period(D1, YESTERDAY))
    assert [(g.date, g.model, g.adjustment_usd, g.discrepancy_usd) for g in gaps] == [
        (D1, "google/gemini-2.5-flash", Decimal("0.10"), Decimal(0))
    ]
    assert reconciliation_gaps(user=user_a, period=Period(D2, D2)) == []
    assert sync_last_run(user=user_a) == run
    assert sync_last_run(user=AnonymousUser()) is None


def _queries_of_sync(user: Any, start: dt.date, end: dt.date) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run, _ = sync_run_request(user=user, start=start, end=end, trigger=SyncTrigger.COMMAND, enqueue=False)
    with CaptureQueriesContext(connection) as queries:
        assert sync_run_execute(run_id=run.pk).state == "succeeded"
    return [q["sql"] for q in queries.captured_queries]


def test_a_syncs_queries_do_not_grow_with_the_number_of_models(
    frozen: Any, user_a: Any, user_b: Any, user_c: Any, tenant: Any, billed: Any
) -> None:
    # A day is written with a fixed number of statements (bulk inserts and upserts, one ledger
    # read per day, batched rollups), whatever the number of models and records.
    for user in (user_a, user_b, user_c):
        tenant(user)
    billed(user_c, D1, "vendor/model-0", "0.01")
    _queries_of_sync(user_c, D1, D1)  # warms the process's caches (the day's FX rate)
    for n in range(2):
        billed(user_a, D1, f"vendor/model-{n}", "0.01")
    for n in range(12):
        billed(user_b, D1, f"vendor/model-{n}", "0.01")
    first = len(_queries_of_sync(user_a, D1, D1))
    assert len(_queries_of_sync(user_b, D1, D1)) == first
    # Pinned: claim (2), keys (1), stored rows (2), /generation candidates (1), the day's
    # transaction (begin, records, ledger, adjustments, rollups, reconciliations, progress,
    # commit) and the end.
    # (SQLite writes the three rollup levels one statement each; PostgreSQL in one round trip.)
    assert first <= 17
    # The same day again writes nothing but the run's own progress.
    writes = [
        sql for sql in _queries_of_sync(user_b, D1, D1) if sql.split()[0] in ("INSERT", "DELETE", "UPDATE")
    ]
    assert writes
    assert all(sql.startswith('UPDATE "usage_syncrun"') for sql in writes)
