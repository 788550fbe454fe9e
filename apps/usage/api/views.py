"""The ledger for partners: read-only, the caller's rows only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import MAX_PAGE_SIZE, PAGE_PARAMETERS, DefaultPagination, page_size_from
from apps.core.api.periods import PeriodQuerySerializer
from apps.core.api.schema import ErrorSerializer
from apps.core.api.viewsets import ScopedViewSetMixin
from apps.integrations.api.serializers import ActivityListResponseSerializer
from apps.integrations.api.views import ActivityView as LiveActivityView
from apps.usage.models import AIUsageLog, SyncRun, SyncTrigger
from apps.usage.selectors import usage_logs, usage_summary
from apps.usage.sync import sync_run_request
from apps.usage.sync_selectors import activity_records, sync_last_run

from .serializers import (
    LOGS_MAX_DAYS,
    StoredActivityFilterSerializer,
    SyncRequestSerializer,
    SyncRunSerializer,
    UsageLogFilterSerializer,
    UsageLogSerializer,
    UsageSummarySerializer,
)


class UsageLogPagination(CursorPagination):
    """Keyset pages, newest first: no COUNT over the whole ledger and no deep OFFSET, so a page of a
    million-row tenant costs what a page of a small one does. Follow ``next`` for older rows."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        return page_size_from(request, default=self.page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        cursor, size = super().get_schema_operation_parameters(view)
        return [cursor, {**size, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}}]

    def decode_cursor(self, request: Request) -> Cursor | None:
        # A cursor is input like any other: a bad one is a 400 naming it, never a 404 or a 500.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {"cursor": [_("This page link is not valid; start from the first page.")]}
            ) from None


@extend_schema_view(
    list=extend_schema(
        tags=["usage"], summary="Your AI calls, newest first", parameters=[UsageLogFilterSerializer]
    ),
    retrieve=extend_schema(tags=["usage"], summary="One AI call"),
)
class UsageLogViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):  # type: ignore[misc]
    """Read-only: the ledger is written by the system alone."""

    model = AIUsageLog
    serializer_class = UsageLogSerializer
    pagination_class = UsageLogPagination

    def get_base_queryset(self) -> QuerySet[Any]:
        if self.action != "list":
            return AIUsageLog.objects.all()
        params = UsageLogFilterSerializer(data=self.request.query_params, context={"max_days": LOGS_MAX_DAYS})
        params.is_valid(raise_exception=True)
        return usage_logs(user=self.request.user, filters=params.validated_data)


class UsageSummaryView(APIView):
    @extend_schema(
        tags=["usage"],
        summary="Totals, per model, per use case and per UTC day",
        parameters=[PeriodQuerySerializer],
        responses=UsageSummarySerializer,
    )
    def get(self, request: Request) -> Response:
        params = PeriodQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        summary = usage_summary(user=request.user, period=params.validated_data["period"])
        return Response(UsageSummarySerializer(summary).data)


@extend_schema_view(
    list=extend_schema(tags=["usage"], summary="Your recent OpenRouter activity syncs, newest first"),
    retrieve=extend_schema(tags=["usage"], summary="One sync: state and progress"),
    create=extend_schema(
        tags=["usage"],
        summary="Start a sync of OpenRouter's activity for a range of completed UTC days",
        description=(
            "Queues a sync of `start`..`end` (within the last 30 completed UTC days, never clamped: a "
            "range outside is a 400 saying what is allowed) and answers 202 with the run. If a sync is "
            "already queued or running for you, that run is returned instead (joined, not duplicated)."
        ),
        request=SyncRequestSerializer,
        responses={
            202: SyncRunSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid range."),
        },
    ),
)
class SyncRunViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # type: ignore[misc]
    """Your syncs of OpenRouter's activity. Runs are written by the sync alone: start one with
    POST, then poll it by id for its state and progress (days done of total)."""

    model = SyncRun
    serializer_class = SyncRunSerializer

    def get_base_queryset(self) -> QuerySet[Any]:
        return SyncRun.objects.order_by("-created_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = SyncRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        run, _created = sync_run_request(user=request.user, trigger=SyncTrigger.API, **params.validated_data)
        return Response(SyncRunSerializer(run).data, status=202)


class ActivityView(LiveActivityView):
    """OpenRouter's activity as last synced (stored records), or live with ``live=true``."""

    @extend_schema(
        summary="OpenRouter's spend per UTC day and model, as synced (or live with live=true)",
        description=(
            "By default the stored records of the last syncs (kept after days leave OpenRouter's "
            "30-day window), newest day first, then by spend; `fetched_at` is the last successful "
            "sync. With `live=true`: OpenRouter now, through the 1-minute cache (needs a management "
            "key; `date` must be within the last 30 completed UTC days)."
        ),
        tags=["integrations"],
        parameters=[StoredActivityFilterSerializer, *PAGE_PARAMETERS],
        responses={
            200: ActivityListResponseSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid input."),
            409: OpenApiResponse(ErrorSerializer, description="live=true without a management key."),
            429: OpenApiResponse(ErrorSerializer, description="OpenRouter is rate limiting."),
            502: OpenApiResponse(ErrorSerializer, description="OpenRouter failed."),
        },
    )
    def get(self, request: Request) -> Response:
        params = StoredActivityFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        if filters["live"]:
            return super().get(request)
        records = activity_records(
            user=request.user,
            start=filters.get("date") or filters.get("start"),
            end=filters.get("date") or filters.get("end"),
        )
        last = sync_last_run(user=request.user, succeeded=True)
        fetched_at = last.finished_at if last else None
        meta = {
            "fetched_at": fetched_at,
            "age_seconds": int((timezone.now() - fetched_at).total_seconds()) if fetched_at else None,
            "stale": False,
            "problem": None,
        }
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(records, request, view=self) or []
        assert paginator.page is not None
        body = {
            **meta,
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": page,
        }
        return Response(ActivityListResponseSerializer(body).data)
