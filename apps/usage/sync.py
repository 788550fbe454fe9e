"""Syncing a tenant's OpenRouter activity, day by day, and reconciling the ledger with it.

Rules:

* Only completed UTC days of OpenRouter's window are fetched: the last 30, today excluded. The
  API refuses a range outside it (:func:`sync_range_check`); pages and schedules clamp
  (:func:`sync_range_clamp`). The day before the last synced day is synced again, because
  OpenRouter revises recent days (this also fills the gap after nights without a sync).
* One active run per user (a database constraint): a second request joins the running run.
* Each day is written in one transaction (records, settlements, adjustment rows, progress), so
  a failure never leaves half a day; the run stops at the first failed day.
* 429 and 5xx are retried by the client with backoff and ``Retry-After``; a missing, unreadable,
  wrong-type or revoked management key ends the run ``needs_attention`` at once (no retries).
* By default only the spend of the configured API key is read (``api_key_hash``, the SHA-256
  of the key, as OpenRouter identifies keys); ``AISettings.activity_whole_account`` reads all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.crypto import DecryptionError
from apps.integrations.clients import openrouter_client
from apps.integrations.exceptions import OpenRouterKeyUnavailable
from apps.integrations.models import KeySlot
from apps.integrations.openrouter import ActivityRow, ErrorCode, OpenRouterError
from apps.integrations.selectors import activity_access_get, activity_sync_settings

from .models import (
    ACTIVE_SYNC_STATES,
    ActivityRecord,
    AIUsageLog,
    CostSource,
    Reconciliation,
    SyncRun,
    SyncState,
    SyncTrigger,
)
from .reconciliation import activity_day_store, reconcile_day
from .settlement import usage_cost_settle

logger = logging.getLogger(__name__)

WINDOW_DAYS = 30
# A run whose worker died (no progress for this long) may be taken over by a redelivered task.
STALE_RUN_AFTER = dt.timedelta(minutes=10)
SYNC_DEADLINE_SECONDS = 60.0
_MAX_USAGE = Decimal(10) ** 8
# Failures of the management key itself: retrying cannot help, the user must act.
_ATTENTION_CODES = {ErrorCode.INVALID_KEY, ErrorCode.MANAGEMENT_KEY_REQUIRED, ErrorCode.KEY_LIMIT}

Progress = Callable[[SyncRun], None]
# Races for the one active run a request may lose before it gives up (each loss means another
# request's run was active a moment ago; three in a row would be a broken constraint, not a race).
_REQUEST_ATTEMPTS = 3


def utc_today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def activity_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """OpenRouter's completed UTC days: the last 30, today excluded."""
    today = today or utc_today()
    return today - dt.timedelta(days=WINDOW_DAYS), today - dt.timedelta(days=1)


class SyncRangeError(ValueError):
    """A requested range OpenRouter cannot serve; ``message`` says what is allowed."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def sync_range_check(
    *, start: dt.date, end: dt.date, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """``start``..``end`` unchanged when OpenRouter can serve it; else :class:`SyncRangeError`."""
    first, last = activity_window(today)
    allowed = _("Choose completed UTC days from %(first)s to %(last)s (at most %(days)d days).") % {
        "first": first.isoformat(),
        "last": last.isoformat(),
        "days": WINDOW_DAYS,
    }
    if start > end:
        raise SyncRangeError(_("The start must not be after the end.") + " " + allowed, field="start")
    if end > last:
        raise SyncRangeError(_("Today and future days cannot be synced yet.") + " " + allowed, field="end")
    if (end - start).days + 1 > WINDOW_DAYS:
        raise SyncRangeError(_("The range is longer than 30 days.") + " " + allowed, field="start")
    if start < first:
        raise SyncRangeError(_("OpenRouter keeps only the last 30 days.") + " " + allowed, field="start")
    return start, end


def sync_range_clamp(
    *, start: dt.date | None = None, end: dt.date | None = None, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The part of ``start``..``end`` within OpenRouter's window (default: the whole window)."""
    first, last = activity_window(today)
    end = min(end or last, last)
    start = max(start or first, first)
    if start > end:
        start = end
    return start, end


# ------------------------------------------------------------------ requesting a run


