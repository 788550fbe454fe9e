"""Daily rollups stay equal to the ledger through every write path, and a rebuild agrees."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections, transaction

from apps.usage.cost import Cost
from apps.usage.models import (
    AIUsageLog,
    CostSource,
    DailyProviderUsage,
    DailyUsage,
    MonthlyUsage,
    UsageSource,
    UsageStatus,
)
from apps.usage.rollups import SUM_COLUMNS, LedgerFacts, ledger_facts, rollup_apply, rollups_rebuild
from apps.usage.services import (
    Adjustment,
    TokenCounts,
    usage_adjustments_write,
    usage_expire_stale_pending,
    usage_finish,
    usage_mark_error,
    usage_set_cost,
    usage_start,
)

pytestmark = pytest.mark.django_db

KEY = ("user_id", "day", "model", "use_case", "provider", "source", "cost_source")
MONTH_KEY = ("user_id", "month", "model", "use_case", "provider", "source", "cost_source")
PROVIDER_KEY = ("user_id", "day", "provider")
# SQLite keeps decimals as floating point; PostgreSQL is exact. Compare at a precision both keep.
USD_PLACES = Decimal("1e-12")
SEK_PLACES = Decimal("1e-9")


def _rows(model: Any, key: tuple[str, ...]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Every non-empty row of one rollup level, keyed, with money rounded to what both databases keep."""
    rows = {}
    for row in model.objects.values(*key, *SUM_COLUMNS):
        sums = tuple(row[name] for name in SUM_COLUMNS)
        if not any(sums):
            continue  # a key whose rows all moved elsewhere (e.g. unpriced → reported)
        rounded = {**row, "cost_usd": row["cost_usd"].quantize(USD_PLACES)}
        rounded["cost_sek"] = row["cost_sek"].quantize(SEK_PLACES)
        rows[tuple(row[k] for k in key)] = tuple(rounded[name] for name in SUM_COLUMNS)
    return rows


def _snapshot() -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Every non-empty daily rollup row (see ``_rows``)."""
    return _rows(DailyUsage, KEY)


def _levels() -> tuple[dict[tuple[Any, ...], tuple[Any, ...]], ...]:
    """All three levels (daily, monthly, per day and provider)."""
    return _snapshot(), _rows(MonthlyUsage, MONTH_KEY), _rows(DailyProviderUsage, PROVIDER_KEY)


def _summed(
    daily: dict[tuple[Any, ...], tuple[Any, ...]], key: Any
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Daily rows summed in Python onto a coarser key: what the coarser levels must hold."""
    out: dict[tuple[Any, ...], list[Any]] = {}
    for daily_key, sums in daily.items():
        total = out.setdefault(key(daily_key), [0] * len(SUM_COLUMNS))
        for i, value in enumerate(sums):
            total[i] += value
    return {k: tuple(v) for k, v in out.items() if any(v)}


def _month_of(k: tuple[Any, ...]) -> tuple[Any, ...]:
    return (k[0], k[1].replace(day=1), *k[2:])


def _provider_of(k: tuple[Any, ...]) -> tuple[Any, ...]:
    return (k[0], k[1], k[4])


def _assert_levels_agree() -> None:
    daily, monthly, per_provider = _levels()
    assert monthly == _summed(daily, _month_of)
    assert per_provider == _summed(daily, _provider_of)


def _call(user: Any, when: dt.datetime, **finish: Any) -> AIUsageLog:
    with time_machine.travel(when, tick=False):
        log = usage_start(
            user=user,
            use_case=finish.pop("use_case", "chat"),
            model="openai/gpt-4o-mini",
            provider="openrouter",
            streamed=False,
        )
        if finish:
            usage_finish(log=log, **finish)
    return log


