"""REST endpoints for the AI features: thin, each validates input and calls one feature."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ai_gateway import features
from apps.core.api.schema import AI_CALL, error_responses
from apps.core.api.throttling import ScopedThrottle

from . import serializers as s

_ERRORS = error_responses(*AI_CALL)


def _usage(result: features.FeatureResult) -> dict[str, Any]:
    return dict(s.UsageOutput(result).data)


class FeatureView(APIView):
    """Base: validate ``input_serializer``, run :meth:`run`, answer ``{result, usage}``."""

    input_serializer: type[serializers.Serializer[Any]]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "ai"

    def run(self, request: Request, data: dict[str, Any]) -> tuple[features.FeatureResult, dict[str, Any]]:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        payload = self.input_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result, extra = self.run(request, payload.validated_data)
        return Response({**extra, "result": result.output, "usage": _usage(result)})


@extend_schema(
    tags=["ai"],
    summary="Chat assistant (keeps conversation history)",
    request=s.ChatInput,
    responses={200: s.ChatResponse, **_ERRORS},
)
class ChatView(FeatureView):
    input_serializer = s.ChatInput

    def run(self, request: Request, data: dict[str, Any]) -> tuple[features.FeatureResult, dict[str, Any]]:
        conversation, result = features.chat_send(
            user=request.user, message=data["message"], conversation_id=data.get("conversation_id")
        )
        assert isinstance(result, features.FeatureResult)
        return result, {"conversation_id": conversation.pk}


@extend_schema(
    tags=["ai"],
    summary="Classify an SMS into one of the categories",
    request=s.SmsInput,
    responses={200: s.SmsResponse, **_ERRORS},
)
class ClassifySmsView(FeatureView):
    input_serializer = s.SmsInput

    def run(self, request: Request, data: dict[str, Any]) -> tuple[features.FeatureResult, dict[str, Any]]:
        return features.sms_classify(
            user=request.user, text=data["text"], categories=data.get("categories")
        ), {}


@extend_schema(
    tags=["ai"],
    summary="Analyse customer reviews",
    request=s.ReviewsInput,
    responses={200: s.ReviewsResponse, **_ERRORS},
)
class AnalyzeReviewsView(FeatureView):
    input_serializer = s.ReviewsInput

    def run(self, request: Request, data: dict[str, Any]) -> tuple[features.FeatureResult, dict[str, Any]]:
        return features.reviews_analyze(
            user=request.user, reviews=data["reviews"], business_name=data.get("business_name", "")
        ), {}


@extend_schema(
    tags=["ai"],
    summary="Generate a customer message",
    request=s.MessageInput,
    responses={200: s.TextResponse, **_ERRORS},
)
class GenerateMessageView(FeatureView):
    input_serializer = s.MessageInput

    def run(self, request: Request, data: dict[str, Any]) -> tuple[features.FeatureResult, dict[str, Any]]:
        return features.message_generate(user=request.user, **data), {}


@extend_schema(
    tags=["ai"],
    summary="Enrich a sales lead",
    request=s.LeadInput,
    responses={200: s.LeadResponse, **_ERRORS},
)
class EnrichLeadView(FeatureView):
    input_serializer = s.LeadInput

    def run(self, request: Request, data: dict[str, Any]) -> tuple[features.FeatureResult, dict[str, Any]]:
        return features.lead_enrich(user=request.user, **data), {}


@extend_schema(
    tags=["ai"],
    summary="Run a generic prompt",
    request=s.PromptInput,
    responses={200: s.TextResponse, **_ERRORS},
)
class PromptView(FeatureView):
    input_serializer = s.PromptInput

    def run(self, request: Request, data: dict[str, Any]) -> tuple[features.FeatureResult, dict[str, Any]]:
        return features.prompt_run(user=request.user, **data), {}
