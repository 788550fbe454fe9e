from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.core.api.fields import DayField
from apps.core.api.periods import PeriodQuerySerializer
from apps.roi.models import MAX_BOOKING_SEK, Booking, ROISettings
from apps.roi.selectors import MAX_REPORT_DAYS
from apps.roi.services import booking_create, booking_update

MAX_BULK_ITEMS = 1000


# Every date a client sends is a DayField: YYYY-MM-DD within 2000..2099, documented as such.
_DAY_MAPPING = {**serializers.ModelSerializer.serializer_field_mapping, models.DateField: DayField}


class BookingSerializer(serializers.ModelSerializer[Booking]):
    serializer_field_mapping = _DAY_MAPPING

    class Meta:
        model = Booking
        fields = ["id", "date", "value_sek", "external_id", "description", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def create(self, validated_data: dict[str, Any]) -> Booking:
        return booking_create(**validated_data)

    def update(self, instance: Booking, validated_data: dict[str, Any]) -> Booking:
        validated_data.pop("user", None)
        return booking_update(booking=instance, values=validated_data)

    def validate_external_id(self, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            return None
        request = self.context["request"]
        clash = Booking.objects.for_user(request.user).filter(external_id=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(
                _(
                    "A booking with this external id already exists: use PUT /api/roi/bookings/by-external-id/."
                )
            )
        return value


class BookingFilterSerializer(serializers.Serializer[Any]):
    """``?start=&end=``: bookings on these UTC dates (inclusive); either may be left out."""

    start = DayField(required=False, help_text="First date, YYYY-MM-DD.")
    end = DayField(required=False, help_text="Last date (inclusive), YYYY-MM-DD.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError(
                {"start": [_("The start date must not be after the end date.")]}
            )
        return attrs


class BookingPushSerializer(serializers.Serializer[Any]):
    """One booking as a partner pushes it (the external id is in the URL or the item)."""

    date = DayField()
    value_sek = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal(0), max_value=MAX_BOOKING_SEK
    )
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ExternalIdSerializer(serializers.Serializer[Any]):
    """The partner's id for a booking: 1-100 characters, no NUL, surrounding spaces trimmed."""

    external_id = serializers.CharField(max_length=100)


class BookingBulkItemSerializer(BookingPushSerializer):
    external_id = serializers.CharField(max_length=100)


class BookingBulkSerializer(serializers.Serializer[Any]):
    bookings = serializers.ListField(
        # Any JSON value, null included: each item is validated on its own and a bad one (not an
        # object, a bad field) is reported as rejected in the result, never failing the others.
        child=serializers.JSONField(allow_null=True),
        min_length=1,
        max_length=MAX_BULK_ITEMS,
        help_text=f"Up to {MAX_BULK_ITEMS} bookings, each with external_id, date, value_sek, description.",
    )


class BulkItemResultSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    id = serializers.IntegerField(required=False)
    errors = serializers.DictField(required=False)  # type: ignore[assignment]  # a field named like Serializer.errors


class BulkResultSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    items = BulkItemResultSerializer(many=True)


class ROISettingsSerializer(serializers.ModelSerializer[ROISettings]):
    serializer_field_mapping = _DAY_MAPPING
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="null until first saved."
    )

    class Meta:
        model = ROISettings
        fields = [
            "telephony_sek",
            "sms_sek",
            "email_sek",
            "support_sek",
            "integration_cost_sek",
            "integration_start",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class ReportQuerySerializer(PeriodQuerySerializer):
    """``?start=&end=`` (or ``?preset=``), at most ten years."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context", {})["max_days"] = MAX_REPORT_DAYS
        super().__init__(*args, **kwargs)


class _Money(serializers.DecimalField):  # type: ignore[type-arg]
    """Exact amounts as strings with two decimals (display rounding; the sums are exact)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=30, decimal_places=2, rounding=ROUND_HALF_UP, **kwargs)


class FixedCostsSerializer(serializers.Serializer[Any]):
    telephony = _Money()
    sms = _Money()
    email = _Money()
    support = _Money()
    integration = _Money()
    total = _Money()


class UseCaseCostSerializer(serializers.Serializer[Any]):
    use_case = serializers.CharField(
        help_text="The use case; `activity_sync` for spend synced from OpenRouter (outside the gateway, no calls)."
    )
    total_sek = _Money()
    calls = serializers.IntegerField(help_text="Calls through the gateway.")
    unpriced = serializers.IntegerField()


class MonthSerializer(serializers.Serializer[Any]):
    month = serializers.DateField()
    revenue = _Money()
    fixed_cost = _Money()
    ai_cost = _Money()
    total_cost = _Money()
    profit = _Money()


class BreakEvenSerializer(serializers.Serializer[Any]):
    reached = serializers.BooleanField()
    month = serializers.DateField(allow_null=True)
    months = serializers.IntegerField(allow_null=True)


class ProjectionSerializer(serializers.Serializer[Any]):
    months = serializers.IntegerField()
    revenue = _Money()
    costs = _Money()
    profit = _Money()
    roi_percent = _Money(allow_null=True)


class ReportSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(source="period.start")
    end = serializers.DateField(source="period.end")
    days = serializers.IntegerField(source="period.days")
    bookings = serializers.IntegerField()
    revenue = _Money()
    fixed = FixedCostsSerializer()
    ai_cost = _Money()
    openrouter_cost = _Money()
    unpriced_calls = serializers.IntegerField(help_text="AI calls in the period without a known cost.")
    total_cost = _Money()
    profit = _Money()
    roi_percent = _Money(allow_null=True, help_text="null when the operating cost is 0.")
    ai_share_percent = _Money(allow_null=True)
    ai_by_use_case = UseCaseCostSerializer(many=True)
    months = MonthSerializer(many=True)
    break_even = BreakEvenSerializer()
    projections = ProjectionSerializer(many=True)
