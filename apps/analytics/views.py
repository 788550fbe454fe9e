"""Dashboards. Read-only: everything comes from ledger selectors, scoped to the user."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from apps.core.periods import PeriodError, period_parse
from apps.integrations.models import Provider, UseCase
from apps.usage.selectors import UsageSummary, usage_recent, usage_summary

MAX_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def period(self) -> tuple[dt.date, dt.date]:
        """The chosen UTC days, defaulting to this month; invalid input falls back to the default."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        try:  # the one period rule: dates outside 2000..2099 (e.g. 9999-12-31) never reach a query
            period = period_parse(start=data.get("start"), end=data.get("end"), max_days=MAX_DAYS)
        except PeriodError:
            period = period_parse(start=None, end=None)
        return period.start, period.end


def _daily_series(summary: UsageSummary) -> dict[str, list[Any]]:
    """Every day of the period, zero where nothing was spent, so the trend reads true."""
    spent = {row["day"]: float(row["cost_sek"]) for row in summary.by_day}
    days = [summary.start + dt.timedelta(days=n) for n in range((summary.end - summary.start).days + 1)]
    return {"labels": [d.isoformat() for d in days], "values": [spent.get(d, 0.0) for d in days]}


def _chart_data(summary: UsageSummary) -> dict[str, Any]:
    labels = dict(UseCase.choices)
    return {
        "by_model": {
            "labels": [r["model"] for r in summary.by_model],
            "values": [float(r["cost_usd"]) for r in summary.by_model],
        },
        "by_use_case": {
            "labels": [str(labels.get(r["use_case"], r["use_case"])) for r in summary.by_use_case],
            "values": [float(r["cost_usd"]) for r in summary.by_use_case],
        },
        "by_day": _daily_series(summary),
    }


def _dashboard(request: HttpRequest, *, template: str, provider: str | None) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    if not form.is_bound:
        form = PeriodForm(initial={"start": start, "end": end})
    summary = usage_summary(user=request.user, start=start, end=end, provider=provider)
    return render(
        request,
        template,
        {
            "form": form,
            "summary": summary,
            "charts": _chart_data(summary),
            "use_case_labels": dict(UseCase.choices),
        },
    )


@require_GET
def overview_card(request: HttpRequest) -> HttpResponse:
    """This month's headline numbers and the latest calls, for the landing page (loaded by htmx)."""
    today = dt.datetime.now(dt.UTC).date()
    summary = usage_summary(user=request.user, start=today.replace(day=1), end=today)
    return render(
        request,
        "analytics/_overview.html",
        {
            "summary": summary,
            "recent": usage_recent(user=request.user, limit=5),
        },
    )


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, template="analytics/index.html", provider=None)


@require_GET
def openrouter(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, template="analytics/openrouter.html", provider=Provider.OPENROUTER)
