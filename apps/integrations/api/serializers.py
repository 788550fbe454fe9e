"""Input and output shapes of the OpenRouter settings and account API. Keys are write-only."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import DayField
from apps.core.api.schema import ErrorSerializer  # noqa: F401 (re-exported for the views)
from apps.integrations.connection import CheckOutcome
from apps.integrations.models import CreditSource, KeySlot, KeySource, KeyStatus, Provider
from apps.integrations.validators import (
    KEY_MAX_LENGTH,
    KEY_PATTERN,
    MODEL_ID_BODY,
    MODEL_ID_MAX_LENGTH,
    model_id_clean,
    openrouter_key_clean,
)


def _money(help_text: str = "") -> serializers.DecimalField:
    """USD as a decimal string (never a float); null when unknown."""
    return serializers.DecimalField(
        max_digits=24, decimal_places=9, allow_null=True, help_text=help_text or None
    )


class StrictSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not know (``base_url``, ``api_base``…) instead of ignoring them."""

    refuses_unknown_fields = True  # documented as additionalProperties: false

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("Unknown field: it is not accepted here.")] for name in unknown}
                )
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "format": "password", "writeOnly": True, "pattern": KEY_PATTERN})
class KeyField(serializers.CharField):
    """An OpenRouter key in a request body; write-only, never part of a response."""


def _key_field() -> serializers.CharField:
    return KeyField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=KEY_MAX_LENGTH + 50,
        style={"input_type": "password"},
        help_text="An OpenRouter key (sk-or-…). Write-only: never returned. Empty or absent keeps the stored key.",
    )


def _validate_key(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return openrouter_key_clean(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class ModelIdField(serializers.CharField):
    """A model id, vendor/model[:variant]; its request schema carries the one model-id pattern.

    With ``allow_blank`` "" (no choice) and spaces alone are accepted too, and spaces around the
    id are forgiven (``model_id_clean`` removes them)."""

    @property
    def request_pattern(self) -> str:
        # Not matching "": drf-spectacular documents a blank field as oneOf [this, maxLength 0],
        # and "" must match exactly one branch. Spaces alone are "" once trimmed.
        return rf"^ *{MODEL_ID_BODY} *$|^ +$" if self.allow_blank else rf"^{MODEL_ID_BODY}$"


def _model_field(help_text: str) -> serializers.CharField:
    return ModelIdField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,  # model_id_clean decides what surrounding text is harmless
        max_length=MODEL_ID_MAX_LENGTH,
        help_text=help_text,
    )


class UseCaseModelsSerializer(StrictSerializer):
    """The model per use case; ``""`` means "use the default model"."""

    chat = _model_field("Chat assistant")
    lead_enrichment = _model_field("Lead enrichment")
    review_analysis = _model_field("Review analysis")
    sms_classification = _model_field("SMS classification")
    message_generation = _model_field("Message generation")
    generic = _model_field("Generic prompt")


class KeyStateSerializer(serializers.Serializer[Any]):
    configured = serializers.BooleanField()
    last4 = serializers.CharField(help_text="The key's last 4 characters ('' when none is stored).")
    status = serializers.ChoiceField(choices=KeyStatus.choices)
    status_detail = serializers.CharField(help_text="Why the last test failed (an outcome code), or ''.")
    status_message = serializers.CharField()
    verified_at = serializers.DateTimeField(allow_null=True)


_WHOLE_ACCOUNT_HELP = (
    "What the activity sync (and its reconciliation with the ledger) reads with the management "
    "key: false = only the spend of the configured API key (OpenRouter's api_key_hash filter); "
    "true = every key of the OpenRouter account."
)


class PlatformKeySerializer(serializers.Serializer[Any]):
    limit_usd = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="OpenRouter's monthly limit of the key (USD).",
    )
    limit_reset = serializers.CharField(help_text="When the limit resets: always 'monthly' (UTC).")
    disabled = serializers.BooleanField(help_text="True while the platform has paused the key.")


class AISettingsSerializer(serializers.Serializer[Any]):
    """What GET returns (and PUT after saving). Keys appear only as their state and last 4."""

    ai_provider = serializers.ChoiceField(choices=Provider.choices)
    use_system_fallback = serializers.BooleanField()
    default_model = serializers.CharField(allow_blank=True)
    models = UseCaseModelsSerializer()
    api_key = KeyStateSerializer()
    api_key_source = serializers.ChoiceField(
        choices=KeySource.choices,
        help_text="'platform' when the platform provides the API key (it cannot be replaced or removed here).",
    )
    platform_key = PlatformKeySerializer(allow_null=True, help_text="The platform-provided key, or null.")
    management_key = KeyStateSerializer()
    activity_whole_account = serializers.BooleanField(help_text=_WHOLE_ACCOUNT_HELP)
    updated_at = serializers.DateTimeField(allow_null=True)


