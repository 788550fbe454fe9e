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
        ("lead-enrichment", {"company": "Klippoteket AB"}, "<dt>Föreslaget nästa steg</dt>"),
        ("review-analysis", {"reviews": "Toppen!\nFör dyrt."}, "<dt>Stämning</dt>"),
        (
            "sms-classification",
            {"text": "Kan jag boka?", "categories": "booking, other"},
            "<dt>Säkerhet</dt>",
        ),
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
    assert events[0] == {
        "conversation_id": conversation.pk,
        "title": "Har ni parkering?",
        "url": f"/dashboard/ai/chat/{conversation.pk}/",
    }
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


def _dl(html: str) -> list[tuple[str, str]]:
    """The result card's (label, value) pairs, whitespace collapsed."""
    import re

    block = html.split('<dl class="kv result-fields">')[1].split("</dl>")[0]
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", block, flags=re.S)
    return [(label.strip(), " ".join(value.split())) for label, value in pairs]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sv", [("Kategori", "avbokning"), ("Säkerhet", "50,0 %")]),
        ("en", [("Category", "cancellation"), ("Confidence", "50.0%")]),
    ],
)
def test_sms_result_shows_labelled_fields_and_confidence_as_percent(
    user_a: Any, configured_a: Any, emulator: Any, language: str, expected: list[tuple[str, str]]
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user_a)
    # The emulator picks the enum value the message mentions and the middle of 0..1 for confidence.
    response = client.post(
        "/dashboard/ai/sms-classification/",
        {"text": "Jag vill avboka min tid (cancellation)"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert _dl(response.content.decode()) == expected


def test_review_result_translates_sentiment_and_labels_every_field(
    page_a: Any, configured_a: Any, emulator: Any
) -> None:
    html = page_a.post(
        "/dashboard/ai/review-analysis/", {"reviews": "Blandat intryck, mixed"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    fields = _dl(html)
    assert [label for label, _value in fields] == ["Stämning", "Ämnen", "Sammanfattning", "Förslag på svar"]
    assert fields[0] == ("Stämning", "blandad")
    for raw_key in ("sentiment", "suggested_reply", "topics", "summary"):
        assert f"<dt>{raw_key}</dt>" not in html


def test_lead_result_labels_every_field_in_english(user_a: Any, configured_a: Any, emulator: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user_a)
    html = client.post(
        "/dashboard/ai/lead-enrichment/", {"company": "Klippoteket AB"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert [label for label, _value in _dl(html)] == [
        "Company",
        "Industry",
        "Size (employees)",
        "Summary",
        "Suggested next step",
    ]


def _events(chunks: Any) -> list[dict[str, Any]]:
    return [
        json.loads(line[6:]) for line in b"".join(chunks).decode().split("\n\n") if line.startswith("data: ")
    ]


def test_a_new_conversations_first_event_carries_its_title_and_address(
    page_a: Any, configured_a: Any, emulator: Any
) -> None:
    response = page_a.post("/dashboard/ai/chat/send/", {"message": "  Har ni parkering?  "})
    events = _events(response.streaming_content)
    conversation = ChatConversation.objects.get()
    assert events[0] == {
        "conversation_id": conversation.pk,
        "title": "Har ni parkering?",
        "url": f"/dashboard/ai/chat/{conversation.pk}/",
    }
    # The next message in the same conversation does not add it to the list again.
    again = page_a.post(
        "/dashboard/ai/chat/send/", {"message": "Och laddplats?", "conversation_id": conversation.pk}
    )
    assert _events(again.streaming_content)[0] == {"conversation_id": conversation.pk}


def test_the_chat_page_marks_the_list_for_live_updates(page_a: Any) -> None:
    html = page_a.get("/dashboard/ai/chat/").content.decode()
    assert '<ul id="chat-conversations">' in html
    assert 'id="chat-conversations-empty"' in html
    assert 'id="chat-working"' in html


# Transactional: closing the response ends the request, and Django then closes the database
# connection (harmless for SQLite in memory, fatal to a test transaction on PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_closing_the_chat_stream_from_the_browser_cancels_upstream(
    page_a: Any, configured_a: Any, emulator: Any
) -> None:
    # What runserver and gunicorn do when the browser goes away: the next write fails and the
    # server closes the response, which closes the event generator.
    emulator.inject("slow_trickle", delay=0.01)
    response = page_a.post("/dashboard/ai/chat/send/", {"message": "Berätta en lång historia"})
    chunks = iter(response.streaming_content)
    first = json.loads(next(chunks).decode()[6:])
    assert set(first) == {"conversation_id", "title", "url"}
    delta = json.loads(next(chunks).decode()[6:])
    assert delta["delta"]
    response.close()
    row = AIUsageLog.objects.get()
    assert (row.status, row.error_code, row.streamed) == ("cancelled", "cancelled", True)
    assert emulator.generations[0].cancelled is True
    # What had arrived is kept in the conversation.
    assert [m.role for m in ChatMessage.objects.order_by("id")] == ["user", "assistant"]
    assert ChatMessage.objects.get(role="assistant").content == delta["delta"]


# Transactional: closing the response ends the request, and Django then closes the database
# connection (harmless for SQLite in memory, fatal to a test transaction on PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_closing_the_chat_stream_before_any_answer_still_finalises_the_row(
    page_a: Any, configured_a: Any, emulator: Any
) -> None:
    response = page_a.post("/dashboard/ai/chat/send/", {"message": "Hej"})
    chunks = iter(response.streaming_content)
    next(chunks)  # only the conversation event
    response.close()
    assert AIUsageLog.objects.get().status == "cancelled"
    assert [m.role for m in ChatMessage.objects.all()] == ["user"]


def test_feature_pages_offer_elapsed_time_and_cancel(page_a: Any) -> None:
    html = page_a.get("/dashboard/ai/lead-enrichment/").content.decode()
    assert 'data-working="working"' in html
    assert "data-working-cancel" in html
    assert 'data-elapsed-template="Arbetar… {seconds} s"' in html
    assert "js/working.js" in html


# Transactional: closing the response ends the request, and Django then closes the database
# connection (harmless for SQLite in memory, fatal to a test transaction on PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_a_chat_response_closed_before_its_first_event_cancels_upstream(
    page_a: Any, configured_a: Any, emulator: Any
) -> None:
    response = page_a.post("/dashboard/ai/chat/send/", {"message": "Hej"})
    response.close()
    row = AIUsageLog.objects.get()
    assert (row.status, row.error_code) == ("cancelled", "cancelled")
    assert [m.role for m in ChatMessage.objects.all()] == ["user"]
