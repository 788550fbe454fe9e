"""The admin's Platform key page actions: read the posted action, call one service, say what happened.

Thin on purpose: every rule (limits, nothing half-created, audit) is in :mod:`.platform_keys`.
Messages name the key by its last 4 characters and hash only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from apps.core.formatting import format_sek

from .limit_agreement import budget_align_to_key, key_limit_align_to_budget
from .models import AISettings
from .platform_keys import (
    PlatformKeyError,
    PlatformKeyResult,
    platform_key_create,
    platform_key_delete,
    platform_key_disabled_set,
    platform_key_limit_set,
    platform_key_rotate,
)

Action = Callable[..., PlatformKeyResult]


def _limit(request: HttpRequest) -> str:
    return request.POST.get("limit_usd", "")[:30]


_ACTIONS: dict[str, Callable[[HttpRequest], tuple[Action, dict[str, Any]]]] = {
    "create": lambda r: (platform_key_create, {"limit_usd": _limit(r)}),
    "rotate": lambda r: (platform_key_rotate, {}),
    "limit": lambda r: (platform_key_limit_set, {"limit_usd": _limit(r)}),
    "disable": lambda r: (platform_key_disabled_set, {"disabled": True}),
    "enable": lambda r: (platform_key_disabled_set, {"disabled": False}),
    "delete": lambda r: (platform_key_delete, {}),
    "key_from_budget": lambda r: (key_limit_align_to_budget, {}),
}


def _done_message(name: str, result: PlatformKeyResult) -> str:
    values = {"last4": result.last4, "limit": result.limit_usd}
    texts = {
        "create": _("Created platform key …%(last4)s with a monthly limit of %(limit)s USD."),
        "rotate": _("Rotated: the tenant now uses platform key …%(last4)s; the old key was deleted."),
        "limit": _("The monthly limit of platform key …%(last4)s is now %(limit)s USD."),
        "disable": _("Disabled platform key …%(last4)s: the tenant's AI calls are refused."),
        "enable": _("Enabled platform key …%(last4)s again."),
        "delete": _("Deleted platform key …%(last4)s, at OpenRouter and here."),
        "key_from_budget": _(
            "The monthly limit of platform key …%(last4)s is now %(limit)s USD, the tenant's budget at today's rate."
        ),
    }
    return texts[name] % values


def platform_key_action_run(request: HttpRequest, row: AISettings) -> None:
    """Run the posted action for ``row``'s tenant and leave a message (success, warning or error)."""
    name = request.POST.get("action", "")
    if name == "budget_from_key":
        _budget_align(request, row)
        return
    if name not in _ACTIONS:
        messages.error(request, _("Unknown action."))
        return
    service, arguments = _ACTIONS[name](request)
    if name == "key_from_budget":
        arguments["row"] = row
    try:
        result = service(
            user=row.user, actor=request.user, ip_address=request.META.get("REMOTE_ADDR"), **arguments
        )
    except PlatformKeyError as exc:
        messages.error(request, exc.message)
        return
    if result.warning:
        messages.warning(request, result.warning)
    else:
        messages.success(request, _done_message(name, result))
    if name == "limit" and request.POST.get("align_budget"):
        # Staff asked for both limits to agree: the budget follows the key's new limit.
        row.refresh_from_db(fields=["platform_key_limit_usd"])
        _budget_align(request, row)


def _budget_align(request: HttpRequest, row: AISettings) -> None:
    """Set the tenant's budget to the key's limit at today's rate, and say so."""
    try:
        limit_sek = budget_align_to_key(
            user=row.user, actor=request.user, row=row, ip_address=request.META.get("REMOTE_ADDR")
        )
    except PlatformKeyError as exc:
        messages.error(request, exc.message)
        return
    messages.success(
        request,
        _("The tenant's monthly budget is now %(limit)s, the key's limit at today's rate.")
        % {"limit": format_sek(limit_sek)},
    )
