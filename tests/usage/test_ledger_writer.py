"""The ledger's write-behind: finished calls written by the process's writer thread, in batches,
with nothing lost, nothing counted twice, and the rollups equal to a rebuild from the ledger.

Real commits (``transaction=True``): the writer thread has its own connection and cannot see a
test's open transaction. Each test stops the writer afterwards, which closes that connection.
"""

from __future__ import annotations

import datetime as dt
import logging
import runpy
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import OperationalError, connections
from django.db.backends.utils import CursorWrapper
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from apps.core.after_response import AfterResponseMiddleware
from apps.usage import writer
from apps.usage.cost import Cost
from apps.usage.models import AIUsageLog, CostSource, DailyUsage, UsageStatus
from apps.usage.rollups import rollups_rebuild
from apps.usage.services import TokenCounts, usage_expire_stale_pending, usage_finish, usage_start
from apps.usage.writer import ledger_writer_flush, ledger_writer_stop
from tests.usage.test_rollups import _levels

pytestmark = pytest.mark.django_db(transaction=True)

WRITER_THREAD = "ledger-writer"
WAIT = 30  # seconds: a bound on a hung writer, never a timing the tests depend on


@pytest.fixture(autouse=True)
def write_behind(settings: Any) -> Iterator[None]:
    settings.LEDGER_WRITE_BEHIND = True
    yield
    assert ledger_writer_stop(timeout=WAIT)


def _start(user: Any, *, model: str = "openai/gpt-4o-mini", use_case: str = "chat") -> AIUsageLog:
    return usage_start(user=user, use_case=use_case, model=model, provider="openrouter", streamed=False)


def _ok(n: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "status": UsageStatus.SUCCESS,
        "tokens": TokenCounts(prompt=10 * n, completion=n),
        "cost": Cost(Decimal("0.000123456789") * n, CostSource.PROVIDER_REPORTED),
        "latency_ms": 100 + n,
        **extra,
    }


def _finish_in_request(log: AIUsageLog, **outcome: Any) -> None:
    """``usage_finish`` as the gateway calls it inside a request; the response is then sent."""

    def view(request: HttpRequest) -> HttpResponse:
        usage_finish(log=log, write_after_response=True, **outcome)
        return HttpResponse()

    response = AfterResponseMiddleware(view)(RequestFactory().post("/api/v1/chat/completions"))
    response.close()


def _statuses(logs: list[AIUsageLog]) -> list[str]:
    by_id = dict(AIUsageLog.objects.filter(pk__in=[log.pk for log in logs]).values_list("pk", "status"))
    return [by_id[log.pk] for log in logs]


def _assert_rollups_equal_a_rebuild() -> None:
    incremental = _levels()
    rollups_rebuild()
    assert _levels() == incremental


class _HeldWriter:
    """Keeps the writer thread busy on one row until released, so what is queued meanwhile is
    taken as one batch afterwards (or fills the queue)."""

    def __init__(self, user: Any) -> None:
        self.entered, self.gate = threading.Event(), threading.Event()
        self.log = _start(user)

    def __enter__(self) -> _HeldWriter:
        _finish_in_request(self.log, after_write=self._hold, **_ok())
        assert self.entered.wait(WAIT)
        return self

    def _hold(self) -> None:
        self.entered.set()
        self.gate.wait(WAIT)

    def __exit__(self, *exc: object) -> None:
        self.gate.set()


def test_many_finishes_from_several_threads_end_final_and_the_rollups_equal_a_rebuild(
    user_a: Any, user_b: Any
) -> None:
    logs = [
        _start(user, model=model, use_case=use_case)
        for user in (user_a, user_b)
        for model in ("openai/gpt-4o-mini", "anthropic/claude-3.5-haiku")
        for use_case in ("chat", "sms_classification")
        for _ in range(6)
    ]
    failures: list[BaseException] = []

    def finish(chunk: list[AIUsageLog]) -> None:
        try:
            for n, log in enumerate(chunk, start=1):
                outcome = _ok(n) if n % 3 else {"status": UsageStatus.ERROR, "error_code": "provider_error"}
                _finish_in_request(log, **outcome)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finish, args=(logs[n::6],)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert ledger_writer_flush(timeout=WAIT)
    assert sorted(set(_statuses(logs))) == [UsageStatus.ERROR, UsageStatus.SUCCESS]
    assert not AIUsageLog.objects.filter(status=UsageStatus.PENDING).exists()
    assert sum(DailyUsage.objects.values_list("calls", flat=True)) == len(logs)
    _assert_rollups_equal_a_rebuild()


def test_a_row_the_sweep_expired_first_is_finished_and_counted_once(user_a: Any) -> None:
    with time_machine.travel(timezone.now() - dt.timedelta(hours=1), tick=False):
        stale = _start(user_a)
    fresh = _start(user_a)
    assert usage_expire_stale_pending() == 1
    with _HeldWriter(user_a):  # both in one batch: one updated there, the other not pending
        _finish_in_request(stale, **_ok(2))
        _finish_in_request(fresh, **_ok(3))
    assert ledger_writer_flush(timeout=WAIT)
    assert _statuses([stale, fresh]) == [UsageStatus.SUCCESS, UsageStatus.SUCCESS]
    stale.refresh_from_db()
    assert (stale.total_tokens, stale.cost_usd) == (22, Decimal("0.000246913578"))
    assert sum(DailyUsage.objects.values_list("calls", flat=True)) == 3
    _assert_rollups_equal_a_rebuild()


