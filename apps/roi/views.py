"""ROI pages: the settings tab (fixed costs, bookings, CSV upload) and the ROI report."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.periods import Period, PeriodError, Preset, period_parse, utc_today
from apps.usage.selectors import usage_summary, use_case_label

from .forms import BookingForm, BookingUploadForm, ROISettingsForm
from .imports import ImportResult, UploadRejected, bookings_csv_import
from .models import Booking
from .selectors import MAX_REPORT_DAYS, RoiReport, roi_report_build, roi_settings_get
from .services import booking_create, roi_settings_update

BOOKINGS_PER_PAGE = 25


def _settings_url() -> str:
    return reverse("roi:settings") + "?tab=roi"


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Three forms on one tab, told apart by the ``form`` field: settings, booking (default), upload."""
    which = request.POST.get("form", "booking") if request.method == "POST" else None
    settings_form = ROISettingsForm(
        request.POST if which == "settings" else None, instance=roi_settings_get(user=request.user)
    )
    booking_form = BookingForm(request.POST if which == "booking" else None, user=request.user)
    upload_form = BookingUploadForm(request.POST, request.FILES) if which == "upload" else BookingUploadForm()
    upload_result: ImportResult | None = None
    if which == "settings" and settings_form.is_valid():
        roi_settings_update(
            user=request.user, values=settings_form.cleaned_data, ip_address=request.META.get("REMOTE_ADDR")
        )
        messages.success(request, _("The ROI settings were saved."))
        return redirect(_settings_url())
    if which == "booking" and booking_form.is_valid():
        booking_create(user=request.user, **booking_form.cleaned_data)
        messages.success(request, _("The booking was added."))
        return redirect(_settings_url())
    if which == "upload" and upload_form.is_valid():
        upload_result = _upload(request, upload_form)
        if upload_result is not None and upload_result.saved:
            messages.success(
                request,
                _("Imported %(n)s bookings: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.")
                % {
                    "n": upload_result.lines,
                    "created": upload_result.created,
                    "updated": upload_result.updated,
                    "unchanged": upload_result.unchanged,
                },
            )
            return redirect(_settings_url())
    context = {
        "tab": "roi",
        "settings_form": settings_form,
        "form": booking_form,
        "upload_form": upload_form,
        "upload_result": upload_result,
        **_settings_context(request),
    }
    # A refused upload is a 400 (the file as sent cannot be imported); form errors re-render as usual.
    refused = which == "upload"
    return render(request, "roi/settings.html", context, status=400 if refused else 200)


def _upload(request: HttpRequest, form: BookingUploadForm) -> ImportResult | None:
    try:
        return bookings_csv_import(user=request.user, raw=form.cleaned_data["file"].read())
    except UploadRejected as exc:
        form.add_error("file", exc.message)
        return None


def _settings_context(request: HttpRequest) -> dict[str, Any]:
    today = utc_today()
    month_start = today.replace(day=1)
    bookings = Booking.objects.for_user(request.user)
    revenue = bookings.filter(date__gte=month_start, date__lte=today).aggregate(total=Sum("value_sek"))[
        "total"
    ]
    page = Paginator(bookings.order_by("-date", "-id"), BOOKINGS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "bookings": list(page.object_list),
        "month_revenue": revenue or 0,
        "ai": usage_summary(user=request.user, period=Period(month_start, today), with_days=False).totals,
    }


def _chart(report: RoiReport) -> dict[str, Any]:
    """Per month: revenue against costs, with the AI part of the costs as its own stack (display floats)."""
    return {
        "labels": [m.month.strftime("%Y-%m") for m in report.months],
        "revenue": [float(m.revenue) for m in report.months],
        "fixed": [float(m.fixed_cost) for m in report.months],
        "ai": [float(m.ai_cost) for m in report.months],
        "names": {"revenue": _("Revenue"), "fixed": _("Fixed costs"), "ai": _("AI cost")},
    }


def _use_cases(report: RoiReport) -> list[dict[str, Any]]:
    return [
        {"label": use_case_label(row.use_case), "calls": row.calls, "total_sek": row.total_sek}
        for row in report.ai_by_use_case
    ]


@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    error: PeriodError | None = None
    try:
        period = period_parse(
            start=request.GET.get("start"),
            end=request.GET.get("end"),
            preset=request.GET.get("preset"),
            max_days=MAX_REPORT_DAYS,
        )
    except PeriodError as exc:
        error = exc
        period = period_parse(start=None, end=None)
    report = roi_report_build(user=request.user, period=period)
    return render(
        request,
        "roi/report.html",
        {
            "report": report,
            "period": period,
            "error": error,
            "presets": Preset.choices,
            "preset": request.GET.get("preset", ""),
            "chart": _chart(report),
            "use_cases": _use_cases(report),
            "export_url": reverse("roi-export") + f"?start={period.start}&end={period.end}",
        },
        status=400 if error else 200,
    )