def _mixed_history(user_a: Any, user_b: Any) -> list[AIUsageLog]:
    day1 = dt.datetime(2026, 11, 1, 23, 59, 59, tzinfo=dt.UTC)
    day2 = dt.datetime(2026, 11, 2, 0, 0, 1, tzinfo=dt.UTC)
    ok = {"status": UsageStatus.SUCCESS, "tokens": TokenCounts(prompt=80, completion=20), "latency_ms": 400}
    rows = [
        _call(user_a, day1, cost=Cost(Decimal("0.000123456789"), CostSource.PROVIDER_REPORTED), **ok),
        _call(user_a, day1, cost=Cost(Decimal("0.5"), CostSource.ESTIMATED), **ok),
        _call(user_a, day2, **ok),  # unpriced
        _call(user_a, day2, status=UsageStatus.ERROR, error_code="provider_error", latency_ms=90),
        _call(
            user_a,
            day2,
            model="system/model",
            provider="system",
            is_fallback=True,
            cost=Cost(Decimal("0.01"), CostSource.COMPUTED),
            use_case="sms_classification",
            **ok,
        ),
        _call(user_b, day1, cost=Cost(Decimal("7"), CostSource.PROVIDER_REPORTED), **ok),
        _call(user_b, day2),  # left pending, then expired
    ]
    # Settlement upgrades the estimate and prices the unpriced row; a second upgrade is refused.
    assert usage_set_cost(log_id=rows[1].pk, cost=Cost(Decimal("0.4"), CostSource.GENERATION_LOOKUP))
    assert usage_set_cost(
        log_id=rows[2].pk,
        cost=Cost(Decimal("0.02"), CostSource.GENERATION_LOOKUP),
        tokens=TokenCounts(prompt=90, completion=30),  # /generation's counts replace the row's
    )
    assert not usage_set_cost(log_id=rows[2].pk, cost=Cost(Decimal("9"), CostSource.ESTIMATED))
    usage_mark_error(log_id=rows[0].pk, error_code="invalid_output", error_message="bad JSON")
    with time_machine.travel(day2 + dt.timedelta(hours=1), tick=False):
        assert usage_expire_stale_pending() == 1
    # A sync adjustment row, written the way the sync service writes one: row and rollup together.
    with transaction.atomic():
        adjustment = AIUsageLog.objects.create(
            user=user_a,
            source=UsageSource.ACTIVITY_SYNC,
            provider="openrouter",
            model="openai/gpt-4o-mini",
            use_case="generic",
            status=UsageStatus.SUCCESS,
            cost_usd=Decimal("1.25"),
            cost_sek=Decimal("12.5"),
            fx_rate=Decimal("10"),
            cost_source=CostSource.PROVIDER_REPORTED,
            activity_date=day1.date(),
            created_at=day1,
        )
        rollup_apply(before=None, after=ledger_facts(adjustment))
    # Adjustments through the sync's own service: one created, then changed (tokens and cost),
    # one on a model the gateway never called (cost and tokens but no call of its own key).
    with transaction.atomic():
        usage_adjustments_write(
            user=user_a,
            day=day2.date(),
            adjustments={
                "openai/gpt-4o-mini": Adjustment(Decimal("0.3"), TokenCounts(prompt=40, completion=10)),
                "outside/model": Adjustment(Decimal("2"), TokenCounts(prompt=500, completion=100)),
            },
        )
    with transaction.atomic():
        usage_adjustments_write(
            user=user_a,
            day=day2.date(),
            adjustments={
                "openai/gpt-4o-mini": Adjustment(Decimal("0.35"), TokenCounts(prompt=45, completion=10))
            },
        )
    synced = list(
        AIUsageLog.objects.filter(user=user_a, source=UsageSource.ACTIVITY_SYNC, activity_date=day2.date())
    )
    assert len(synced) == 2
    return [*rows, adjustment, *synced]


def test_rebuild_equals_the_incremental_rollups_after_a_mixed_history(user_a: Any, user_b: Any) -> None:
    _mixed_history(user_a, user_b)
    incremental = _levels()
    _assert_levels_agree()
    rollups_rebuild()
    assert _levels() == incremental
    assert [len(level) for level in incremental] == [10, 8, 5]  # two days of a key share a month


