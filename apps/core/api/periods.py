"""The API face of ``apps.core.periods``: ``?start=&end=&preset=`` validated into a ``Period``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.periods import DEFAULT_MAX_DAYS, PeriodError, Preset, period_parse


class PeriodQuerySerializer(serializers.Serializer[Any]):
    """Query parameters for a period of UTC days; ``validated_data["period"]`` is the ``Period``.

    Pass ``context={"max_days": N}`` to change the longest allowed period. Bad input (a bad date,
    start after end, a date outside 2000..2099, too long a period) is a 400 naming the field.
    """

    start = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="First UTC day, YYYY-MM-DD."
    )
    end = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Last UTC day (inclusive), YYYY-MM-DD."
    )
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
