from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The main navigation, with the active area marked. Every area of the product is here."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"nav_items": []}
    items = [
        ("dashboard", _("Dashboard"), reverse("core:dashboard")),
        ("integrations", _("Integrations · AI"), reverse("integrations:index") + "?tab=ai"),
        ("openrouter", _("OpenRouter"), reverse("analytics:openrouter")),
        ("analytics", _("Analytics"), reverse("analytics:index")),
        ("ai", _("AI features"), reverse("ai_gateway:index")),
        ("roi", _("ROI report"), reverse("roi:report")),
        ("settings", _("ROI settings"), reverse("roi:settings") + "?tab=roi"),
    ]
    path = request.path
    nav = []
    for key, label, url in items:
        base = url.split("?")[0]
        active = path == base if key == "dashboard" else path.startswith(base)
        nav.append({"key": key, "label": label, "url": url, "active": active})
    return {"nav_items": nav}


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The caller's unread notifications (budget and credit alerts), read only if a page shows them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": []}
    from .models import Notification

    return {
        "unread_notifications": SimpleLazyObject(
            lambda: list(Notification.objects.for_user(user).filter(read_at__isnull=True)[:5])
        )
    }