def test_a_duplicate_generation_id_in_a_batch_keeps_the_first_and_flags_the_other(user_a: Any) -> None:
    first, second = _start(user_a), _start(user_a)
    with _HeldWriter(user_a):
        _finish_in_request(first, **_ok(generation_id="gen-same"))
        _finish_in_request(second, **_ok(generation_id="gen-same"))
    assert ledger_writer_flush(timeout=WAIT)
    rows = list(AIUsageLog.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk"))
    assert [(r.status, r.generation_id, r.error_code) for r in rows] == [
        (UsageStatus.SUCCESS, "gen-same", ""),
        (UsageStatus.SUCCESS, None, "duplicate_generation"),
    ]
    assert sum(DailyUsage.objects.values_list("calls", flat=True)) == 3
    _assert_rollups_equal_a_rebuild()


def test_a_database_error_is_retried_until_the_rows_are_written(
    user_a: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database drops the writer's connection twice; nothing queued is lost."""
    failures = {"left": 2}
    execute = CursorWrapper.execute

    def dropped_twice(self: CursorWrapper, sql: str, params: Any = None) -> Any:
        if threading.current_thread().name == WRITER_THREAD and failures["left"]:
            failures["left"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", dropped_twice)
    logs = [_start(user_a) for _ in range(5)]
    with caplog.at_level(logging.ERROR, logger="apps.usage.writer"):
        for n, log in enumerate(logs, start=1):
            _finish_in_request(log, **_ok(n))
        assert ledger_writer_flush(timeout=WAIT)
    assert failures["left"] == 0
    assert "retrying" in caplog.text
    assert _statuses(logs) == [UsageStatus.SUCCESS] * 5
    assert sum(DailyUsage.objects.values_list("calls", flat=True)) == 5
    _assert_rollups_equal_a_rebuild()


def test_shutdown_writes_everything_queued_before_the_worker_exits(user_a: Any) -> None:
    hooks = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    worker_exit: Callable[[object, object], None] = hooks["worker_exit"]
    logs = [_start(user_a) for _ in range(4)]
    exited = threading.Event()
    with _HeldWriter(user_a) as held:
        for log in logs:
            _finish_in_request(log, **_ok())
        # The writer is held: the queue cannot be written within a short flush.
        assert not ledger_writer_flush(timeout=0.01)
        exiting = threading.Thread(target=lambda: (worker_exit(None, None), exited.set()))
        exiting.start()
        assert _statuses(logs) == [UsageStatus.PENDING] * 4
        held.gate.set()
        exiting.join(WAIT)
    assert exited.is_set()
    assert _statuses(logs) == [UsageStatus.SUCCESS] * 4
    _assert_rollups_equal_a_rebuild()


def test_the_after_write_callback_runs_in_the_writer_once_the_row_is_committed(user_a: Any) -> None:
    log = _start(user_a)
    seen: list[tuple[str, str, int]] = []

    def settle() -> None:
        # Read through this thread's own connection: only committed rows are visible to it.
        row = AIUsageLog.objects.get(pk=log.pk)
        calls = sum(DailyUsage.objects.filter(user_id=row.user_id).values_list("calls", flat=True))
        seen.append((threading.current_thread().name, row.status, calls))

    _finish_in_request(log, after_write=settle, **_ok(generation_id="gen-settle"))
    assert ledger_writer_flush(timeout=WAIT)
    assert seen == [(WRITER_THREAD, UsageStatus.SUCCESS, 1)]


def test_a_full_queue_makes_the_request_write_its_row_itself(user_a: Any, settings: Any) -> None:
    settings.LEDGER_WRITE_BEHIND_QUEUE = 2
    logs = [_start(user_a) for _ in range(3)]
    with _HeldWriter(user_a):
        for log in logs:
            _finish_in_request(log, **_ok())
        # Two rows wait in the queue; the third found it full and was written at response close.
        assert _statuses(logs) == [UsageStatus.PENDING, UsageStatus.PENDING, UsageStatus.SUCCESS]
    assert ledger_writer_flush(timeout=WAIT)
    assert _statuses(logs) == [UsageStatus.SUCCESS] * 3
    assert sum(DailyUsage.objects.values_list("calls", flat=True)) == 4
    _assert_rollups_equal_a_rebuild()


def test_rows_finished_while_a_batch_lingers_share_it_and_a_flush_does_not_wait(
    user_a: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch gathers rows for LEDGER_WRITE_BEHIND_LINGER_MS (one UPDATE and one rollup
    statement for all of them); someone waiting for the queue ends the lingering at once."""
    settings.LEDGER_WRITE_BEHIND_LINGER_MS = 600_000  # ten minutes: only the flush can end it
    batches: list[int] = []
    batch_write = writer._batch_write

    def counted(batch: Any) -> Any:
        batches.append(len(batch))
        return batch_write(batch)

    monkeypatch.setattr(writer, "_batch_write", counted)
    logs = [_start(user_a) for _ in range(6)]
    for n, log in enumerate(logs, start=1):
        _finish_in_request(log, **_ok(n))
    assert batches == []  # still gathering
    assert ledger_writer_flush(timeout=WAIT)
    assert batches == [6]
    assert _statuses(logs) == [UsageStatus.SUCCESS] * 6
    _assert_rollups_equal_a_rebuild()
