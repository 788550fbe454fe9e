from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "core/dashboard.html", {})


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: no database or provider calls, no data."""
    return JsonResponse({"status": "ok"})


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404s under /api/ answer in the API's error shape; pages get the HTML page."""
    if _wants_json(request):
        return JsonResponse({"error": {"code": "not_found", "message": str(_("Not found."))}}, status=404)
    return defaults.page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        message = str(_("Something went wrong on our side. It has been logged; please try again."))
        return JsonResponse({"error": {"code": "server_error", "message": message}}, status=500)
    return defaults.server_error(request)
