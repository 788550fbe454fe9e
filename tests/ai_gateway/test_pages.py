"""The AI feature pages: forms run the gateway once; results and errors are shown."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from apps.ai_gateway.features import CHANNELS, LENGTHS, TONES
from apps.ai_gateway.forms import MessageForm
from apps.ai_gateway.models import ChatConversation, ChatMessage
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import chat_requests
from tests.factories import AISettingsFactory

pytestmark = pytest.mark.django_db


def test_index_lists_features_and_only_my_recent_calls(
    page_a: Any, user_b: Any, configured_a: Any, inference_key: str, emulator: Any
) -> None:
    AISettingsFactory(user=user_b, openrouter_api_key=inference_key)
    bob = Client()
    bob.force_login(user_b)
    bob.post("/dashboard/ai/prompt/", {"prompt": "bobs hemliga fråga"})
    page_a.post("/dashboard/ai/prompt/", {"prompt": "Hej"})
    html = page_a.get("/dashboard/ai/").content.decode()
    assert html.count("<tr>") == 2  # header + my one call
    assert "lead-enrichment" in html
    assert "sms-classification" in html


@pytest.mark.parametrize(
    ("slug", "data", "expected"),
    [
        ("lead-enrichment", {"company": "Klippoteket AB"}, "next_step"),
        ("review-analysis", {"reviews": "Toppen!\nFör dyrt."}, "sentiment"),
        ("sms-classification", {"text": "Kan jag boka?", "categories": "booking, other"}, "confidence"),
        (
            "message-generation",
            {"channel": "sms", "tone": "friendly", "length": "short", "brief": "Påminnelse"},
            "tokens",
        ),
        ("prompt", {"prompt": "Hej!"}, "tokens"),
    ],
)
def test_each_feature_page_runs_once_and_shows_the_result(
    page_a: Any, configured_a: Any, emulator: Any, slug: str, data: dict[str, str], expected: str
) -> None:
    assert page_a.get(f"/dashboard/ai/{slug}/").status_code == 200
    response = page_a.post(f"/dashboard/ai/{slug}/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="result-card"' in html
    assert expected in html
    assert len(chat_requests(emulator)) == 1
    assert AIUsageLog.objects.get().status == "success"


def test_feature_page_shows_a_clear_error_when_not_configured(page_a: Any, emulator: Any) -> None:
    html = page_a.post("/dashboard/ai/prompt/", {"prompt": "Hej"}).content.decode()
    assert "/dashboard/integrations/?tab=ai" in html
    assert 'role="alert"' in html
    assert emulator.requests == []


def test_invalid_form_input_makes_no_call(page_a: Any, configured_a: Any, emulator: Any) -> None:
    response = page_a.post("/dashboard/ai/sms-classification/", {"text": "", "categories": "bara-en"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert emulator.requests == []


def test_unknown_feature_is_404(page_a: Any) -> None:
    assert page_a.get("/dashboard/ai/mining/").status_code == 404


def test_chat_streams_and_stores_the_conversation(
    page_a: Any, user_a: Any, configured_a: Any, emulator: Any
) -> None:
    response = page_a.post("/dashboard/ai/chat/send/", {"message": "Har ni parkering?"})
    assert response["Content-Type"] == "text/event-stream"
    events = [
        json.loads(line[6:])
        for line in b"".join(response.streaming_content).decode().split("\n\n")
        if line.startswith("data: ")
    ]
    conversation = ChatConversation.objects.get()
    assert events[0] == {"conversation_id": conversation.pk}
    text = "".join(e.get("delta", "") for e in events)
    assert text
    assert events[-1]["done"] is True
    assert [m.role for m in ChatMessage.objects.order_by("id")] == ["user", "assistant"]
    assert ChatMessage.objects.get(role="assistant").content == text
    row = AIUsageLog.objects.get()
    assert (row.status, row.streamed, row.use_case) == ("success", True, "chat")
    assert page_a.get(f"/dashboard/ai/chat/{conversation.pk}/").status_code == 200


def test_another_users_conversation_is_404(page_a: Any, user_b: Any) -> None:
    theirs = ChatConversation.objects.create(user=user_b, title="bobs")
    assert page_a.get(f"/dashboard/ai/chat/{theirs.pk}/").status_code == 404
    response = page_a.post("/dashboard/ai/chat/send/", {"message": "x", "conversation_id": theirs.pk})
    assert response.status_code == 404
    assert ChatMessage.objects.count() == 0
    assert "bobs" not in page_a.get("/dashboard/ai/chat/").content.decode()


def test_page_forms_offer_exactly_the_features_choices() -> None:
    fields = MessageForm.base_fields
    assert set(dict(fields["channel"].choices)) == set(CHANNELS)  # type: ignore[attr-defined]
    assert set(dict(fields["tone"].choices)) == TONES  # type: ignore[attr-defined]
    assert set(dict(fields["length"].choices)) == set(LENGTHS)  # type: ignore[attr-defined]


def test_api_output_serializers_match_the_feature_shapes() -> None:
    from apps.ai_gateway.api.serializers import LeadOutput, ReviewsOutput
    from apps.ai_gateway.use_cases import LeadProfile, ReviewAnalysis

    assert set(LeadOutput().fields) == set(LeadProfile.model_fields)
    assert set(ReviewsOutput().fields) == set(ReviewAnalysis.model_fields)
