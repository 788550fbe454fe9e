"""The ROI API: fixed-cost settings, bookings (idempotent pushes by external id), the report, the CSV."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apps.core.api.viewsets import ScopedModelViewSet
from apps.roi.export import HEADERS, roi_csv_lines
from apps.roi.models import Booking
from apps.roi.selectors import roi_days, roi_report_build, roi_settings_get
from apps.roi.services import PushOutcome, booking_delete, bookings_upsert_many, roi_settings_update

from .serializers import (
    BookingBulkItemSerializer,
    BookingBulkSerializer,
    BookingFilterSerializer,
    BookingPushSerializer,
    BookingSerializer,
    BulkResultSerializer,
    ExternalIdSerializer,
    ReportQuerySerializer,
    ReportSerializer,
    ROISettingsSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List your bookings", tags=["roi"], parameters=[BookingFilterSerializer]),
    create=extend_schema(
        summary="Add a booking (an external id already in use is refused: push with PUT by external id)",
        tags=["roi"],
    ),
    retrieve=extend_schema(summary="One booking", tags=["roi"]),
    update=extend_schema(summary="Replace a booking", tags=["roi"]),
    partial_update=extend_schema(summary="Change a booking", tags=["roi"]),
    destroy=extend_schema(summary="Delete a booking", tags=["roi"]),
)
class BookingViewSet(ScopedModelViewSet):
    """Bookings (revenue). Partners push idempotently with ``PUT by-external-id/{external_id}/``."""

    model = Booking
    serializer_class = BookingSerializer

    def get_base_queryset(self) -> models.QuerySet[Any]:
        rows = Booking.objects.order_by("-date", "-id")
        if self.action != "list":
            return rows
        params = BookingFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        if params.validated_data.get("start"):
            rows = rows.filter(date__gte=params.validated_data["start"])
        if params.validated_data.get("end"):
            rows = rows.filter(date__lte=params.validated_data["end"])
        return rows

    def perform_destroy(self, instance: Booking) -> None:
        booking_delete(booking=instance)

    @extend_schema(
        tags=["roi"],
        summary="Push up to 1,000 bookings by external id, with a result per item",
        description=(
            "Each item is created or updated by its external id, like the PUT. Valid items are "
            "saved together in one transaction; invalid ones (and repeats of an external id within "
            "the request) are reported as rejected with their errors and change nothing."
        ),
        request=BookingBulkSerializer,
        responses={200: BulkResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        body = BookingBulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results, valid = _bulk_validate(body.validated_data["bookings"])
        for index, (outcome, booking) in zip(
            valid,
            bookings_upsert_many(user=request.user, items=[results[i]["item"] for i in valid]),
            strict=True,
        ):
            results[index] = {
                "index": index,
                "external_id": booking.external_id,
                "status": outcome,
                "id": booking.pk,
            }
        counts = {name: sum(1 for r in results if r["status"] == name) for name in _STATUSES}
        return Response({**counts, "items": results})


class BookingByExternalIdView(APIView):
    """``PUT /api/roi/bookings/by-external-id/{external_id}/``: the partner's idempotent push."""

    @extend_schema(
        tags=["roi"],
        summary="Create or update the booking with this external id (idempotent)",
        description=(
            "The idempotent way to push a booking: the external id (unique per user) names it. "
            "201 when it was created, 200 when it existed (updated or unchanged). Pushing the same "
            "booking twice leaves one booking."
        ),
        request=BookingPushSerializer,
        responses={200: BookingSerializer, 201: BookingSerializer},
    )
    def put(self, request: Request, external_id: str) -> Response:
        key = ExternalIdSerializer(data={"external_id": external_id})
        key.is_valid(raise_exception=True)
        item = BookingPushSerializer(data=request.data)
        item.is_valid(raise_exception=True)
        [(outcome, booking)] = bookings_upsert_many(
            user=request.user, items=[{**item.validated_data, **key.validated_data}]
        )
        code = status.HTTP_201_CREATED if outcome == PushOutcome.CREATED else status.HTTP_200_OK
        return Response(BookingSerializer(booking).data, status=code)


