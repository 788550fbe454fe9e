from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api.periods import PeriodQuerySerializer
from apps.integrations.models import Provider, UseCase
from apps.usage.models import PUBLIC_FIELDS, AIUsageLog, UsageSource, UsageStatus

# Row lists may span any number of days; only summaries are limited to a year.
LOGS_MAX_DAYS = 36_600


class UsageLogSerializer(serializers.ModelSerializer[AIUsageLog]):
    class Meta:
        model = AIUsageLog
        fields = ["id", *PUBLIC_FIELDS]
        read_only_fields = fields


class UsageLogFilterSerializer(PeriodQuerySerializer):
    """The period (default: every day; ``start`` after ``end`` is a 400) and exact column matches."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("start") or attrs.get("end") or attrs.get("preset")):
            return attrs  # no period asked for: every day
        return super().validate(attrs)

    model = serializers.CharField(required=False, max_length=200)
    use_case = serializers.ChoiceField(choices=UseCase.choices, required=False)
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    status = serializers.ChoiceField(choices=UsageStatus.choices, required=False)
    source = serializers.ChoiceField(choices=UsageSource.choices, required=False)  # type: ignore[assignment]


class TotalsSerializer(serializers.Serializer[Any]):
    calls = serializers.IntegerField(help_text="Finished calls (pending ones are not counted yet).")
    successful = serializers.IntegerField()
    failed = serializers.IntegerField(
        source="errors", help_text="Calls that failed: error, timeout, cancelled, rate limited."
    )
    fallbacks = serializers.IntegerField(help_text="Calls answered by the system fallback provider.")
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
