"""The ledger's write-behind: finished calls written by one thread per process, in batches.

A call's ``pending`` row is committed before the provider is called (``usage_start``); only the
finishing write comes here, so a request thread (and, with keep-alive, the client's next request)
never waits for it. :func:`ledger_writer_submit` queues a finalised row; the process's writer
thread, woken at once, takes everything queued and writes it in one transaction: one conditional
UPDATE for all rows still ``pending`` and one rollup statement for them. A row something else
finished first (the stale-pending sweep) and a batch that hit a duplicate generation id are
written row by row through ``usage_finish_write``, which handles both.

Nothing queued is dropped silently: a database that is down is retried with backoff (the
thread's connection closed and opened anew), a full queue (``LEDGER_WRITE_BEHIND_QUEUE``) makes
the caller write inline, and shutdown flushes (the gunicorn ``worker_exit`` hook and ``atexit``
call :func:`ledger_writer_flush`). A killed process loses its queue: those rows stay ``pending``
until the stale-pending sweep makes them ``timeout`` and reconciliation settles them.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    transaction,
)

from .models import AIUsageLog
from .rollups import ledger_facts, rollup_apply_many
from .services import usage_finish_write
from .statements import ledger_rows_finish

logger = logging.getLogger(__name__)

RETRY_FIRST_DELAY = 0.05  # seconds; doubled after each failure of the same write
RETRY_MAX_DELAY = 5.0
MAX_BATCH = 500  # rows; a batch this full is written without lingering
EXIT_FLUSH_TIMEOUT = 10.0  # seconds a shutdown waits for the queue (gunicorn's graceful_timeout is 30)


@dataclass(frozen=True)
class Finished:
    """A finalised row waiting to be written, and what to run once it is."""

    log: AIUsageLog
    after_write: Callable[[], None] | None = None


def _batch_write(batch: list[Finished]) -> list[Finished]:
    """Write ``batch`` in one transaction; returns the items whose row was no longer ``pending``.

    A pending row is not in the rollups, so each written row adds its facts alone (the rollup
    module's rule), in the same transaction.
    """
    with transaction.atomic():
        written = ledger_rows_finish([item.log for item in batch])
        rollup_apply_many((None, ledger_facts(item.log)) for item in batch if item.log.pk in written)
    return [item for item in batch if item.log.pk not in written]


def _after_write(item: Finished) -> None:
    if item.after_write is None:
        return
    try:
        item.after_write()
    except Exception:
        logger.exception("a task queued after usage row %s was written failed", item.log.pk)


def _reconnect(delay: float) -> float:
    """Drop this thread's broken connection, wait ``delay``; returns the next delay."""
    connection.close()
    time.sleep(delay)
    return min(delay * 2, RETRY_MAX_DELAY)


class LedgerWriter:
    """One process's queue of finished rows and the daemon thread that writes them."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """A fresh, empty writer: after ``fork`` the child's copy of the queue is its parent's
        (the parent writes those rows) and the parent's thread does not exist in the child."""
        self._condition = threading.Condition()
        self._queue: list[Finished] = []
        self._busy = False
        self._stopping = False
        self._flushing = 0  # callers waiting in flush(): a batch then starts at once
        self._linger = 0.0
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def submit(self, item: Finished, *, limit: int, linger: float = 0.0) -> bool:
        """Queue ``item``; False when ``limit`` rows are already waiting (write it yourself).

        ``linger``: how long the writer may wait after the first row of a batch for more to
        join it (they share one UPDATE and one rollup statement per batch).
        """
        if self._pid != os.getpid():  # a forked child the at-fork reset missed: start afresh
            self.forget()
        with self._condition:
            if len(self._queue) >= limit:
                return False
            self._linger = linger
            self._start()
            self._queue.append(item)
            self._condition.notify_all()
        return True

    def _start(self) -> None:
        """Start the thread in this process if it is not running (lazily: gunicorn forks its
        workers after importing the app, and a thread started before a fork is not in the child)."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
            self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Wait until every queued row is written; False (and a warning) if ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        with self._condition:
            self._flushing += 1
            self._condition.notify_all()
            try:
                while self._queue or self._busy:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._pid != os.getpid():
                        logger.warning("ledger writer: %d finished rows not written yet", len(self._queue))
                        return False
                    self._condition.wait(remaining)
            finally:
                self._flushing -= 1
        return True

    def stop(self, timeout: float) -> bool:
        """Flush, then end the thread (it closes its database connection); the next submit
        starts a new one. False if the queue was not written within ``timeout``."""
        flushed = self.flush(timeout)
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None and flushed:
            thread.join(timeout)
        return flushed

    def _take(self) -> list[Finished]:
        """Everything queued, once there is something (empty: the writer is stopping)."""
        with self._condition:
            while not self._queue and not self._stopping:
                self._condition.wait()
            # Let more rows join the batch (each batch is one UPDATE and one rollup statement,
            # whatever its size), unless someone is waiting for the queue to be written.
            deadline = time.monotonic() + self._linger
            while len(self._queue) < MAX_BATCH and not self._stopping and not self._flushing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            batch, self._queue = self._queue, []
            self._busy = bool(batch)
            return batch

    def _run(self) -> None:
        try:
            while batch := self._take():
                try:
                    self._write(batch)
                    # Each batch is treated like a request: a connection past CONN_MAX_AGE (or
                    # broken) is closed after it, and a new one opened by the next batch.
                    close_old_connections()
                except Exception:
                    logger.exception("ledger writer: %d rows may be left pending", len(batch))
                finally:
                    with self._condition:
                        self._busy = False
                        self._condition.notify_all()
        finally:
            connections.close_all()

    def _write(self, batch: list[Finished]) -> None:
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                close_old_connections()  # as at a request's start: none past its age or broken
                one_by_one = _batch_write(batch)
                break
            except (OperationalError, InterfaceError):
                logger.exception("ledger writer: %d rows not written, retrying in %.2f s", len(batch), delay)
                delay = _reconnect(delay)
            except IntegrityError:
                # A duplicate generation id (rolled back): written alone, a duplicate is flagged.
                one_by_one = batch
                break
            except Exception:
                logger.exception(
                    "ledger writer: a batch of %d rows failed; writing them one by one", len(batch)
                )
                one_by_one = batch
                break
        alone = {id(item) for item in one_by_one}
        for item in batch:
            if id(item) not in alone:
                _after_write(item)
        for item in one_by_one:
            self._write_alone(item)

    def _write_alone(self, item: Finished) -> None:
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                usage_finish_write(log=item.log)
                break
            except (OperationalError, InterfaceError):
                logger.exception(
                    "ledger writer: usage row %s not written, retrying in %.2f s", item.log.pk, delay
                )
                delay = _reconnect(delay)
            except Exception:
                # Not a passing fault: the row stays pending, the sweep and reconciliation settle it.
                logger.exception(
                    "ledger writer: usage row %s could not be finished; left pending", item.log.pk
                )
                return
        _after_write(item)


_writer = LedgerWriter()
os.register_at_fork(after_in_child=_writer.forget)


def ledger_writer_submit(*, log: AIUsageLog, after_write: Callable[[], None] | None = None) -> bool:
    """Hand a finalised row to this process's writer; False when its queue is full (the caller
    writes it inline, as without write-behind)."""
    return _writer.submit(
        Finished(log, after_write),
        limit=settings.LEDGER_WRITE_BEHIND_QUEUE,
        linger=settings.LEDGER_WRITE_BEHIND_LINGER_MS / 1000,
    )


def ledger_writer_flush(*, timeout: float = EXIT_FLUSH_TIMEOUT) -> bool:
    """Wait until every row queued in this process is written (a graceful shutdown loses none)."""
    return _writer.flush(timeout)


def ledger_writer_stop(*, timeout: float = EXIT_FLUSH_TIMEOUT) -> bool:
    """Flush and end this process's writer thread, closing its database connection."""
    return _writer.stop(timeout)


atexit.register(ledger_writer_flush)
