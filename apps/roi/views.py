from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def settings_page(request: HttpRequest) -> HttpResponse:
    return render(request, "roi/settings.html", {"tab": request.GET.get("tab", "roi")})
