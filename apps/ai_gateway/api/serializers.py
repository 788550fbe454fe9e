from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.ai_gateway.features import CHANNELS, LENGTHS, TONES, FeatureResult
from apps.integrations.api.serializers import ModelIdField
from apps.integrations.validators import MODEL_ID_MAX_LENGTH

TEXT_LIMIT = 20_000


class ChatInput(serializers.Serializer[Any]):
    message = serializers.CharField(max_length=TEXT_LIMIT)
    conversation_id = serializers.IntegerField(required=False, min_value=1)


class SmsInput(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=1600)
    categories = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        min_length=2,
        max_length=30,
        help_text=_("Allowed categories; defaults to the configured set."),
    )


class ReviewsInput(serializers.Serializer[Any]):
    reviews = serializers.ListField(child=serializers.CharField(max_length=5000), min_length=1, max_length=50)
    business_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MessageInput(serializers.Serializer[Any]):
    channel = serializers.ChoiceField(choices=sorted(CHANNELS))
    tone = serializers.ChoiceField(choices=sorted(TONES))
    length = serializers.ChoiceField(choices=sorted(LENGTHS))
    brief = serializers.CharField(max_length=4000)
    recipient_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class LeadInput(serializers.Serializer[Any]):
    company = serializers.CharField(max_length=200)
    website = serializers.CharField(max_length=300, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class PromptInput(serializers.Serializer[Any]):
    prompt = serializers.CharField(max_length=TEXT_LIMIT)
    system = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    model = ModelIdField(max_length=MODEL_ID_MAX_LENGTH, required=False)
    temperature = serializers.FloatField(required=False, min_value=0, max_value=2)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=100_000)


class UsageOutput(serializers.Serializer[FeatureResult]):
    model = serializers.CharField()
    provider = serializers.CharField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(
        max_digits=20,
        decimal_places=12,
        allow_null=True,
        help_text=_("Null while the cost is not known yet."),
    )
    cost_source = serializers.CharField()
    is_fallback = serializers.BooleanField()
    log_id = serializers.IntegerField()


class SmsOutput(serializers.Serializer[Any]):
    category = serializers.CharField()
    confidence = serializers.FloatField()


class LeadOutput(serializers.Serializer[Any]):
    company = serializers.CharField()
    industry = serializers.CharField()
    size = serializers.CharField()
    summary = serializers.CharField()
    next_step = serializers.CharField()


class ReviewsOutput(serializers.Serializer[Any]):
    sentiment = serializers.ChoiceField(choices=["positive", "neutral", "negative", "mixed"])
    topics = serializers.ListField(child=serializers.CharField())
    summary = serializers.CharField()
    suggested_reply = serializers.CharField()


def result_serializer(
    name: str, output: serializers.Field[Any, Any, Any, Any]
) -> type[serializers.Serializer[Any]]:
    """A documented ``{result, usage}`` response serializer for one feature."""
    return type(name, (serializers.Serializer,), {"result": output, "usage": UsageOutput()})


ChatResponse = type(
    "ChatResponse",
    (serializers.Serializer,),
    {
        "conversation_id": serializers.IntegerField(),
        "result": serializers.CharField(),
        "usage": UsageOutput(),
    },
)
TextResponse = result_serializer("TextResponse", serializers.CharField())
SmsResponse = result_serializer("SmsResponse", SmsOutput())
LeadResponse = result_serializer("LeadResponse", LeadOutput())
ReviewsResponse = result_serializer("ReviewsResponse", ReviewsOutput())


# ------------------------------------------------------------------ OpenAI-compatible door (schema)
# These document /api/v1's answers for generated clients; its request body is documented in
# openai_request.py.


class FunctionCallSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    arguments = serializers.CharField(help_text="JSON text of the arguments.")


class ToolCallSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["function"])
    function = FunctionCallSerializer()


class ToolCallDeltaSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    id = serializers.CharField(required=False)
    type = serializers.ChoiceField(choices=["function"], required=False)
    function = serializers.DictField(required=False, help_text="name and/or a fragment of arguments")


class CompletionUsageSerializer(serializers.Serializer[Any]):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.FloatField(allow_null=True, help_text="USD, as a JSON number.")
    prompt_tokens_details = serializers.DictField()
    completion_tokens_details = serializers.DictField()


class AssistantMessageSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=["assistant"])
    content = serializers.CharField(allow_null=True, allow_blank=True)
    tool_calls = ToolCallSerializer(many=True, required=False)
    refusal = serializers.CharField(required=False)
    reasoning = serializers.CharField(required=False)


class CompletionChoiceSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    message = AssistantMessageSerializer()
    finish_reason = serializers.CharField()


class ChatCompletionSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["chat.completion"])
    created = serializers.IntegerField()
    model = serializers.CharField()
    choices = CompletionChoiceSerializer(many=True)
    usage = CompletionUsageSerializer(allow_null=True)


class ChunkDeltaSerializer(serializers.Serializer[Any]):
    role = serializers.CharField(required=False)
    content = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    reasoning = serializers.CharField(required=False)
    refusal = serializers.CharField(required=False)
    tool_calls = ToolCallDeltaSerializer(many=True, required=False)


class ChunkChoiceSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    delta = ChunkDeltaSerializer()
    finish_reason = serializers.CharField(allow_null=True)


class ChatCompletionChunkSerializer(serializers.Serializer[Any]):
    """One ``data:`` event of a stream; the last is ``data: [DONE]``."""

    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["chat.completion.chunk"])
    created = serializers.IntegerField()
    model = serializers.CharField()
    choices = ChunkChoiceSerializer(many=True)
    usage = CompletionUsageSerializer(required=False)


class CatalogueModelSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["model"])
    created = serializers.IntegerField()
    owned_by = serializers.CharField()


class ModelListSerializer(serializers.Serializer[Any]):
    object = serializers.ChoiceField(choices=["list"])
    data = CatalogueModelSerializer(many=True)  # type: ignore[assignment]
