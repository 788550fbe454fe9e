from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.roi.models import Booking


class BookingSerializer(serializers.ModelSerializer[Booking]):
    class Meta:
        model = Booking
        fields = ["id", "date", "value_sek", "external_id", "description", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_external_id(self, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            return None
        request = self.context["request"]
        clash = Booking.objects.for_user(request.user).filter(external_id=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(_("A booking with this external id already exists."))
        return value
