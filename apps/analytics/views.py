"""Dashboards. Read-only and thin: the period comes from ``apps.core.periods``, figures from selectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.core.periods import Period, PeriodError, Preset, period_parse, utc_today
from apps.integrations.account import account_credits_get
from apps.integrations.models import Provider
from apps.integrations.presenters import status_context
from apps.integrations.selectors import ai_settings_display_get, credit_snapshot_latest
from apps.usage.budgets import budget_status_for_page
from apps.usage.selectors import usage_recent, usage_summary

from . import selectors

TOP_AI_MODELS = 3
TOP_OPENROUTER_MODELS = 5


@dataclass(frozen=True)
class PeriodChoice:
    """The picker's state: the period shown, or the message for input that does not make one."""

    period: Period | None
    error: str
    error_field: str
    preset: str
    start: str
    end: str
    query: str


def period_choice(params: QueryDict) -> PeriodChoice:
    start, end = params.get("start", "")[:32], params.get("end", "")[:32]
    preset = params.get("preset", "")[:32]
    query = QueryDict(mutable=True)
    for name, value in (("start", start), ("end", end), ("preset", preset)):
        if value:
            query[name] = value
    try:
        period = period_parse(start=start, end=end, preset=preset or None)
    except PeriodError as exc:
        return PeriodChoice(None, exc.message, exc.field, preset, start, end, query.urlencode())
    if not (start or end):
        preset = preset or Preset.THIS_MONTH
    return PeriodChoice(period, "", "", preset, start, end, query.urlencode())


def _url_or_empty(name: str) -> str:
    """A URL another engineer's app provides once it is installed (empty until then)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _base_context(choice: PeriodChoice) -> dict[str, Any]:
    return {"choice": choice, "presets": Preset.choices}


def _live_context(request: HttpRequest, period: Period) -> dict[str, Any]:
    summary = usage_summary(user=request.user, period=period).for_provider(Provider.OPENROUTER)
    tracking = selectors.tracking_get(user=request.user, now=timezone.now())
    return {
        "summary": summary,
        "charts": selectors.chart_data(summary),
        "tracking": tracking,
        "quality": selectors.data_quality(summary),
        "sync": selectors.sync_status_get(user=request.user, period=period),
    }


@require_GET
def openrouter(request: HttpRequest) -> HttpResponse:
    choice = period_choice(request.GET)
    row = ai_settings_display_get(user=request.user)
    context = {
        **_base_context(choice),
        **status_context(row),
        "latest_snapshot": credit_snapshot_latest(user=request.user),
        "activity_url": _url_or_empty("analytics:activity_history"),
        "budget": budget_status_for_page(request),
    }
    if choice.period is None:
        return render(request, "analytics/openrouter.html", context, status=400)
    context.update(_live_context(request, choice.period))
    return render(request, "analytics/openrouter.html", context)


@require_GET
def openrouter_live(request: HttpRequest) -> HttpResponse:
    """The metrics, realtime indicator and chart data, polled every 10 s while the tab is visible."""
    choice = period_choice(request.GET)
    if choice.period is None:
        return render(request, "analytics/_period_error.html", {"choice": choice}, status=400)
    context = {
        **_base_context(choice),
        **_live_context(request, choice.period),
        # The page's tables come along out of band, so they never lag behind the metrics.
        "oob": True,
        "activity_url": _url_or_empty("analytics:activity_history"),
    }
    return render(request, "analytics/_openrouter_live.html", context)


@require_GET
def account_panel(request: HttpRequest) -> HttpResponse:
    """Credits, their history and the runway; polled every 60 s (the credits cache lives 60 s)."""
    row = ai_settings_display_get(user=request.user)
    configured = bool(row and (row.has_api_key or row.has_management_key))
    now = timezone.now()
    credits = account_credits_get(user=request.user) if configured else None
    remaining = credits.value.remaining if credits is not None and credits.value is not None else None
    history = selectors.credit_history(user=request.user, now=now)
    context = {
        "configured": configured,
        "credits": credits,
        "runway": selectors.runway_get(user=request.user, remaining_usd=remaining, today=utc_today()),
        "sparkline": selectors.sparkline(history),
        "history": history,
        "burn_days": selectors.BURN_DAYS,
    }
    return render(request, "analytics/_account_panel.html", context)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    choice = period_choice(request.GET)
    context: dict[str, Any] = {**_base_context(choice), "roi_settings_url": _url_or_empty("roi:settings")}
    if choice.period is None:
        return render(request, "analytics/index.html", context, status=400)
    summary = usage_summary(user=request.user, period=choice.period)
    openrouter_part = summary.for_provider(Provider.OPENROUTER)
    context.update(
        {
            "summary": summary,
            "charts": selectors.chart_data(summary),
            "distribution": selectors.cost_distribution(user=request.user, summary=summary),
            "top_models": selectors.top_models(summary, TOP_AI_MODELS),
            "openrouter": openrouter_part,
            "openrouter_top": selectors.top_models(openrouter_part, TOP_OPENROUTER_MODELS),
        }
    )
    return render(request, "analytics/index.html", context)


@require_GET
def overview_card(request: HttpRequest) -> HttpResponse:
    """This month: AI cost, calls, credits and runway, and the latest calls (the landing page)."""
    today = utc_today()
    summary = usage_summary(
        user=request.user, period=Period(today.replace(day=1), today), today=today, with_days=False
    )
    latest = credit_snapshot_latest(user=request.user)
    remaining = latest.remaining if latest is not None else None
    return render(
        request,
        "analytics/_overview.html",
        {
            "summary": summary,
            "recent": usage_recent(user=request.user, limit=5),
            "latest_snapshot": latest,
            "runway": selectors.runway_get(user=request.user, remaining_usd=remaining, today=today),
            "last_sync": selectors.last_sync_get(user=request.user),
        },
    )