def sync_run_request(
    *, user: Any, start: dt.date, end: dt.date, trigger: SyncTrigger, enqueue: bool = True
) -> tuple[SyncRun, bool]:
    """Queue a sync of ``start``..``end`` for ``user``, or join the user's active run.

    Returns (run, created). When created and ``enqueue``, the Celery task is queued once the run
    is committed.
    """
    for attempt in range(_REQUEST_ATTEMPTS):
        active = SyncRun.objects.for_user(user).filter(state__in=ACTIVE_SYNC_STATES).first()
        if active is not None:
            return active, False
        try:
            with transaction.atomic():
                run = SyncRun.objects.create(user=user, start=start, end=end, trigger=trigger)
            break
        except IntegrityError:
            # Another request won the race for the one active run: join it on the next turn
            # (or, when that run has already ended meanwhile, start this one after all).
            if attempt == _REQUEST_ATTEMPTS - 1:
                raise
    if enqueue:
        from .tasks import sync_activity

        run_id = run.pk
        transaction.on_commit(lambda: sync_activity.delay(run_id=run_id))
    return run, True


# ------------------------------------------------------------------ running it


def _claim(run_id: int, today: dt.date) -> tuple[SyncRun, list[dt.date]] | None:
    """Mark the run running with its days, unless another worker holds it (fresh) or it has
    ended. Two round trips: the run with the user's last synced day, then a conditional update
    that only one worker can win."""
    run = (
        SyncRun.objects.select_related("user")
        .annotate(
            latest=Subquery(
                ActivityRecord.objects.filter(user=OuterRef("user")).order_by("-date").values("date")[:1]
            )
        )
        .filter(pk=run_id)
        .first()
    )
    if run is None or run.state not in ACTIVE_SYNC_STATES:
        return None
    days = _days(run, run.latest, today)  # type: ignore[attr-defined]
    now = timezone.now()
    fields: dict[str, Any] = {
        "state": SyncState.RUNNING,
        "updated_at": now,
        "days_total": len(days),
        "days_done": 0,
        "records": 0,
        "adjustments": 0,
        "settled": 0,
    }
    if days:
        fields["start"], fields["end"] = days[0], days[-1]
    if run.state == SyncState.QUEUED:
        fields["started_at"] = now
        claimed = SyncRun.objects.filter(pk=run_id, state=SyncState.QUEUED).update(**fields)
    else:  # running: taken over only when its worker has made no progress for a long time
        stale = now - STALE_RUN_AFTER
        claimed = SyncRun.objects.filter(pk=run_id, state=SyncState.RUNNING, updated_at__lt=stale).update(
            **fields
        )
    if not claimed:
        return None
    for name, value in fields.items():
        setattr(run, name, value)
    return run, days


def _finish(run: SyncRun, state: SyncState, code: str = "", message: str = "") -> SyncRun:
    run.state, run.error_code, run.error = state, code[:40], message[:300]
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "error_code", "error", "finished_at", "updated_at"])
    return run


def _days(run: SyncRun, latest: dt.date | None, today: dt.date) -> list[dt.date]:
    """The run's days, widened back to the day before ``latest``, the last synced day (OpenRouter
    revises recent days; after nights without a sync this also fills the gap)."""
    first, last = activity_window(today)
    start, end = max(run.start, first), min(run.end, last)
    if latest is not None:
        start = max(first, min(start, latest - dt.timedelta(days=1)))
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)] if start <= end else []


def _checked(rows: list[ActivityRow], day: dt.date) -> list[ActivityRow]:
    for row in rows:
        bad_numbers = row.usage < 0 or row.usage >= _MAX_USAGE or row.requests < 0
        tokens = (row.prompt_tokens, row.completion_tokens, row.reasoning_tokens, row.cached_tokens)
        if bad_numbers or min(tokens) < 0 or row.date != day or not row.model:
            raise ValueError(f"activity row for {row.date} is not usable")
    return rows