class AISettingsUpdateSerializer(StrictSerializer):
    """PUT body. Every field is optional: what is left out keeps its stored value."""

    api_key = _key_field()
    management_key = _key_field()
    remove_api_key = serializers.BooleanField(required=False, help_text="Delete the stored API key.")
    remove_management_key = serializers.BooleanField(
        required=False, help_text="Delete the stored management key."
    )
    ai_provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    use_system_fallback = serializers.BooleanField(required=False)
    default_model = _model_field("Default model id, e.g. openai/gpt-4o-mini; '' for the system default.")
    models = UseCaseModelsSerializer(required=False)
    activity_whole_account = serializers.BooleanField(required=False, help_text=_WHOLE_ACCOUNT_HELP)

    def __init__(self, *args: Any, known_models: Collection[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_models = known_models

    def validate_api_key(self, value: str) -> str:
        return _validate_key(value)

    def validate_management_key(self, value: str) -> str:
        return _validate_key(value)

    def _model(self, value: str) -> str:
        try:
            return model_id_clean(value, known=self.known_models)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_default_model(self, value: str) -> str:
        return self._model(value)

    def validate_models(self, value: dict[str, str]) -> dict[str, str]:
        errors: dict[str, Any] = {}
        cleaned = {}
        for use_case, model in value.items():
            try:
                cleaned[use_case] = self._model(model)
            except serializers.ValidationError as exc:
                errors[use_case] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return cleaned


class ConnectionTestRequestSerializer(StrictSerializer):
    """Keys to test before saving them; an absent or empty key tests the stored one."""

    api_key = _key_field()
    management_key = _key_field()

    def validate_api_key(self, value: str) -> str:
        return _validate_key(value)

    def validate_management_key(self, value: str) -> str:
        return _validate_key(value)


class KeyCheckSerializer(serializers.Serializer[Any]):
    slot = serializers.ChoiceField(choices=KeySlot.choices)
    outcome = serializers.ChoiceField(choices=[(o.value, o.value) for o in CheckOutcome])
    ok = serializers.BooleanField()
    label = serializers.CharField()  # type: ignore[assignment]  # DRF pops declared fields
    message = serializers.CharField()
    detail = serializers.CharField(help_text="OpenRouter's reason when it could not be asked, or ''.")
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[("entered", "entered"), ("stored", "stored"), ("none", "none")],
        help_text="Whether the key tested was the one in the request or the stored one.",
    )
    last4 = serializers.CharField()
    is_management_key = serializers.BooleanField(allow_null=True)
    balance = _money("Account balance in USD, when known.")
    limit = _money()
    limit_remaining = _money()
    limit_reset = serializers.CharField(allow_null=True)


class ConnectionReportSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField(help_text="The API key works (and the management key, if any).")
    api_key = KeyCheckSerializer(source="api")
    management_key = KeyCheckSerializer(source="management")


class ProblemSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()


class FreshnessSerializer(serializers.Serializer[Any]):
    """Every account value says when it was fetched; ``stale`` values come with the reason."""

    fetched_at = serializers.DateTimeField(allow_null=True)
    age_seconds = serializers.IntegerField(allow_null=True)
    stale = serializers.BooleanField(help_text="OpenRouter failed; this is the last known value.")
    problem = ProblemSerializer(allow_null=True)


class CreditsSerializer(serializers.Serializer[Any]):
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=CreditSource.choices,
        help_text="'account': the balance from /credits (management key). "
        "'key_limit': the API key's own remaining limit from /key (no management key).",
    )
    remaining = _money(
        "USD left: the balance (can be negative) or the key's remaining limit (null: no limit)."
    )
    total_credits = _money()
    total_usage = _money()
    limit = _money()
    limit_reset = serializers.CharField(allow_null=True)
    usage = _money()
    usage_daily = _money()
    usage_weekly = _money()
    usage_monthly = _money()


class CreditsResponseSerializer(FreshnessSerializer):
    data = CreditsSerializer()  # type: ignore[assignment]


class KeyInfoSerializer(serializers.Serializer[Any]):
    is_management_key = serializers.BooleanField()
    limit = _money()
    limit_remaining = _money()
    limit_reset = serializers.CharField(allow_null=True)
    include_byok_in_limit = serializers.BooleanField()
    usage = _money()
    usage_daily = _money()
    usage_weekly = _money()
    usage_monthly = _money()
    byok_usage = _money()
    is_free_tier = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)


class KeyInfoResponseSerializer(FreshnessSerializer):
    data = KeyInfoSerializer()  # type: ignore[assignment]


class ModelSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    canonical_slug = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    context_length = serializers.IntegerField(allow_null=True)
    input_modalities = serializers.ListField(child=serializers.CharField())
    output_modalities = serializers.ListField(child=serializers.CharField())
    prompt_price_per_million = _money("USD per million input tokens; null for variable pricing.")
    completion_price_per_million = _money("USD per million output tokens; null for variable pricing.")
    is_free = serializers.BooleanField()
    variable_pricing = serializers.BooleanField()


class ModelFilterSerializer(serializers.Serializer[Any]):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Part of the id or name."
    )
    modality = serializers.ChoiceField(
        choices=[(m, m) for m in ("text", "image", "audio", "file", "video")],
        required=False,
        help_text="Models that take or give this modality.",
    )
    max_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=6,
        min_value=0,
        required=False,
        help_text="USD per million tokens; both input and output prices must be at most this.",
    )


class PageMetaSerializer(FreshnessSerializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class ModelListResponseSerializer(PageMetaSerializer):
    results = ModelSerializer(many=True)


class ActivityFilterSerializer(serializers.Serializer[Any]):
    date = DayField(required=False, help_text="One UTC day within the last 30 completed days.")


class ActivityRowSerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    model = serializers.CharField()
    model_permaslug = serializers.CharField(allow_null=True)
    endpoint_id = serializers.CharField(allow_null=True)
    provider_name = serializers.CharField(allow_null=True)
    usage = _money()
    byok_usage_inference = _money()
    requests = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    reasoning_tokens = serializers.IntegerField()
    cached_tokens = serializers.IntegerField()


class ActivityListResponseSerializer(PageMetaSerializer):
    results = ActivityRowSerializer(many=True)
