"""Idempotency for partner requests: the same ``Idempotency-Key`` never calls the provider twice.

A key is bound to one request body (by fingerprint). While the first request runs, a retry gets
409; afterwards it gets the stored response. Outcomes that were certainly not billed and that a
retry may fix (429, 503) are forgotten so the retry can run.

A record still "in progress" after ``STALE_PENDING_AFTER`` belongs to a worker that died: the
pending-row sweeper closes its ledger row at that same age, and the next retry takes the record
over (one retry only: the takeover is a conditional update) instead of getting 409 forever.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.usage.services import STALE_PENDING_AFTER

from . import errors
from .models import IdempotencyRecord

RETRYABLE_STATUSES = {429, 503}
MAX_KEY_LENGTH = 200


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_begin(*, user: Any, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """The record for ``key`` and whether this request is the first (True) or a replay (False)."""
    # Printable ASCII (as documented): a header value outside it is mangled by some proxies.
    if not key or len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        raise errors.GatewayError(
            _("Idempotency-Key must be 1 to 200 printable characters."),
            code="invalid_request",
            status_code=400,
        )
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint), True
    except IntegrityError:
        record = IdempotencyRecord.objects.for_user(user).get(key=key)
    if record.fingerprint != fingerprint:
        raise errors.GatewayError(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
            status_code=422,
        )
    if record.status_code is None:
        if _take_over_if_abandoned(record):
            return record, True
        raise errors.GatewayError(
            _("A request with this Idempotency-Key is still in progress."),
            code="idempotency_in_progress",
            status_code=409,
        )
    return record, False


def _take_over_if_abandoned(record: IdempotencyRecord) -> bool:
    now = timezone.now()
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, status_code__isnull=True, updated_at__lt=now - STALE_PENDING_AFTER
    ).update(updated_at=now)
    if taken:
        record.updated_at = now
    return bool(taken)


def idempotency_finish(
    *, record: IdempotencyRecord, status_code: int, response: Any, log_id: int | None
) -> None:
    if status_code in RETRYABLE_STATUSES:
        record.delete()
        return
    record.status_code, record.response, record.usage_log_id = status_code, response, log_id
    record.save(update_fields=["status_code", "response", "usage_log", "updated_at"])