def _settle_generations(user: Any, days: list[dt.date]) -> None:
    """Ask ``/generation`` for the billed failures and estimates of ``days`` that kept their id,
    before their days are reconciled (so they count with OpenRouter's own figure)."""
    start = dt.datetime.combine(days[0], dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(days[-1], dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=1)
    ids = AIUsageLog.objects.filter(
        user=user,
        generation_id__isnull=False,
        cost_source__in=[CostSource.UNPRICED, CostSource.ESTIMATED],
        created_at__gte=start,
        created_at__lt=end,
    ).values_list("pk", flat=True)
    for log_id in ids:
        usage_cost_settle(log_id=log_id)


@dataclass
class _Stored:
    """What earlier syncs stored for the run's days, read once per run (the user's sync lock
    keeps other syncs from writing them meanwhile)."""

    records: dict[dt.date, list[ActivityRecord]]
    reconciliations: dict[dt.date, list[Reconciliation]]

    @classmethod
    def load(cls, user: Any, days: list[dt.date]) -> _Stored:
        records: dict[dt.date, list[ActivityRecord]] = defaultdict(list)
        reconciliations: dict[dt.date, list[Reconciliation]] = defaultdict(list)
        if days:
            for record in ActivityRecord.objects.filter(user=user, date__gte=days[0], date__lte=days[-1]):
                records[record.date].append(record)
            for result in Reconciliation.objects.filter(user=user, date__gte=days[0], date__lte=days[-1]):
                reconciliations[result.date].append(result)
        return cls(records, reconciliations)


def _store_day(run: SyncRun, day: dt.date, rows: list[ActivityRow], stored: _Stored) -> None:
    with transaction.atomic():
        records = activity_day_store(user=run.user, day=day, rows=rows, stored=stored.records[day])
        outcome = reconcile_day(user=run.user, day=day, records=records, previous=stored.reconciliations[day])
        run.records += len(records)
        run.adjustments += outcome.adjustments
        run.settled += outcome.settled
        run.days_done += 1
        run.save(update_fields=["records", "adjustments", "settled", "days_done", "updated_at"])


def sync_run_execute(
    *, run_id: int, progress: Progress | None = None, today: dt.date | None = None
) -> SyncRun:
    """Run a queued sync to its end: ``succeeded``, ``failed`` or ``needs_attention``.

    Idempotent: a run that has ended, or that another worker is running, is returned as it is.
    ``progress`` is called after each completed day.
    """
    claimed = _claim(run_id, today or utc_today())
    if claimed is None:
        return SyncRun.objects.get(pk=run_id)
    run, days = claimed
    try:
        source = activity_access_get(user=run.user)
    except (OpenRouterKeyUnavailable, DecryptionError) as exc:
        message = (
            str(exc) if isinstance(exc, OpenRouterKeyUnavailable) else _("The management key cannot be read.")
        )
        api_key = isinstance(exc, OpenRouterKeyUnavailable) and exc.slot == KeySlot.API
        code = "api_key_unreadable" if api_key else "management_key_missing"
        return _finish(run, SyncState.NEEDS_ATTENTION, code, message)
    stored = _Stored.load(run.user, days)
    with openrouter_client(source.management_key, deadline=SYNC_DEADLINE_SECONDS) as client:
        for index, day in enumerate(days):
            try:
                rows = _checked(client.activity(date=day, api_key_hash=source.api_key_hash), day)
                if index == 0:  # OpenRouter answers: settle what /generation can before reconciling
                    _settle_generations(run.user, days)
                _store_day(run, day, rows, stored)
            except OpenRouterError as exc:
                return _failed(run, day, exc)
            except ValueError:
                message = _("OpenRouter's activity for %(day)s could not be read; nothing was written.") % {
                    "day": day.isoformat()
                }
                return _finish(run, SyncState.FAILED, ErrorCode.BAD_RESPONSE.value, message)
            if progress is not None:
                progress(run)
    return _finish(run, SyncState.SUCCEEDED)


def _failed(run: SyncRun, day: dt.date, exc: OpenRouterError) -> SyncRun:
    logger.info("activity sync %s stopped at %s: %s", run.pk, day, exc.code.value)
    if exc.code in _ATTENTION_CODES:
        message = _(
            "OpenRouter refused the management key (%(reason)s). Check it under Integrations → AI & Models."
        )
        return _finish(
            run, SyncState.NEEDS_ATTENTION, exc.code.value, message % {"reason": str(exc.user_message)}
        )
    message = _("Stopped at %(day)s: %(reason)s Nothing of that day was written; the next sync retries it.")
    return _finish(
        run,
        SyncState.FAILED,
        exc.code.value,
        message % {"day": day.isoformat(), "reason": str(exc.user_message)},
    )


# ------------------------------------------------------------------ the nightly fan-out


def sync_nightly_fan_out(*, today: dt.date | None = None) -> list[int]:
    """Queue a sync of the previous two completed UTC days for every user with a management key.

    Safe to run twice: a user whose run is still active is joined, and a second sync of the
    same days writes nothing new.
    """
    today = today or utc_today()
    start, end = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    # cross-tenant: the nightly job visits every tenant with a management key or a platform key.
    users = activity_sync_settings().select_related("user")
    return [
        sync_run_request(user=row.user, start=start, end=end, trigger=SyncTrigger.SCHEDULED)[0].pk
        for row in users
    ]
