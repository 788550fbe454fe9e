"""Key information (``/key``, ``/auth/key``), ``/credits`` and key management (``/keys``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from . import errors
from .admission import free_requests_today
from .core import Core
from .ids import key_hash, key_label, new_key
from .state import ZERO, ApiKey, KeyKind, LimitReset, next_reset, window_start
from .timefmt import iso, iso_millis_z, parse_utc
from .wsgi import Request, Response

PAGE_SIZE = 100
_RESETS = {None, *(r.value for r in LimitReset)}


def handle_credits(core: Core, request: Request) -> Response:
    key = core.authenticate(request)
    if isinstance(key, Response):
        return key
    mode = core.config.credits_mode
    if not key.is_management and mode == "strict":
        return errors.management_only()
    account = key.account
    zeros = not key.is_management and mode == "zeros"
    with core.state.lock:
        data = {
            "total_credits": ZERO if zeros else account.credits,
            "total_usage": ZERO if zeros else account.usage,
        }
    return Response.json(200, {"data": data})


def handle_key(core: Core, request: Request) -> Response:
    key = core.authenticate(request)
    if isinstance(key, Response):
        return key
    with core.state.lock:
        return Response.json(200, {"data": key_info(key, core.now())})


def key_info(key: ApiKey, now: datetime) -> dict[str, Any]:
    """The ``/key`` body, in the live field order (``examples/key.json``)."""
    account = key.account
    data: dict[str, Any] = {"label": key.label, "is_management_key": key.is_management}
    data["is_provisioning_key"] = key.is_management  # the pre-2026 name, still sent
    data.update(_limit_fields(key, now, limit_first=True))
    data.update(_usage_fields(key, now))
    data["is_free_tier"] = account.is_free_tier
    data["expires_at"] = iso(key.expires_at)
    data["creator_user_id"] = account.user_id
    data["rate_limit"] = {
        "requests": -1,
        "interval": "10s",
        "note": "This field is deprecated and safe to ignore.",
    }
    data["allowed_data_regions"] = ["global"]
    budget = _budget(key, now)
    data["budgets"] = [budget] if budget else []
    data["effective_budget"] = budget
    used = free_requests_today(account, now)
    limit = account.free_daily_limit
    data["free_model_daily_requests"] = {"limit": limit, "remaining": max(limit - used, 0), "used": used}
    data["organization_id"] = None
    data["workspace_id"] = account.workspace_id
    return data


def _limit_fields(key: ApiKey, now: datetime, *, limit_first: bool) -> dict[str, Any]:
    remaining = key.limit_remaining(now.date())
    if limit_first:  # /key order
        return {
            "limit": key.limit,
            "limit_reset": key.limit_reset,
            "limit_remaining": remaining,
            "include_byok_in_limit": key.include_byok_in_limit,
        }
    return {  # key-object order
        "limit": key.limit,
        "limit_remaining": remaining,
        "limit_reset": key.limit_reset,
        "include_byok_in_limit": key.include_byok_in_limit,
    }


def _usage_fields(key: ApiKey, now: datetime) -> dict[str, Any]:
    today = now.date()
    return {
        "usage": key.usage,
        "usage_daily": key.usage_since(today),
        "usage_weekly": key.usage_since(window_start(today, LimitReset.WEEKLY)),
        "usage_monthly": key.usage_since(window_start(today, LimitReset.MONTHLY)),
        # The emulator has no BYOK traffic.
        "byok_usage": ZERO,
        "byok_usage_daily": ZERO,
        "byok_usage_weekly": ZERO,
        "byok_usage_monthly": ZERO,
    }


def _budget(key: ApiKey, now: datetime) -> dict[str, Any] | None:
    """The key's own limit as a ``key_limit`` budget; ``None`` without a limit."""
    if key.limit is None:
        return None
    today = now.date()
    return {
        "budget_id": None,
        "guardrail_id": None,
        "include_byok": key.include_byok_in_limit,
        "limit_usd": key.limit,
        "remaining_usd": key.limit_remaining(today),
        "reset_interval": key.limit_reset,
        "resets_at": iso_millis_z(next_reset(today, key.limit_reset)),
        "scope": "key_limit",
        "spend_usd": key.window_usage(today),
    }


def key_object(key: ApiKey, now: datetime) -> dict[str, Any]:
    """A key as ``/keys`` lists it (``examples/keys_list.json``); never the plaintext."""
    data: dict[str, Any] = {"hash": key.hash, "name": key.name, "label": key.label, "disabled": key.disabled}
    data.update(_limit_fields(key, now, limit_first=False))
    data.update(_usage_fields(key, now))
    data["created_at"] = iso(key.created_at)
    data["updated_at"] = iso(key.updated_at)
    data["expires_at"] = iso(key.expires_at)
    data["creator_user_id"] = key.account.user_id
    data["workspace_id"] = key.account.workspace_id
    data["external_user"] = None
    data["last_used_at"] = iso(key.last_used_at)
    return data


