"""The Activity history section of the OpenRouter dashboard: htmx partials, scoped to the user.

The section shows OpenRouter's own record per UTC day and model beside the ledger's figure, the
"Sync from OpenRouter" form and the state of the latest run (polled while it runs).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.core.periods import Period
from apps.integrations.selectors import ai_settings_display_get
from apps.usage.models import SyncRun, SyncTrigger
from apps.usage.sync import activity_window, sync_range_clamp, sync_run_request
from apps.usage.sync_selectors import (
    HistoryRow,
    activity_history,
    activity_history_days,
    sync_last_run,
    sync_run_get,
)

# Runs are polled this often (seconds) while queued or running.
POLL_SECONDS = 2


class SyncForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _chart(rows: list[HistoryRow], period: Period) -> dict[str, Any]:
    """Stacked bars: one dataset per model, one bar per UTC day of the period (USD)."""
    days = [day.isoformat() for day in period.each_day()]
    per_model: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        per_model[row.model][row.date.isoformat()] = float(row.billed_usd)
    return {
        "labels": days,
        "datasets": [
            {"label": model, "data": [spent.get(day, 0.0) for day in days]}
            for model, spent in sorted(per_model.items())
        ],
    }


def _run_context(run: SyncRun | None) -> dict[str, Any]:
    return {"run": run, "poll_seconds": POLL_SECONDS}


def _section(request: HttpRequest, *, notice: str = "") -> HttpResponse:
    settings_row = ai_settings_display_get(user=request.user)
    # A platform-key tenant's activity is read with the platform's management key.
    has_management_key = bool(
        settings_row and (settings_row.has_management_key or settings_row.has_platform_key)
    )
    first, last = activity_window()
    period = Period(first, last)
    rows = activity_history(user=request.user, period=period)
    return render(
        request,
        "analytics/partials/activity_history.html",
        {
            "has_management_key": has_management_key,
            # A platform-key tenant is always read filtered to its own key.
            "whole_account": bool(
                settings_row and settings_row.activity_whole_account and not settings_row.has_platform_key
            ),
            "period": period,
            "rows": rows,
            "days": activity_history_days(rows),
            "billed_total": sum((r.billed_usd for r in rows), Decimal(0)),
            "chart": _chart(rows, period),
            "form": SyncForm(initial={"start": first, "end": last}),
            "window": (first, last),
            "notice": notice,
            **_run_context(sync_last_run(user=request.user)),
        },
    )


@require_GET
def activity_history_section(request: HttpRequest) -> HttpResponse:
    return _section(request)


@require_GET
def activity_history_day(request: HttpRequest, day: str) -> HttpResponse:
    """One day of the history, unfolded into its models (or folded again with ``?open=0``).

    The table shows one row per UTC day; this swaps a day's ``<tbody>`` in place (htmx). A day
    without the user's records is a 404, so another tenant's day shows nothing.
    """
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    rows = activity_history(user=request.user, period=Period(date, date))
    if not rows:
        raise Http404
    return render(
        request,
        "analytics/partials/activity_day.html",
        {
            "day": activity_history_days(rows)[0],
            "models": rows,
            "open": request.GET.get("open") != "0",
        },
    )


@require_POST
def activity_sync_start(request: HttpRequest) -> HttpResponse:
    """Start (or join) a sync for the chosen range, clamped to OpenRouter's window (and said so)."""
    form = SyncForm(request.POST)
    if not form.is_valid():
        return _section(request, notice=_("Enter the dates as YYYY-MM-DD."))
    wanted_start, wanted_end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
    start, end = sync_range_clamp(start=wanted_start, end=wanted_end)
    notice = ""
    if (wanted_start and wanted_start != start) or (wanted_end and wanted_end != end):
        notice = _(
            "OpenRouter keeps the last 30 completed UTC days, so the range became %(start)s to %(end)s."
        ) % {
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
    if wanted_start and wanted_end and wanted_start > wanted_end:
        notice = _("The start was after the end; syncing %(start)s to %(end)s instead.") % {
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
    run, created = sync_run_request(user=request.user, start=start, end=end, trigger=SyncTrigger.MANUAL)
    if not created:
        notice = _("A sync is already running; showing its progress.")
    return render(
        request,
        "analytics/partials/activity_run.html",
        {**_run_context(run), "notice": notice, "fresh": True},
    )


@require_GET
def activity_sync_status(request: HttpRequest, run_id: int) -> HttpResponse:
    run = sync_run_get(user=request.user, run_id=run_id)
    if run is None:
        raise Http404
    return render(request, "analytics/partials/activity_run.html", {**_run_context(run), "fresh": True})


@require_GET
def activity_last_sync(request: HttpRequest) -> HttpResponse:
    """One line for the AI tab: the last sync's time and result, linking to the section."""
    return render(
        request, "analytics/partials/activity_last_sync.html", {"run": sync_last_run(user=request.user)}
    )
