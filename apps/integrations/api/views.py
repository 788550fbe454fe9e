"""``/api/integrations/openrouter/…``: settings (keys write-only), connection test, account data.

Every view acts on the requesting user alone and takes no user id. Account values come from the
cached account services: a stale value is a 200 with ``stale: true`` and the reason; no value at
all is an error (409 when no key is configured, 429 when rate limited, 502 otherwise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.exceptions import ServiceError
from apps.core.api.pagination import PAGE_PARAMETERS, DefaultPagination
from apps.integrations.account import (
    PER_MILLION,
    Fetched,
    account_activity_get,
    account_credits_get,
    account_key_get,
    account_models_get,
    model_ids_known,
    models_filter,
)
from apps.integrations.connection import outcome_message
from apps.integrations.models import (
    SLOT_FIELDS,
    USE_CASE_MODEL_FIELDS,
    AISettings,
    KeySlot,
    KeySource,
    KeyStatus,
    Provider,
)
from apps.integrations.openrouter import ErrorCode, Model
from apps.integrations.selectors import ai_settings_display_get
from apps.integrations.services import ai_connection_test, ai_settings_update

from .serializers import (
    ActivityFilterSerializer,
    ActivityListResponseSerializer,
    AISettingsSerializer,
    AISettingsUpdateSerializer,
    ConnectionReportSerializer,
    ConnectionTestRequestSerializer,
    CreditsResponseSerializer,
    ErrorSerializer,
    KeyInfoResponseSerializer,
    ModelFilterSerializer,
    ModelListResponseSerializer,
)

TAGS = ["integrations"]
ACTIVITY_DAYS = 30
_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input."),
    409: OpenApiResponse(ErrorSerializer, description="No usable OpenRouter key is configured."),
    429: OpenApiResponse(ErrorSerializer, description="OpenRouter is rate limiting; see Retry-After."),
    502: OpenApiResponse(ErrorSerializer, description="OpenRouter failed and there is no last known value."),
}


def _client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR")


# ------------------------------------------------------------------ settings


def _key_state(row: AISettings | None, slot: KeySlot) -> dict[str, Any]:
    fields = SLOT_FIELDS[slot]
    last4 = getattr(row, fields.last4) if row else ""
    detail = getattr(row, fields.detail) if row and last4 else ""
    return {
        "configured": bool(last4),
        "last4": last4,
        "status": getattr(row, fields.status) if row and last4 else KeyStatus.UNVERIFIED,
        "status_detail": detail,
        "status_message": (
            outcome_message(detail, slot, platform=bool(row and row.has_platform_key)) if detail else ""
        ),
        "verified_at": getattr(row, fields.verified_at) if row and last4 else None,
    }


def _platform_key(row: AISettings | None) -> dict[str, Any] | None:
    if row is None or not row.has_platform_key:
        return None
    return {
        "limit_usd": row.platform_key_limit_usd,
        "limit_reset": "monthly",
        "disabled": row.platform_key_disabled,
    }


def settings_payload(row: AISettings | None) -> dict[str, Any]:
    return {
        "ai_provider": row.ai_provider if row else Provider.OPENROUTER,
        "use_system_fallback": bool(row and row.use_system_fallback),
        "default_model": row.default_model if row else "",
        "models": {uc: getattr(row, field) if row else "" for uc, field in USE_CASE_MODEL_FIELDS.items()},
        "api_key": _key_state(row, KeySlot.API),
        "api_key_source": row.api_key_source if row else KeySource.OWN,
        "platform_key": _platform_key(row),
        "management_key": _key_state(row, KeySlot.MANAGEMENT),
        "activity_whole_account": bool(row and row.activity_whole_account),
        "updated_at": row.updated_at if row else None,
    }


@method_decorator(sensitive_post_parameters("api_key", "management_key"), name="dispatch")
class OpenRouterSettingsView(APIView):
    @extend_schema(
        summary="Your OpenRouter settings (keys shown as last 4 only)",
        tags=TAGS,
        responses={200: AISettingsSerializer},
    )
    def get(self, request: Request) -> Response:
        row = ai_settings_display_get(user=request.user)
        return Response(AISettingsSerializer(settings_payload(row)).data)

    @extend_schema(
        summary="Change your OpenRouter settings",
        description=(
            "Every field is optional; what is left out keeps its value. Keys are write-only: a "
            "non-empty key replaces the stored one (and is tested right away; see the key states "
            "in the response), `remove_*` deletes one. Model ids must be in OpenRouter's catalogue. "
            "`activity_whole_account` chooses what the activity sync reads. "
            "Unknown fields are refused."
        ),
        tags=TAGS,
        request=AISettingsUpdateSerializer,
        responses={200: AISettingsSerializer, 400: _ERRORS[400]},
    )
    @method_decorator(sensitive_variables())
    def put(self, request: Request) -> Response:
        data = request.data
        wants_models = isinstance(data, dict) and ("default_model" in data or "models" in data)
        serializer = AISettingsUpdateSerializer(
            data=data, known_models=model_ids_known() if wants_models else None
        )
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        saved = ai_settings_update(
            user=request.user,
            actor=request.user,
            api_key=values.get("api_key") or None,
            management_key=values.get("management_key") or None,
            remove_api_key=values.get("remove_api_key", False),
            remove_management_key=values.get("remove_management_key", False),
            ai_provider=values.get("ai_provider"),
            use_system_fallback=values.get("use_system_fallback"),
            default_model=values.get("default_model"),
            use_case_models=values.get("models"),
            activity_whole_account=values.get("activity_whole_account"),
            ip_address=_client_ip(request),
        )
        return Response(AISettingsSerializer(settings_payload(saved.settings)).data)


@method_decorator(sensitive_post_parameters("api_key", "management_key"), name="dispatch")
class ConnectionTestView(APIView):
    @extend_schema(
        summary="Test your OpenRouter keys",
        description=(
            "Tests the keys in the body (not saved) or, for each key left out, the stored one. "
            "Each key gets an outcome: ok, not_configured, unreadable, invalid_key, "
            "management_key_in_api_field, inference_key_in_management_field, out_of_credits, "
            "key_limit, rate_limited or unreachable. Results for stored keys are recorded."
        ),
        tags=TAGS,
        request=ConnectionTestRequestSerializer,
        responses={200: ConnectionReportSerializer, 400: _ERRORS[400]},
    )
    @method_decorator(sensitive_variables())
    def post(self, request: Request) -> Response:
        serializer = ConnectionTestRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = ai_connection_test(
            user=request.user,
            api_key=serializer.validated_data.get("api_key") or None,
            management_key=serializer.validated_data.get("management_key") or None,
        )
        return Response(ConnectionReportSerializer(report).data)


# ------------------------------------------------------------------ account


def _status_for(code: str) -> int:
    if code in ("openrouter_key_missing", "openrouter_key_unreadable"):
        return 409
    if code == ErrorCode.RATE_LIMITED:
        return 429
    return 502


def _freshness(fetched: Fetched[Any]) -> dict[str, Any]:
    """The freshness fields; raises the error response when there is no value at all."""
    if fetched.value is None:
        problem = fetched.problem
        code = problem.code if problem else "unavailable"
        message = problem.message if problem else _("OpenRouter returned nothing.")
        status = _status_for(code)
        headers = {"Retry-After": "60"} if status == 429 else None
        raise ServiceError(message, code=code, status_code=status, headers=headers)
    problem = fetched.problem
    return {
        "fetched_at": fetched.fetched_at,
        "age_seconds": fetched.age_seconds(),
        "stale": fetched.stale,
        "problem": {"code": problem.code, "message": problem.message} if problem else None,
    }


class CreditsView(APIView):
    @extend_schema(
        summary="What you have left to spend on OpenRouter (cached 60 s)",
        description=(
            "With a management key: the account balance from OpenRouter's /credits "
            "(`source: account`). Without one: the API key's own remaining limit and usage from "
            "/key (`source: key_limit`)."
        ),
        tags=TAGS,
        responses={200: CreditsResponseSerializer, 409: _ERRORS[409], 429: _ERRORS[429], 502: _ERRORS[502]},
    )
    def get(self, request: Request) -> Response:
        fetched = account_credits_get(user=request.user)
        meta = _freshness(fetched)
        return Response(CreditsResponseSerializer({**meta, "data": asdict(fetched.value)}).data)  # type: ignore[arg-type]


class KeyInfoView(APIView):
    @extend_schema(
        summary="Your API key's limit and usage (cached 5 min)",
        tags=TAGS,
        responses={200: KeyInfoResponseSerializer, 409: _ERRORS[409], 429: _ERRORS[429], 502: _ERRORS[502]},
    )
    def get(self, request: Request) -> Response:
        fetched = account_key_get(user=request.user)
        meta = _freshness(fetched)
        return Response(KeyInfoResponseSerializer({**meta, "data": fetched.value}).data)


def _per_million(price: Decimal, variable: bool) -> Decimal | None:
    return None if variable else price * PER_MILLION


def _model_row(model: Model) -> dict[str, Any]:
    pricing = model.pricing
    variable = pricing.is_variable
    return {
        "id": model.id,
        "canonical_slug": model.canonical_slug,
        "name": model.name or model.id,
        "context_length": model.context_length,
        "input_modalities": model.architecture.input_modalities,
        "output_modalities": model.architecture.output_modalities,
        "prompt_price_per_million": _per_million(pricing.prompt, variable),
        "completion_price_per_million": _per_million(pricing.completion, variable),
        "is_free": pricing.is_free,
        "variable_pricing": variable,
    }


def _paginated(request: Request, view: APIView, rows: list[Any], meta: dict[str, Any]) -> dict[str, Any]:
    paginator = DefaultPagination()
    page = paginator.paginate_queryset(rows, request, view=view) or []  # type: ignore[arg-type]
    assert paginator.page is not None
    return {
        **meta,
        "count": paginator.page.paginator.count,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
        "results": page,
    }


class ModelsView(APIView):
    @extend_schema(
        summary="OpenRouter's models with prices per million tokens (cached 1 h)",
        description="Sorted by id. Filters: `search` (id or name), `modality`, `max_price` (USD/M).",
        tags=TAGS,
        parameters=[ModelFilterSerializer, *PAGE_PARAMETERS],
        responses={200: ModelListResponseSerializer, 400: _ERRORS[400], 429: _ERRORS[429], 502: _ERRORS[502]},
    )
    def get(self, request: Request) -> Response:
        filters = ModelFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        fetched = account_models_get()
        meta = _freshness(fetched)
        found = models_filter(fetched.value.data, **filters.validated_data)  # type: ignore[union-attr]
        body = _paginated(request, self, [_model_row(m) for m in found], meta)
        return Response(ModelListResponseSerializer(body).data)


def _activity_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The completed UTC days OpenRouter reports: the last 30, today excluded."""
    return today - dt.timedelta(days=ACTIVITY_DAYS), today - dt.timedelta(days=1)


class ActivityView(APIView):
    @extend_schema(
        summary="OpenRouter's spend per day and model, last 30 completed UTC days (cached 1 min)",
        description="Needs a management key. Newest day first, then by spend. Optional `date`.",
        tags=TAGS,
        parameters=[ActivityFilterSerializer, *PAGE_PARAMETERS],
        responses={
            200: ActivityListResponseSerializer,
            400: _ERRORS[400],
            409: _ERRORS[409],
            429: _ERRORS[429],
            502: _ERRORS[502],
        },
    )
    def get(self, request: Request) -> Response:
        filters = ActivityFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        day: dt.date | None = filters.validated_data.get("date")
        first, last = _activity_window(timezone.now().date())
        if day is not None and not first <= day <= last:
            raise ServiceError(
                _("Choose a date between %(first)s and %(last)s (completed UTC days).")
                % {"first": first.isoformat(), "last": last.isoformat()},
                code="invalid",
            )
        fetched = account_activity_get(user=request.user, date=day)
        meta = _freshness(fetched)
        body = _paginated(request, self, list(fetched.value or []), meta)
        return Response(ActivityListResponseSerializer(body).data)
