"""The budget banner on every page: shown while the tenant's budget degrades, blocks or is exceeded."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .budgets import budget_status_for_page


def budget_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"budget_banner": None}

    def state() -> Any:
        status = budget_status_for_page(request)
        return status if status is not None and status.over else None

    # Read only when a page renders the banner (not for htmx partials).
    return {"budget_banner": SimpleLazyObject(state)}
