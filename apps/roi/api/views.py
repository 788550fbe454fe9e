from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view

from apps.core.api.viewsets import ScopedModelViewSet
from apps.roi.models import Booking

from .serializers import BookingSerializer


@extend_schema_view(
    list=extend_schema(summary="List your bookings", tags=["roi"]),
    create=extend_schema(summary="Add a booking (external_id unique per user)", tags=["roi"]),
    retrieve=extend_schema(summary="One booking", tags=["roi"]),
    update=extend_schema(summary="Replace a booking", tags=["roi"]),
    partial_update=extend_schema(summary="Change a booking", tags=["roi"]),
    destroy=extend_schema(summary="Delete a booking", tags=["roi"]),
)
class BookingViewSet(ScopedModelViewSet):
    model = Booking
    serializer_class = BookingSerializer

    def get_base_queryset(self) -> models.QuerySet[Any]:
        return Booking.objects.order_by("-date", "-id")
