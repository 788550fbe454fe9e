from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST

from .models import Notification
from .services import notification_mark_read


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


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400s Django raises itself (e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE, which is a 413)."""
    too_big = isinstance(exception, RequestDataTooBig)
    if _wants_json(request):
        if too_big:
            body = {"code": "request_too_large", "message": str(_("The request body is too large."))}
            return JsonResponse({"error": body}, status=413)
        return JsonResponse({"error": {"code": "bad_request", "message": str(_("Bad request."))}}, status=400)
    response = defaults.bad_request(request, exception or SuspiciousOperation())
    if too_big:
        response.status_code = 413
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        message = str(_("Something went wrong on our side. It has been logged; please try again."))
        return JsonResponse({"error": {"code": "server_error", "message": message}}, status=500)
    return defaults.server_error(request)


@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Dismiss one of the caller's notifications (another user's is a 404)."""
    marked = notification_mark_read(user=request.user, notification_id=notification_id)
    if not marked and not Notification.objects.for_user(request.user).filter(pk=notification_id).exists():
        raise Http404
    if getattr(request, "htmx", False):
        return HttpResponse("")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("core:dashboard")
    return redirect(target)
