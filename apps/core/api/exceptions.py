"""One error shape for the whole API: ``{"error": {"code": "...", "message": "...", "fields"?: {...}}}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .throttling import AnonThrottle

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A failure a service reports to a caller, with an HTTP status and a stable code."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        # Extra facts beside code and message in the error body (e.g. a budget's limit and reset).
        self.details = details or {}
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.headers = headers or {}


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_message(next(iter(detail.values())))
    return str(detail)


def error_body(
    code: str, message: str, fields: Any = None, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if details:
        body.update({k: v for k, v in details.items() if k not in body})
    return {"error": body}


def _anonymous_over_limit(context: dict[str, Any]) -> exceptions.Throttled | None:
    """Count a refused request (no or bad credentials) against the anonymous rate of its IP.

    DRF checks credentials before throttles, so a caller guessing tokens would otherwise get an
    endless stream of 401s; past the rate it gets 429 with Retry-After instead.
    """
    request, view = context.get("request"), context.get("view")
    if request is None or view is None:
        return None
    throttle = AnonThrottle()
    if throttle.allow_request(request, view):
        return None
    return exceptions.Throttled(wait=throttle.wait())


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        exc = _anonymous_over_limit(context) or exc
    if isinstance(exc, ServiceError):
        return Response(
            error_body(exc.code, exc.message, details=exc.details),
            status=exc.status_code,
            headers=exc.headers,
        )
    if isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE, DEBUG or not
        return Response(error_body("request_too_large", _("The request body is too large.")), status=413)
    if isinstance(exc, IntegrityError):
        # A uniqueness race the validators could not see: the row exists, tell the client so.
        return Response(error_body("conflict", _("This conflicts with an existing record.")), status=409)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else None
        message = _("Invalid input.") if fields else _first_message(exc.detail)
        response.data = error_body("invalid", message, fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response.data = error_body(code, _first_message(exc.detail))
    return response
