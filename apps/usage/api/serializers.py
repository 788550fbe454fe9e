from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.core.api.fields import DayField
from apps.core.api.periods import PeriodQuerySerializer
from apps.integrations.models import Provider, UseCase
from apps.usage.models import PUBLIC_FIELDS, AIUsageLog, SyncRun, UsageSource, UsageStatus
from apps.usage.sync import SyncRangeError, sync_range_check

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
    calls = serializers.IntegerField(
        help_text=(
            "Finished calls through the gateway (pending ones are not counted yet). Spend synced from "
            "OpenRouter's activity (outside the gateway) is in the tokens and cost but has no calls."
        )
    )
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
    use_case = serializers.CharField(
        help_text="The use case; `activity_sync` for spend synced from OpenRouter (outside the gateway, no calls)."
    )


class DayTotalsSerializer(TotalsSerializer):
    day = serializers.DateField()


class UsageSummarySerializer(serializers.Serializer[Any]):
    start = serializers.DateField()
    end = serializers.DateField()
    totals = TotalsSerializer()
    by_model = ModelTotalsSerializer(many=True)
    by_use_case = UseCaseTotalsSerializer(many=True)
    by_day = DayTotalsSerializer(many=True)


class SyncRunSerializer(serializers.ModelSerializer[SyncRun]):
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "start",
            "end",
            "trigger",
            "state",
            "days_total",
            "days_done",
            "progress_percent",
            "records",
            "adjustments",
            "settled",
            "error_code",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class SyncRequestSerializer(serializers.Serializer[Any]):
    """A range of completed UTC days within OpenRouter's last 30; the API never clamps it."""

    start = DayField(help_text="First UTC day (inclusive), within the last 30 completed days.")
    end = DayField(help_text="Last UTC day (inclusive); yesterday at the latest.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            sync_range_check(start=attrs["start"], end=attrs["end"])
        except SyncRangeError as exc:
            raise serializers.ValidationError({exc.field: exc.message}) from None
        return attrs


class StoredActivityFilterSerializer(serializers.Serializer[Any]):
    live = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Read OpenRouter now (through the 1-minute cache) instead of the stored records.",
    )
    date = DayField(required=False, help_text="One UTC day.")
    start = DayField(required=False, help_text="Stored records from this UTC day.")
    end = DayField(required=False, help_text="Stored records up to this UTC day.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": _("The start must not be after the end.")})
        return attrs
