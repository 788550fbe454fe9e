"""The API face of ``apps.core.periods``: ``?start=&end=&preset=`` validated into a ``Period``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import DAY_PATTERN
from apps.core.periods import DEFAULT_MAX_DAYS, PeriodError, Preset, period_parse


@extend_schema_field({"type": "string", "format": "date", "pattern": DAY_PATTERN})
class _DayText(serializers.CharField):
    """A day as text, parsed with the period (so its errors name the period's rules); "" is absent."""


class PeriodQuerySerializer(serializers.Serializer[Any]):
    """Query parameters for a period of UTC days; ``validated_data["period"]`` is the ``Period``.

    Pass ``context={"max_days": N}`` to change the longest allowed period. Bad input (a bad date,
    start after end, a date outside 2000..2099, too long a period) is a 400 naming the field.
    """

    start = _DayText(required=False, allow_blank=True, help_text="First UTC day, YYYY-MM-DD.")
    end = _DayText(required=False, allow_blank=True, help_text="Last UTC day (inclusive), YYYY-MM-DD.")
    preset = serializers.ChoiceField(
        choices=Preset.choices,
        required=False,
        help_text="Used when neither start nor end is given; default this_month.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            period = period_parse(
                start=attrs.get("start"),
                end=attrs.get("end"),
                preset=attrs.get("preset"),
                max_days=self.context.get("max_days", DEFAULT_MAX_DAYS),
            )
        except PeriodError as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from None
        return {**attrs, "period": period}
