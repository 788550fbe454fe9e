"""RELIABILITY.md "Activity sync": two syncs for the same user at the same time, with real threads
on PostgreSQL (each thread its own connection and transactions): no duplicates, no unhandled
IntegrityError; the second request joins the active run (the "one active run per user"
constraint) and a second worker on that run leaves it to the first.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import Sum

import apps.usage.sync as sync_module
from apps.usage.models import ActivityRecord, AIUsageLog, Reconciliation, SyncRun, SyncTrigger
from apps.usage.sync import sync_run_execute, sync_run_request
from tests.usage.conftest import YESTERDAY

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

D1, D2 = dt.date(2026, 11, 25), dt.date(2026, 11, 26)
DAYS = [D1, D2, YESTERDAY]
MODELS = ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4.6")
JOIN_TIMEOUT = 60


def _in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(n)`` in ``count`` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            results[n] = work(n)
        except BaseException as exc:
            results[n] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _seed(user: Any, tenant: Any, billed: Any) -> Decimal:
    tenant(user)
    total = Decimal(0)
    for n, day in enumerate(DAYS):
        for m, model in enumerate(MODELS):
            usage = Decimal(f"0.0{n + 1}{m + 1}")
            billed(user, day, model, str(usage))
            total += usage
    return total


def _activity_days(emulator: Any, user: Any) -> list[str]:
    management = emulator.key_hash(user.or_management_key)
    return sorted(
        r.query["date"] for r in emulator.requests if r.path == "/activity" and r.key_hash == management
    )


def test_concurrent_requests_for_one_user_start_one_run_and_write_each_row_once(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any
) -> None:
    total = _seed(user_a, tenant, billed)

    def request_and_run(n: int) -> tuple[int, bool, str]:
        run, created = sync_run_request(
            user=user_a, start=D1, end=YESTERDAY, trigger=SyncTrigger.API, enqueue=False
        )
        return run.pk, created, sync_run_execute(run_id=run.pk).state

    results = _in_threads(4, request_and_run)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len({run_id for run_id, _, _ in results}) == 1  # everyone joined the one run
    assert sorted(created for _, created, _ in results) == [False, False, False, True]
    run = SyncRun.objects.get()
    assert (run.state, run.days_done, run.records) == ("succeeded", 3, 6)
    # Each day was read once: the joiners never ran a sync of their own beside the first.
    assert _activity_days(emulator, user_a) == [d.isoformat() for d in DAYS]
    assert ActivityRecord.objects.count() == Reconciliation.objects.count() == 6
    assert AIUsageLog.objects.count() == 6
    assert AIUsageLog.objects.aggregate(total=Sum("cost_usd"))["total"] == total


def test_a_request_during_a_running_sync_joins_it_and_a_second_worker_leaves_it_alone(
    frozen: Any, user_a: Any, tenant: Any, billed: Any, emulator: Any, monkeypatch: Any
) -> None:
    total = _seed(user_a, tenant, billed)
    run, created = sync_run_request(
        user=user_a, start=D1, end=YESTERDAY, trigger=SyncTrigger.API, enqueue=False
    )
    assert created
    # Hold the first worker inside its first day's transaction until the others have tried.
    inside, release = threading.Event(), threading.Event()
    store_day = sync_module._store_day

    def held_store_day(*args: Any, **kwargs: Any) -> None:
        if not inside.is_set():
            inside.set()
            assert release.wait(timeout=JOIN_TIMEOUT)
        store_day(*args, **kwargs)

    monkeypatch.setattr(sync_module, "_store_day", held_store_day)

    def work(n: int) -> Any:
        if n == 0:  # the worker that holds the run
            return sync_run_execute(run_id=run.pk).state
        assert inside.wait(timeout=JOIN_TIMEOUT)
        try:
            if n == 1:  # a second request (the page's button, the API) while the run is busy
                joined, again = sync_run_request(
                    user=user_a, start=D2, end=YESTERDAY, trigger=SyncTrigger.MANUAL, enqueue=False
                )
                return joined.pk, again
            # a redelivered task for the same run, on another worker
            return sync_run_execute(run_id=run.pk).state
        finally:
            if n == 2:
                release.set()

    first, joined, second_worker = _in_threads(3, work)
    assert first == "succeeded"
    assert joined == (run.pk, False)
    assert second_worker == "running"  # it found the run held by a live worker and returned
    assert SyncRun.objects.count() == 1
    assert _activity_days(emulator, user_a) == [d.isoformat() for d in DAYS]
    assert ActivityRecord.objects.count() == 6
    assert AIUsageLog.objects.aggregate(total=Sum("cost_usd"))["total"] == total


def test_requests_for_two_users_at_once_each_get_their_own_run(
    frozen: Any, user_a: Any, user_b: Any, tenant: Any, billed: Any
) -> None:
    totals = {user_a.pk: _seed(user_a, tenant, billed), user_b.pk: _seed(user_b, tenant, billed)}
    users = [user_a, user_b, user_a, user_b]

    def request_and_run(n: int) -> str:
        run, _ = sync_run_request(
            user=users[n], start=D1, end=YESTERDAY, trigger=SyncTrigger.API, enqueue=False
        )
        return sync_run_execute(run_id=run.pk).state

    results = _in_threads(4, request_and_run)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(SyncRun.objects.values_list("user_id", flat=True)) == sorted([user_a.pk, user_b.pk])
    sums = dict(
        AIUsageLog.objects.values("user_id").annotate(total=Sum("cost_usd")).values_list("user_id", "total")
    )
    assert sums == totals
