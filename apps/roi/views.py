"""ROI settings: revenue inputs (bookings) and where AI cost comes from."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.core.periods import Period
from apps.usage.selectors import usage_summary

from .forms import BookingForm
from .models import Booking
from .services import booking_create

RECENT_BOOKINGS = 20


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    form = BookingForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        booking_create(user=request.user, **form.cleaned_data)
        messages.success(request, _("The booking was added."))
        return redirect(request.path + "?tab=roi")
    today = dt.datetime.now(dt.UTC).date()
    month_start = today.replace(day=1)
    bookings = Booking.objects.for_user(request.user)
    revenue = bookings.filter(date__gte=month_start, date__lte=today).aggregate(total=Sum("value_sek"))[
        "total"
    ]
    return render(
        request,
        "roi/settings.html",
        {
            "tab": "roi",
            "form": form,
            "bookings": list(bookings.order_by("-date", "-id")[:RECENT_BOOKINGS]),
            "month_revenue": revenue or 0,
            "ai": usage_summary(user=request.user, period=Period(month_start, today)).totals,
        },
    )