_STATUSES = (PushOutcome.CREATED, PushOutcome.UPDATED, PushOutcome.UNCHANGED, "rejected")


def _bulk_validate(raw_items: list[Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """Per item: its validated values, or a rejection with errors. Returns results and valid indexes."""
    results: list[dict[str, Any]] = []
    valid: list[int] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_items):
        item = BookingBulkItemSerializer(data=raw if isinstance(raw, dict) else {})
        external_id = (
            str(raw.get("external_id")) if isinstance(raw, dict) and raw.get("external_id") else None
        )
        if not isinstance(raw, dict):
            errors: dict[str, Any] = {"non_field_errors": [_("Each booking must be a JSON object.")]}
        elif not item.is_valid():
            errors = item.errors
        elif item.validated_data["external_id"] in seen:
            errors = {"external_id": [_("This external id appears earlier in the same request.")]}
        else:
            seen.add(item.validated_data["external_id"])
            valid.append(index)
            results.append({"item": item.validated_data})
            continue
        results.append({"index": index, "external_id": external_id, "status": "rejected", "errors": errors})
    return results, valid


class ROISettingsView(APIView):
    """Your fixed costs: telephony, SMS, e-mail and support per month, and the one-time integration."""

    @extend_schema(
        tags=["roi"], summary="Your ROI settings (fixed costs, SEK)", responses=ROISettingsSerializer
    )
    def get(self, request: Request) -> Response:
        return Response(ROISettingsSerializer(roi_settings_get(user=request.user)).data)

    @extend_schema(
        tags=["roi"],
        summary="Change your ROI settings (fields left out keep their value; changes are audited)",
        request=ROISettingsSerializer,
        responses=ROISettingsSerializer,
    )
    def put(self, request: Request) -> Response:
        current = roi_settings_get(user=request.user)
        body = ROISettingsSerializer(current, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        saved = roi_settings_update(
            user=request.user, values=body.validated_data, ip_address=request.META.get("REMOTE_ADDR")
        )
        return Response(ROISettingsSerializer(saved).data)


class ROIReportView(APIView):
    @extend_schema(
        tags=["roi"],
        summary="ROI for a period of UTC days: revenue, costs (AI included), profit, break-even, projections",
        parameters=[ReportQuerySerializer],
        responses=ReportSerializer,
    )
    def get(self, request: Request) -> Response:
        params = ReportQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        report = roi_report_build(user=request.user, period=params.validated_data["period"])
        return Response(ReportSerializer(report).data)


class _CSVRenderer(BaseRenderer):
    """Lets clients ask for text/csv; the body is streamed by the view, never rendered here."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return JSONRenderer().render(data)


class ROIExportView(APIView):
    renderer_classes = [JSONRenderer, _CSVRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        # Errors are always JSON (the API's one error shape), whatever the client accepts.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        tags=["roi"],
        summary="The ROI per UTC day as CSV (UTF-8 with BOM), streamed",
        description=(
            "Columns: Datum, Bokningar, Intäkter (SEK), Kostnader (SEK), AI-kostnad (SEK), "
            "OpenRouter-kostnad (SEK), Vinst (SEK), ROI (%) (English headers when the language is "
            "English). Costs include AI; a day's fixed costs are its prorated share, the integration "
            "cost falls on its start date. Each money column sums to the report's total. ROI is empty "
            "on a day without cost."
        ),
        parameters=[ReportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV"),
            400: OpenApiResponse(description="Bad period"),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        # A ?format= other than the documented csv or json is a 400, not silently ignored.
        chosen = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE or "format")
        if chosen is not None and chosen not in {r.format for r in self.renderer_classes}:
            raise ValidationError({"format": [_("Use format=csv or format=json, or leave it out.")]})
        params = ReportQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        period = params.validated_data["period"]
        lines = roi_csv_lines(
            headers=[str(h) for h in HEADERS], days=roi_days(user=request.user, period=period)
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="roi-{period.start}-{period.end}.csv"'
        return response
