from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "core/dashboard.html", {})


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: no database or provider calls, no data."""
    return JsonResponse({"status": "ok"})
