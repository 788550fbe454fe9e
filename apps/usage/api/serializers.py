from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from apps.core.periods import Period, PeriodError, period_parse
from apps.integrations.models import Provider, UseCase
from apps.usage.models import PUBLIC_FIELDS, AIUsageLog, UsageSource, UsageStatus

MAX_RANGE_DAYS = 366
UNBOUNDED_DAYS = 100 * 366  # the list has no length limit beyond the 2000..2099 date bounds


class UsageLogSerializer(serializers.ModelSerializer[AIUsageLog]):
    class Meta:
        model = AIUsageLog
        fields = ["id", *PUBLIC_FIELDS]
        read_only_fields = fields


def _period(start: dt.date | None, end: dt.date | None, max_days: int) -> Period:
    # The one rule for periods of UTC days (dates within 2000..2099, start <= end, bounded length):
    # a date such as 9999-12-31 is a 400 here, never an overflow further on.
    try:
        return period_parse(start=start, end=end, max_days=max_days)
    except PeriodError as exc:
        raise serializers.ValidationError({exc.field: [exc.message]}) from None


class DateRangeSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        period = _period(attrs.get("start"), attrs.get("end"), MAX_RANGE_DAYS)
        return {"start": period.start, "end": period.end}


class UsageLogFilterSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    model = serializers.CharField(required=False, max_length=200)
    use_case = serializers.ChoiceField(choices=UseCase.choices, required=False)
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    status = serializers.ChoiceField(choices=UsageStatus.choices, required=False)
    source = serializers.ChoiceField(choices=UsageSource.choices, required=False)  # type: ignore[assignment]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start is not None or end is not None:
            period = _period(start, end, max_days=UNBOUNDED_DAYS)
            # Only the dates given filter the list; the period rule checks them.
            if start is not None:
                attrs["start"] = period.start
            if end is not None:
                attrs["end"] = period.end
        return attrs


class TotalsSerializer(serializers.Serializer[Any]):
    calls = serializers.IntegerField()
    successful = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=30, decimal_places=12)
    cost_sek = serializers.DecimalField(max_digits=30, decimal_places=6)
    unpriced = serializers.IntegerField(help_text="Finished calls whose cost is not known (yet).")


class ModelTotalsSerializer(TotalsSerializer):
    model = serializers.CharField()


class UseCaseTotalsSerializer(TotalsSerializer):
    use_case = serializers.CharField()


class DayTotalsSerializer(TotalsSerializer):
    day = serializers.DateField()


class UsageSummarySerializer(serializers.Serializer[Any]):
    start = serializers.DateField()
    end = serializers.DateField()
    totals = TotalsSerializer()
    by_model = ModelTotalsSerializer(many=True)
    by_use_case = UseCaseTotalsSerializer(many=True)
    by_day = DayTotalsSerializer(many=True)
