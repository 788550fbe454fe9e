"""Settling one call's cost after the fact, through OpenRouter's ``GET /generation``.

A row whose response carried no cost (no usage, a cancelled or broken stream, a cost only
estimated) is settled once the call is committed: the cost and tokens ``/generation`` reports
replace the row's, else its recorded tokens are priced from the catalogue. Which figure wins is
decided in :mod:`apps.usage.cost`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from apps.core.crypto import DecryptionError
from apps.integrations.clients import openrouter_client, system_client
from apps.integrations.models import Provider
from apps.integrations.openrouter import Generation, OpenRouterClient, OpenRouterError
from apps.integrations.selectors import ai_settings_get

from .cost import cost_computed, cost_from_generation, cost_is_settled
from .models import AIUsageLog, CostSource, UsageStatus
from .services import TokenCounts, usage_set_cost

logger = logging.getLogger(__name__)

GENERATION_LOOKUP_DEADLINE_SECONDS = 60.0


def _client_for(log: AIUsageLog) -> OpenRouterClient | None:
    if log.provider == Provider.SYSTEM:
        return system_client(deadline=GENERATION_LOOKUP_DEADLINE_SECONDS)
    settings_row = ai_settings_get(user=log.user)
    if settings_row is None or not settings_row.openrouter_api_key:
        return None
    return openrouter_client(settings_row.openrouter_api_key, deadline=GENERATION_LOOKUP_DEADLINE_SECONDS)


def _generation_of(log: AIUsageLog) -> Generation | None:
    """``/generation``'s record of the row's call, or None when there is none to be had."""
    if not log.generation_id:
        return None
    try:
        client = _client_for(log)
    except DecryptionError:
        return None
    if client is None:
        return None
    with client:
        try:
            return client.generation(log.generation_id, deadline=GENERATION_LOOKUP_DEADLINE_SECONDS)
        except OpenRouterError as exc:
            logger.info("generation lookup for usage row %s failed: %s", log.pk, exc.code)
            return None


def tokens_of_generation(generation: Generation) -> TokenCounts | None:
    """The tokens ``/generation`` reports: prompt and completion, native reasoning and cached.

    None when it reports no token counts at all: the row keeps its own rather than zeros.
    """
    if generation.tokens_prompt is None and generation.tokens_completion is None:
        return None
    return TokenCounts(
        prompt=generation.tokens_prompt or 0,
        completion=generation.tokens_completion or 0,
        reasoning=generation.native_tokens_reasoning or 0,
        cached=generation.native_tokens_cached or 0,
    )


def usage_cost_settle(*, log_id: int) -> CostSource | None:
    """Fill a row's missing or estimated cost: ``/generation`` first, then catalogue prices.

    Settled through ``/generation``, the row takes its tokens too (a response without usage or a
    cancelled stream left 0). Idempotent (a settled row is left alone, without a request).
    Returns the cost source written, if any.
    """
    log = AIUsageLog.objects.select_related("user").filter(pk=log_id).first()
    if log is None or cost_is_settled(usd=log.cost_usd, source=log.cost_source):
        return None
    generation = _generation_of(log)
    if generation is not None:
        cost = cost_from_generation(generation)
        if usage_set_cost(log_id=log.pk, cost=cost, tokens=tokens_of_generation(generation)):
            return cost.source
    cost = cost_computed(
        model=log.model,
        prompt_tokens=log.prompt_tokens,
        completion_tokens=log.completion_tokens,
        cached_tokens=log.cached_tokens,
    )
    if usage_set_cost(log_id=log.pk, cost=cost):
        return cost.source
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
