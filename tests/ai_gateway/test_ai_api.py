"""The AI feature endpoints under /api/ai/: each validates input, calls the gateway once."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.ai_gateway.models import ChatConversation, ChatMessage
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import chat_requests
from tests.factories import AISettingsFactory

pytestmark = pytest.mark.django_db

USAGE_KEYS = {
    "model",
    "provider",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "cost_source",
    "is_fallback",
    "log_id",
}


def _usage_matches_row(usage: dict[str, Any], emulator: Any) -> AIUsageLog:
    row = AIUsageLog.objects.get(pk=usage["log_id"])
    generation = emulator.generations[-1]
    assert set(usage) == USAGE_KEYS
    assert usage["cost_usd"] is not None
    from decimal import Decimal

    assert Decimal(usage["cost_usd"]) == row.cost_usd == generation.cost
    assert usage["prompt_tokens"] == row.prompt_tokens == generation.prompt_tokens
    assert usage["completion_tokens"] == row.completion_tokens == generation.completion_tokens
    return row


def test_enrich_lead_returns_validated_structure(api_a: Any, configured_a: Any, emulator: Any) -> None:
    response = api_a.post(
        "/api/ai/enrich-lead/", {"company": "Klippoteket AB", "website": "klippoteket.se"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"result", "usage"}
    assert set(body["result"]) == {"company", "industry", "size", "summary", "next_step"}
    assert all(isinstance(v, str) for v in body["result"].values())
    row = _usage_matches_row(body["usage"], emulator)
    assert (row.use_case, row.status) == ("lead_enrichment", "success")
    sent = chat_requests(emulator)[0].body
    assert sent["response_format"]["type"] == "json_schema"
    assert "Klippoteket AB" in sent["messages"][-1]["content"]


def test_analyze_reviews(api_a: Any, configured_a: Any, emulator: Any) -> None:
    response = api_a.post(
        "/api/ai/analyze-reviews/",
        {"reviews": ["Fantastisk service!", "Lite dyrt men bra."], "business_name": "Salong X"},
        format="json",
    )
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    assert result["sentiment"] in {"positive", "neutral", "negative", "mixed"}
    assert isinstance(result["topics"], list)
    assert result["summary"]
    assert result["suggested_reply"]
    assert _usage_matches_row(response.json()["usage"], emulator).use_case == "review_analysis"


def test_classify_sms_uses_the_given_categories(api_a: Any, configured_a: Any, emulator: Any) -> None:
    response = api_a.post(
        "/api/ai/classify-sms/",
        {"text": "Kan jag boka tid på fredag?", "categories": ["booking", "spam", "other"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    assert result["category"] in {"booking", "spam", "other"}
    assert 0 <= result["confidence"] <= 1
    schema = chat_requests(emulator)[0].body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["category"]["enum"] == ["booking", "spam", "other"]
    assert _usage_matches_row(response.json()["usage"], emulator).use_case == "sms_classification"


def test_generate_message(api_a: Any, configured_a: Any, emulator: Any) -> None:
    response = api_a.post(
        "/api/ai/generate-message/",
        {
            "channel": "sms",
            "tone": "friendly",
            "length": "short",
            "brief": "Påminnelse om tid",
            "recipient_name": "Anna",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert isinstance(response.json()["result"], str)
    assert response.json()["result"]
    assert _usage_matches_row(response.json()["usage"], emulator).use_case == "message_generation"


def test_generic_prompt_with_a_model(api_a: Any, configured_a: Any, emulator: Any) -> None:
    response = api_a.post(
        "/api/ai/prompt/",
        {"prompt": "Sammanfatta: vi har öppet 9-17.", "model": "openai/gpt-5-mini", "temperature": 0.3},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert chat_requests(emulator)[0].body["model"] == "openai/gpt-5-mini"
    assert _usage_matches_row(response.json()["usage"], emulator).use_case == "generic"


def test_chat_keeps_history_per_conversation(
    api_a: Any, configured_a: Any, emulator: Any, user_a: Any
) -> None:
    first = api_a.post("/api/ai/chat/", {"message": "Hej, vad heter du?"}, format="json")
    assert first.status_code == 200, first.content
    conversation_id = first.json()["conversation_id"]
    second = api_a.post(
        "/api/ai/chat/", {"message": "Och vad gör du?", "conversation_id": conversation_id}, format="json"
    )
    assert second.status_code == 200
    sent = chat_requests(emulator)[1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "Hej, vad heter du?"
    assert ChatMessage.objects.filter(conversation_id=conversation_id).count() == 4
    assert ChatConversation.objects.get().user_id == user_a.pk


def test_chat_in_another_users_conversation_is_404(
    api_a: Any, api_b: Any, configured_a: Any, emulator: Any, user_b: Any, inference_key: str
) -> None:
    AISettingsFactory(user=user_b, openrouter_api_key=inference_key)
    theirs = api_b.post("/api/ai/chat/", {"message": "Hemligt"}, format="json").json()["conversation_id"]
    response = api_a.post("/api/ai/chat/", {"message": "Visa", "conversation_id": theirs}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert ChatMessage.objects.filter(conversation_id=theirs).count() == 2
    assert len(chat_requests(emulator)) == 1


def test_invalid_input_is_a_400_with_fields(api_a: Any, configured_a: Any, emulator: Any) -> None:
    response = api_a.post(
        "/api/ai/generate-message/", {"channel": "fax", "tone": "x", "length": "short"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"channel", "tone", "brief"}
    assert emulator.requests == []


def test_provider_failure_gives_a_clear_error_and_a_row(api_a: Any, configured_a: Any, emulator: Any) -> None:
    emulator.inject("status", status=503, times=10)
    response = api_a.post("/api/ai/prompt/", {"prompt": "x"}, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert AIUsageLog.objects.get().status == "error"


def test_not_configured_is_a_400_that_says_where_to_configure(api_a: Any, emulator: Any) -> None:
    response = api_a.post("/api/ai/prompt/", {"prompt": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "openrouter_not_configured"


def test_malformed_model_output_is_a_clear_error_and_an_error_row(
    api_a: Any, user_a: Any, inference_key: str, emulator: Any
) -> None:
    # The free model does not support structured outputs: OpenRouter drops response_format and
    # the model answers in prose, which the feature must refuse rather than pass on.
    AISettingsFactory(
        user=user_a, openrouter_api_key=inference_key, model_lead_enrichment="openai/gpt-oss-120b:free"
    )
    response = api_a.post("/api/ai/enrich-lead/", {"company": "Klippoteket AB"}, format="json")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "invalid_output"
    row = AIUsageLog.objects.get()
    assert (row.status, row.error_code) == ("error", "invalid_output")
    assert row.completion_tokens > 0  # billed tokens are kept


@pytest.mark.parametrize(
    "path", ["chat", "classify-sms", "analyze-reviews", "generate-message", "enrich-lead", "prompt"]
)
def test_anonymous_is_401(db: Any, path: str) -> None:
    assert APIClient().post(f"/api/ai/{path}/", {}, format="json").status_code == 401


def test_session_writes_need_csrf(user_a: Any, configured_a: Any, emulator: Any) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user_a)
    response = client.post("/api/ai/prompt/", {"prompt": "x"}, format="json")
    assert response.status_code == 403
    assert emulator.requests == []