def test_every_level_is_the_sum_of_the_days_across_a_month_boundary(user_a: Any, user_b: Any) -> None:
    """Rows on both sides of a month's end, changed after the fact: each level moves with them."""
    last_of_oct = dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt.UTC)
    first_of_nov = dt.datetime(2026, 11, 1, 0, 0, 0, tzinfo=dt.UTC)
    ok = {"status": UsageStatus.SUCCESS, "tokens": TokenCounts(prompt=5, completion=5), "latency_ms": 10}
    october = _call(user_a, last_of_oct, cost=Cost(Decimal("0.3"), CostSource.ESTIMATED), **ok)
    _call(user_a, first_of_nov, cost=Cost(Decimal("0.2"), CostSource.PROVIDER_REPORTED), **ok)
    _call(user_b, first_of_nov, provider="system", cost=Cost(Decimal("1"), CostSource.COMPUTED), **ok)
    assert usage_set_cost(log_id=october.pk, cost=Cost(Decimal("0.25"), CostSource.GENERATION_LOOKUP))
    _assert_levels_agree()
    months = {(r.user_id, r.month, r.cost_source): (r.calls, r.cost_usd) for r in MonthlyUsage.objects.all()}
    assert months[(user_a.pk, dt.date(2026, 10, 1), "generation_lookup")] == (1, Decimal("0.25"))
    assert months[(user_a.pk, dt.date(2026, 10, 1), "estimated")][0] == 0  # moved, not doubled
    assert months[(user_a.pk, dt.date(2026, 11, 1), "provider_reported")] == (1, Decimal("0.2"))
    providers = {(r.user_id, r.day, r.provider): r.calls for r in DailyProviderUsage.objects.all()}
    assert providers == {
        (user_a.pk, dt.date(2026, 10, 31), "openrouter"): 1,
        (user_a.pk, dt.date(2026, 11, 1), "openrouter"): 1,
        (user_b.pk, dt.date(2026, 11, 1), "system"): 1,
    }
    incremental = _levels()
    rollups_rebuild()
    assert _levels() == incremental


def test_rollups_equal_an_independent_sum_over_the_ledger(user_a: Any, user_b: Any) -> None:
    _mixed_history(user_a, user_b)
    for user in (user_a, user_b):
        ledger = AIUsageLog.objects.filter(user=user).exclude(status=UsageStatus.PENDING)
        # A call is a gateway row; sync adjustments add tokens and cost only.
        calls = ledger.filter(source=UsageSource.GATEWAY)
        rolled = DailyUsage.objects.filter(user=user)
        assert sum(r.calls for r in rolled) == calls.count()
        assert sum(r.successful for r in rolled) == calls.filter(status="success").count()
        assert sum(r.errors for r in rolled) == calls.exclude(status="success").count()
        assert sum(r.unpriced for r in rolled) == calls.filter(cost_usd__isnull=True).count()
        assert sum(r.fallbacks for r in rolled) == calls.filter(is_fallback=True).count()
        assert sum(r.total_tokens for r in rolled) == sum(r.total_tokens for r in ledger)
        assert sum(r.latency_ms_sum for r in rolled) == sum(r.latency_ms or 0 for r in calls)
        assert sum(r.latency_count for r in rolled) == calls.filter(latency_ms__isnull=False).count()
        assert sum(r.cost_usd for r in rolled).quantize(USD_PLACES) == sum(
            (r.cost_usd or Decimal(0) for r in ledger), Decimal(0)
        ).quantize(USD_PLACES)


