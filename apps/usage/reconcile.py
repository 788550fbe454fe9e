"""Settling a call's cost after the fact, through OpenRouter's ``/generation`` endpoint."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from apps.core.crypto import DecryptionError
from apps.integrations.clients import openrouter_client, system_client
from apps.integrations.models import Provider
from apps.integrations.openrouter import OpenRouterError
from apps.integrations.pricing import cost_from_prices
from apps.integrations.selectors import ai_settings_get

from .models import AIUsageLog, CostSource, UsageStatus
from .services import usage_set_cost

logger = logging.getLogger(__name__)

GENERATION_LOOKUP_DEADLINE_SECONDS = 60.0


def _client_for(log: AIUsageLog):  # type: ignore[no-untyped-def]
    if log.provider == Provider.SYSTEM:
        return system_client(deadline=GENERATION_LOOKUP_DEADLINE_SECONDS)
    settings_row = ai_settings_get(user=log.user)
    if settings_row is None or not settings_row.openrouter_api_key:
        return None
    return openrouter_client(settings_row.openrouter_api_key, deadline=GENERATION_LOOKUP_DEADLINE_SECONDS)


def usage_cost_settle(*, log_id: int) -> CostSource | None:
    """Fill a row's missing or estimated cost: ``/generation`` first, then catalogue prices.

    Idempotent (a settled row is left alone). Returns the cost source written, if any.
    """
    log = AIUsageLog.objects.select_related("user").filter(pk=log_id).first()
    settled = (CostSource.PROVIDER_REPORTED, CostSource.GENERATION_LOOKUP, CostSource.COMPUTED)
    if log is None or (log.cost_usd is not None and log.cost_source in settled):
        return None
    if log.generation_id:
        try:
            client = _client_for(log)
        except DecryptionError:
            client = None
        if client is not None:
            with client:
                try:
                    generation = client.generation(
                        log.generation_id, deadline=GENERATION_LOOKUP_DEADLINE_SECONDS
                    )
                except OpenRouterError as exc:
                    logger.info("generation lookup for usage row %s failed: %s", log.pk, exc.code)
                else:
                    if generation.cost is not None and usage_set_cost(
                        log_id=log.pk, cost_usd=generation.cost, cost_source=CostSource.GENERATION_LOOKUP
                    ):
                        return CostSource.GENERATION_LOOKUP
    computed = cost_from_prices(
        model_id=log.model,
        prompt_tokens=log.prompt_tokens,
        completion_tokens=log.completion_tokens,
        cached_tokens=log.cached_tokens,
    )
    has_tokens = bool(log.prompt_tokens or log.completion_tokens)
    if (
        computed is not None
        and has_tokens
        and usage_set_cost(log_id=log.pk, cost_usd=computed, cost_source=CostSource.COMPUTED)
    ):
        return CostSource.COMPUTED
    return None


SETTLEMENT_LOOKBACK = dt.timedelta(days=2)


def usage_settlement_fan_out(*, now: dt.datetime | None = None) -> int:
    """Queue :func:`usage_cost_settle` for finished rows of the last two days that kept a
    generation id but have no final cost (billed failures, estimates). Safe to overlap: settling
    is idempotent. Returns the number queued."""
    from .tasks import settle_cost

    since = (now or timezone.now()) - SETTLEMENT_LOOKBACK
    # cross-tenant: a maintenance job over every tenant's unsettled rows.
    ids = list(
        AIUsageLog.objects.filter(
            generation_id__isnull=False,
            cost_source__in=[CostSource.UNPRICED, CostSource.ESTIMATED],
            created_at__gte=since,
        )
        .exclude(status=UsageStatus.PENDING)
        .values_list("pk", flat=True)[:5000]
    )
    for log_id in ids:
        settle_cost.delay(log_id=log_id)
    return len(ids)
