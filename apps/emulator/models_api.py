"""``GET /models``: the public catalogue with the 2026 filters and paging."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from . import errors
from .catalogue import Catalogue
from .wsgi import Request, Response

MAX_LIMIT = 1000


def handle_models(catalogue: Catalogue, request: Request) -> Response:
    """No authentication at all: any key, an invalid key, or none gets the catalogue."""
    query = request.query
    paging = _paging(query)
    if isinstance(paging, Response):
        return paging
    models = [raw for raw in catalogue.raw_models if _matches(raw, query)]
    total = len(models)
    if paging is None:
        return Response.json(200, {"data": models, "total_count": total, "links": {"next": None}})
    offset, limit = paging
    page = models[offset : offset + limit]
    more = offset + limit < total
    next_link = _next_link(query, offset + limit, limit) if more else None
    return Response.json(200, {"data": page, "total_count": total, "links": {"next": next_link}})


def _paging(query: dict[str, str]) -> tuple[int, int] | Response | None:
    """``(offset, limit)``, or ``None`` when neither is given (then the full list is returned)."""
    if "offset" not in query and "limit" not in query:
        return None
    offset_text, limit_text = query.get("offset", "0"), query.get("limit", "500")
    if not (offset_text.isdigit() and limit_text.isdigit()) or not 1 <= int(limit_text) <= MAX_LIMIT:
        return errors.bad_request(f"offset must be >= 0 and limit between 1 and {MAX_LIMIT}")
    return int(offset_text), int(limit_text)


def _matches(raw: dict[str, Any], query: dict[str, str]) -> bool:
    architecture = raw.get("architecture") or {}
    outputs = set(architecture.get("output_modalities") or ["text"])
    wanted_outputs = _csv(query.get("output_modalities") or "text")
    if "all" not in wanted_outputs and not outputs & wanted_outputs:
        return False
    wanted_params = _csv(query.get("supported_parameters", ""))
    return wanted_params <= set(raw.get("supported_parameters") or [])


def _csv(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


def _next_link(query: dict[str, str], offset: int, limit: int) -> str:
    extra = {k: v for k, v in query.items() if k not in ("offset", "limit")}
    return "/api/v1/models?" + urlencode({"offset": offset, "limit": limit, **extra})


def models_not_found() -> Response:
    """Unknown routes under ``/api/v1/models/…`` answer JSON, unlike the rest of the site."""
    return errors.error_response(404, "Not Found")