# --- /keys ------------------------------------------------------------------------------------


def handle_keys(core: Core, request: Request, key_hash_part: str | None) -> Response:
    manager = core.authenticate_management(request)
    if isinstance(manager, Response):
        return manager
    if key_hash_part is None:
        return (
            _list_keys(core, request, manager)
            if request.method == "GET"
            else _create_key(core, request, manager)
        )
    with core.state.lock:
        target = core.state.keys.get(key_hash_part)
        if target is None or target.deleted or target.account is not manager.account or target.is_management:
            return errors.error_response(404, "Key not found", code_first=True)
        if request.method == "GET":
            return Response.json(200, {"data": key_object(target, core.now())})
        if request.method == "DELETE":
            target.deleted = True
            return Response.json(200, {"deleted": True})
        return _update_key(core, request, target)


def _list_keys(core: Core, request: Request, manager: ApiKey) -> Response:
    include_disabled = request.query.get("include_disabled", "false").lower() in ("true", "1")
    offset_text = request.query.get("offset", "0")
    if not offset_text.isdigit():
        return errors.bad_request("offset must be a non-negative integer")
    offset = int(offset_text)
    with core.state.lock:
        keys = core.state.account_keys(manager.account, KeyKind.INFERENCE)
        # Most recent first; keys created in the same instant keep reverse creation order.
        keys = [k for k in reversed(keys) if include_disabled or not k.disabled]
        keys.sort(key=lambda k: k.created_at, reverse=True)
        now = core.now()
        page = [key_object(k, now) for k in keys[offset : offset + PAGE_SIZE]]
    return Response.json(200, {"data": page})


def _create_key(core: Core, request: Request, manager: ApiKey) -> Response:
    fields = _key_fields(request, creating=True)
    if isinstance(fields, Response):
        return fields
    plaintext = new_key()
    with core.state.lock:
        now = core.now()
        if fields.get("expires_at") is not None and fields["expires_at"] <= now:
            return errors.bad_request("expires_at must be in the future")
        key = ApiKey(
            hash=key_hash(plaintext),
            label=key_label(plaintext),
            kind=KeyKind.INFERENCE,
            name=fields["name"],
            account=manager.account,
            created_at=now,
        )
        _apply(key, fields)
        core.state.keys[key.hash] = key
        # The plaintext key is in this response and nowhere else, ever.
        return Response.json(201, {"data": key_object(key, now), "key": plaintext})


def _update_key(core: Core, request: Request, key: ApiKey) -> Response:
    fields = _key_fields(request, creating=False)
    if isinstance(fields, Response):
        return fields
    _apply(key, fields)
    now = core.now()
    key.updated_at = now
    return Response.json(200, {"data": key_object(key, now)})


def _apply(key: ApiKey, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(key, name, value)


def _key_fields(request: Request, *, creating: bool) -> dict[str, Any] | Response:
    """Validated fields of a create or update body, keyed by ``ApiKey`` attribute."""
    body = request.json_or_none()
    if not isinstance(body, dict):
        return errors.bad_request("Request body must be a JSON object")
    allowed = ("name", "limit", "limit_reset", "include_byok_in_limit", "expires_at")
    fields = {name: body[name] for name in (*allowed, *(() if creating else ("disabled",))) if name in body}
    if creating and not isinstance(body.get("name"), str):
        return errors.bad_request("name is required")
    problem = _field_problem(fields)
    if problem:
        return errors.bad_request(problem)
    return _converted(fields)


def _field_problem(fields: dict[str, Any]) -> str | None:
    name = fields.get("name", "x")
    if not isinstance(name, str) or not name.strip():
        return "name must be a non-empty string"
    if fields.get("limit_reset") not in _RESETS:
        return "limit_reset must be one of daily, weekly, monthly or null"
    for flag in ("include_byok_in_limit", "disabled"):
        if flag in fields and not isinstance(fields[flag], bool):
            return f"{flag} must be a boolean"
    limit = fields.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 0):
        return "limit must be a non-negative number or null"
    expires = fields.get("expires_at")
    if expires is not None and not isinstance(expires, str):
        return "expires_at must be an ISO-8601 UTC timestamp"
    return None


def _converted(fields: dict[str, Any]) -> dict[str, Any] | Response:
    converted = dict(fields)
    if converted.get("limit") is not None:
        try:
            converted["limit"] = Decimal(str(converted["limit"]))
        except InvalidOperation:
            return errors.bad_request("limit must be a number")
    if converted.get("expires_at") is not None:
        try:
            converted["expires_at"] = parse_utc(converted["expires_at"])
        except ValueError:
            return errors.bad_request("expires_at must be an ISO-8601 timestamp in UTC")
    return converted