def test_the_mixed_history_lands_on_the_right_days_and_keys(user_a: Any, user_b: Any) -> None:
    _mixed_history(user_a, user_b)
    a_nov1 = DailyUsage.objects.filter(user=user_a, day=dt.date(2026, 11, 1))
    assert {(r.use_case, r.cost_source, r.calls, r.errors) for r in a_nov1 if r.calls} == {
        ("chat", "provider_reported", 1, 1),  # marked invalid afterwards: an error that was billed
        ("chat", "generation_lookup", 1, 0),
    }
    # The sync adjustment is spend, not a call: its cost and nothing else.
    synced = DailyUsage.objects.get(user=user_a, day=dt.date(2026, 11, 1), source="activity_sync")
    assert (synced.calls, synced.successful, synced.errors, synced.latency_count) == (0, 0, 0, 0)
    assert (synced.use_case, synced.cost_usd) == ("generic", Decimal("1.25"))
    # Changed by a second sync: the rollup holds the new figures, still no call.
    changed = DailyUsage.objects.get(
        user=user_a, day=dt.date(2026, 11, 2), model="openai/gpt-4o-mini", source="activity_sync"
    )
    assert (changed.calls, changed.total_tokens, changed.cost_usd) == (0, 55, Decimal("0.35"))
    a_nov2 = DailyUsage.objects.get(user=user_a, day=dt.date(2026, 11, 2), cost_source="generation_lookup")
    assert (a_nov2.calls, a_nov2.total_tokens, a_nov2.cost_usd) == (1, 120, Decimal("0.02"))
    expired = DailyUsage.objects.get(user=user_b, day=dt.date(2026, 11, 2))
    assert (expired.calls, expired.errors, expired.unpriced, expired.cost_source) == (1, 1, 1, "unpriced")


def test_a_ledger_write_that_rolls_back_takes_its_rollup_with_it(user_a: Any) -> None:
    log = usage_start(user=user_a, use_case="chat", model="m", provider="openrouter", streamed=False)

    def finish_then_fail() -> None:
        with transaction.atomic():
            usage_finish(log=log, status=UsageStatus.SUCCESS, cost=Cost(Decimal(1), CostSource.COMPUTED))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        finish_then_fail()
    assert not DailyUsage.objects.filter(calls__gt=0).exists()
    assert not MonthlyUsage.objects.filter(calls__gt=0).exists()
    assert not DailyProviderUsage.objects.filter(calls__gt=0).exists()
    assert AIUsageLog.objects.get(pk=log.pk).status == UsageStatus.PENDING


def test_a_call_finishing_after_expiry_is_counted_once(user_a: Any) -> None:
    start = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        log = usage_start(user=user_a, use_case="chat", model="m", provider="openrouter", streamed=False)
    with time_machine.travel(start + dt.timedelta(minutes=30), tick=False):
        assert usage_expire_stale_pending() == 1
        usage_finish(
            log=log,
            status=UsageStatus.SUCCESS,
            tokens=TokenCounts(prompt=3, completion=4),
            cost=Cost(Decimal("0.3"), CostSource.PROVIDER_REPORTED),
        )
    rows = [r for r in DailyUsage.objects.filter(user=user_a) if r.calls]
    assert [(r.calls, r.successful, r.errors, r.total_tokens, r.cost_source) for r in rows] == [
        (1, 1, 0, 7, "provider_reported")
    ]


