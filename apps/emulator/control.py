"""``/_emulator/…``: scripting the live server from another process (tests, benchmarks).

Only mounted when the emulator is built with ``control_endpoints=True`` (the management command
does this); these paths are never recorded in the request ledger.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from . import errors, jsonfmt
from .wsgi import Request, Response

if TYPE_CHECKING:
    from .emulator import Emulator


def handle_control(emulator: Emulator, request: Request) -> Response:
    route = (request.method, request.path.rstrip("/"))
    if route == ("POST", "/_emulator/faults"):
        return _add_fault(emulator, request)
    if route == ("GET", "/_emulator/faults"):
        return Response.json(200, {"faults": emulator.core.faults.pending()})
    if route == ("GET", "/_emulator/ledger"):
        return Response.json(200, _ledger(emulator))
    if route == ("POST", "/_emulator/reset"):
        emulator.reset_ledger()
        emulator.core.faults.clear()
        return Response.json(200, {"ok": True})
    if route == ("POST", "/_emulator/accounts"):
        return _add_account(emulator, request)
    if route == ("GET", "/_emulator/requests"):
        return Response.json(200, {"requests": _requests(emulator)})
    if route == ("POST", "/_emulator/clock"):
        return _set_clock(emulator, request)
    return errors.error_response(404, "Not Found")


def _add_fault(emulator: Emulator, request: Request) -> Response:
    """Body: ``{"kind", "times"?, "key_hash"?, "path"?, …params}``."""
    body = request.json_or_none()
    if not isinstance(body, dict) or not isinstance(body.get("kind"), str):
        return errors.bad_request("body must be a JSON object with a 'kind'")
    params = {k: v for k, v in body.items() if k not in ("kind", "times", "key_hash", "path")}
    try:
        fault = emulator.inject_for_hash(
            body["kind"],
            times=int(body.get("times", 1)),
            key_hash=body.get("key_hash"),
            path=str(body.get("path", "/chat/completions")),
            **params,
        )
    except (TypeError, ValueError) as exc:
        return errors.bad_request(str(exc))
    return Response.json(201, {"fault": fault.describe()})


def _ledger(emulator: Emulator) -> dict[str, Any]:
    generations = emulator.generations
    total = sum((g.cost for g in generations), Decimal(0))
    return {
        "requests": len(emulator.requests),
        "generations": [
            {
                "id": g.id,
                "key_hash": g.key_hash,
                "model": g.model,
                "prompt_tokens": g.prompt_tokens,
                "completion_tokens": g.completion_tokens,
                "reasoning_tokens": g.reasoning_tokens,
                "cached_tokens": g.cached_tokens,
                "cost": jsonfmt.decimal_text(g.cost),
                "streamed": g.streamed,
                "cancelled": g.cancelled,
                "finish_reason": g.finish_reason,
                "created_at": g.created_at.isoformat(),
            }
            for g in generations
        ],
        "total_cost": jsonfmt.decimal_text(total),
    }


def _requests(emulator: Emulator) -> list[dict[str, Any]]:
    """Every recorded request in order: method, path, key hash and (chat) model and stream flag."""
    return [
        {
            "method": r.method,
            "path": r.path,
            "key_hash": r.key_hash,
            "model": r.body.get("model") if isinstance(r.body, dict) else None,
            "stream": bool(r.body.get("stream")) if isinstance(r.body, dict) else False,
            "received_at": r.received_at.isoformat(),
        }
        for r in emulator.requests
    ]


def _set_clock(emulator: Emulator, request: Request) -> Response:
    """Body ``{"offset_seconds": N}``: the server's clock runs N seconds ahead of real time (0
    puts it back), so a live test can make today a completed day of ``/activity``."""
    body = request.json_or_none()
    offset = body.get("offset_seconds") if isinstance(body, dict) else None
    if isinstance(offset, bool) or not isinstance(offset, int | float) or abs(offset) > 400 * 86400:
        return errors.bad_request("offset_seconds must be a number of seconds (at most 400 days)")
    emulator.core.clock_offset = timedelta(seconds=offset)
    return Response.json(200, {"offset_seconds": offset, "now": emulator.core.now().isoformat()})


def _add_account(emulator: Emulator, request: Request) -> Response:
    """A fresh account with one key of each kind, for load tests that need isolation."""
    body = request.json_or_none()
    body = body if isinstance(body, dict) else {}
    try:
        credits = Decimal(str(body.get("credits", "100")))
    except InvalidOperation:
        return errors.bad_request("credits must be a number")
    account = emulator.add_account(credits=credits, is_free_tier=bool(body.get("is_free_tier", False)))
    keys = {
        kind: emulator.add_key(account, kind=kind, name=f"load-{kind}")
        for kind in ("inference", "management")
    }
    return Response.json(201, {"user_id": account.user_id, "keys": keys})
