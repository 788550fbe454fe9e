from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def openrouter(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/openrouter.html", {})


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/index.html", {})
