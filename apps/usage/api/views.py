"""The ledger for partners: read-only, the caller's rows only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.periods import PeriodQuerySerializer
from apps.core.api.viewsets import ScopedViewSetMixin
from apps.usage.models import AIUsageLog
from apps.usage.selectors import usage_logs, usage_summary

from .serializers import (
    LOGS_MAX_DAYS,
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
    max_page_size = 500

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