def test_the_command_rebuilds_one_user_and_range_only(user_a: Any, user_b: Any) -> None:
    _mixed_history(user_a, user_b)
    expected = _snapshot()
    DailyUsage.objects.all().update(calls=99)
    call_command(
        "rebuild_usage_rollups", "--user", user_a.username, "--start", "2026-11-02", "--end", "2026-11-02"
    )
    after = _snapshot()
    for key, sums in after.items():
        rebuilt = key[0] == user_a.pk and key[1] == dt.date(2026, 11, 2)
        assert (sums == expected[key]) if rebuilt else sums[0] == 99
    # The coarser levels of the rebuilt user and range follow the daily rows as they now are.
    daily, monthly, per_provider = _levels()
    assert {k: v for k, v in monthly.items() if k[0] == user_a.pk} == {
        k: v for k, v in _summed(daily, _month_of).items() if k[0] == user_a.pk
    }
    assert {k: v for k, v in per_provider.items() if k[0] == user_a.pk and k[1] == dt.date(2026, 11, 2)} == {
        k: v
        for k, v in _summed(daily, _provider_of).items()
        if k[0] == user_a.pk and k[1] == dt.date(2026, 11, 2)
    }
    call_command("rebuild_usage_rollups")
    assert _snapshot() == expected
    _assert_levels_agree()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-13-01"], "Not a date"),
        (["--start", "9999-12-31"], "between"),
        (["--start", "2026-11-02", "--end", "2026-11-01"], "must not be after"),
        (["--user", "nobody"], "No such user"),
    ],
)
def test_the_command_refuses_bad_input(db: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("rebuild_usage_rollups", *args)


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_finishes_on_one_key_lose_nothing(user_a: Any) -> None:
    logs = [
        usage_start(user=user_a, use_case="chat", model="m", provider="openrouter", streamed=False)
        for _ in range(40)
    ]
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def worker(chunk: list[AIUsageLog]) -> None:
        try:
            barrier.wait()
            for log in chunk:
                usage_finish(
                    log=log,
                    status=UsageStatus.SUCCESS,
                    tokens=TokenCounts(prompt=1, completion=1),
                    cost=Cost(Decimal("0.001"), CostSource.PROVIDER_REPORTED),
                )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(logs[n::8],)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    row = DailyUsage.objects.get(user=user_a, cost_source="provider_reported")
    assert (row.calls, row.total_tokens, row.cost_usd) == (40, 80, Decimal("0.04"))
    month = MonthlyUsage.objects.get(user=user_a, cost_source="provider_reported")
    assert (month.calls, month.total_tokens, month.cost_usd) == (40, 80, Decimal("0.04"))
    _assert_levels_agree()


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_racing_live_writes_neither_loses_nor_double_counts(user_a: Any) -> None:
    logs = [
        usage_start(user=user_a, use_case="chat", model="m", provider="openrouter", streamed=False)
        for _ in range(60)
    ]
    failures: list[BaseException] = []

    def finish(chunk: list[AIUsageLog]) -> None:
        try:
            for log in chunk:
                usage_finish(
                    log=log,
                    status=UsageStatus.SUCCESS,
                    tokens=TokenCounts(prompt=1, completion=1),
                    cost=Cost(Decimal("0.001"), CostSource.PROVIDER_REPORTED),
                )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    def rebuild() -> None:
        try:
            for _ in range(5):
                rollups_rebuild(user_id=user_a.pk)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finish, args=(logs[n::4],)) for n in range(4)]
    threads.append(threading.Thread(target=rebuild))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    incremental = _levels()
    _assert_levels_agree()
    rollups_rebuild()
    assert _levels() == incremental
    row = DailyUsage.objects.get(user=user_a, cost_source="provider_reported")
    assert (row.calls, row.total_tokens) == (60, 120)


def test_the_migration_takes_old_adjustment_counts_out_like_a_rebuild(user_a: Any, user_b: Any) -> None:
    """Existing databases rolled adjustments up as calls; the migration leaves what a rebuild gives."""
    import importlib

    from django.db import connection

    _mixed_history(user_a, user_b)
    expected = _levels()
    # The old rule, added on top: each adjustment row was one successful call.
    for row in AIUsageLog.objects.filter(source=UsageSource.ACTIVITY_SYNC):
        facts = ledger_facts(row)
        assert facts is not None
        zero = LedgerFacts(key=facts.key, sums=(0,) * len(SUM_COLUMNS))
        old = LedgerFacts(key=facts.key, sums=(1, 1, 0, 0, 0, *(0,) * 7))
        rollup_apply(before=zero, after=old)
    assert _levels() != expected
    migration = importlib.import_module("apps.usage.migrations.0006_sync_adjustments_are_not_calls")
    migration.adjustments_are_not_calls(None, type("Editor", (), {"connection": connection})())
    assert _levels() == expected
    rollups_rebuild()
    assert _levels() == expected
