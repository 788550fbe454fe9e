"""AI feature pages under /dashboard/ai/. Thin: a form, one feature call, a result partial."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.usage.selectors import usage_recent

from . import features
from .errors import GatewayError
from .forms import LeadForm, MessageForm, PromptForm, ReviewsForm, SmsForm
from .models import ChatConversation
from .presenters import result_fields
from .streaming import GatewayStream


@dataclass(frozen=True)
class FeaturePage:
    slug: str
    title: Any
    description: Any
    form: type[forms.Form]
    run: Callable[..., features.FeatureResult]
    structured: bool


FEATURES = {
    page.slug: page
    for page in [
        FeaturePage(
            "lead-enrichment",
            _("Lead enrichment"),
            _("Turn a company name into a profile with a suggested next step."),
            LeadForm,
            features.lead_enrich,
            True,
        ),
        FeaturePage(
            "review-analysis",
            _("Review analysis"),
            _("Sentiment, topics, a summary and a reply you can post."),
            ReviewsForm,
            features.reviews_analyze,
            True,
        ),
        FeaturePage(
            "sms-classification",
            _("SMS classification"),
            _("Sort incoming SMS into categories, with a confidence."),
            SmsForm,
            features.sms_classify,
            True,
        ),
        FeaturePage(
            "message-generation",
            _("Message generation"),
            _("Write an SMS, e-mail or post in the tone and length you choose."),
            MessageForm,
            features.message_generate,
            False,
        ),
        FeaturePage(
            "prompt",
            _("Generic prompt"),
            _("Ask anything, with your own instructions."),
            PromptForm,
            features.prompt_run,
            False,
        ),
    ]
}


# What Cancel does on a feature form (one non-streamed upstream request): the page stops waiting,
# but a request OpenRouter has already received cannot be recalled from another request. It runs
# to its end, and its ledger row is finalised with the real outcome and cost like any other call.
NON_STREAM_CANCELLED = _(
    "Cancelled on this page. If OpenRouter had already received the request it still finishes "
    "there: it is recorded with its cost under Recent AI calls like any other call."
)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "ai_gateway/index.html",
        {
            "features": FEATURES.values(),
            "recent": usage_recent(user=request.user, limit=10),
        },
    )


@require_http_methods(["GET", "POST"])
def feature(request: HttpRequest, slug: str) -> HttpResponse:
    page = FEATURES.get(slug)
    if page is None:
        raise Http404
    form = page.form(request.POST or None)
    context: dict[str, Any] = {"page": page, "form": form, "cancelled_text": NON_STREAM_CANCELLED}
    if request.method == "POST":
        if form.is_valid():
            try:
                result = page.run(user=request.user, **form.cleaned_data)
                context["result"] = result
                if page.structured:
                    context["result_fields"] = result_fields(result.output)
            except GatewayError as exc:
                context["error"] = exc
        template = "ai_gateway/_result.html" if request.htmx else "ai_gateway/feature.html"  # type: ignore[attr-defined]
        return render(request, template, context)
    return render(request, "ai_gateway/feature.html", context)


@require_GET
def chat(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    conversations = ChatConversation.objects.for_user(request.user).order_by("-updated_at")[:30]
    current = None
    if conversation_id is not None:
        current = ChatConversation.objects.for_user(request.user).filter(pk=conversation_id).first()
        if current is None:
            raise Http404
    messages = list(current.messages.order_by("created_at", "id")) if current else []
    return render(
        request,
        "ai_gateway/chat.html",
        {"conversations": conversations, "current": current, "chat_messages": messages},
    )


def _event(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, default=str)}\n\n".encode()


def _chat_events(
    conversation: ChatConversation, stream: GatewayStream, *, created: bool
) -> Generator[bytes, None, None]:
    # The first event names the conversation; a new one also carries its title and address so the
    # page adds it to the conversation list at once (no reload).
    opening: dict[str, Any] = {"conversation_id": conversation.pk}
    if created:
        opening["title"] = conversation.title
        opening["url"] = reverse("ai_gateway:chat_conversation", args=[conversation.pk])
    try:
        # Inside the try: a browser that leaves right after the first event still cancels upstream.
        yield _event(opening)
        for chunk in stream:
            if chunk.text:
                yield _event({"delta": chunk.text})
    except GatewayError as exc:
        yield _event({"error": exc.message})
    finally:
        stream.close()
        features.chat_store_answer(conversation=conversation, stream=stream)
    stream.log.refresh_from_db()
    yield _event(
        {
            "done": True,
            "tokens": stream.log.total_tokens,
            "cost_usd": stream.log.cost_usd,
            "model": stream.log.model,
        }
    )


class _ChatEvents:
    """The event stream of one chat answer, closed by the server when the browser goes away.

    runserver and gunicorn notice a closed connection when a write fails, then call ``close()``:
    the upstream stream is closed and the ledger row ends ``cancelled``. ``close()`` also covers a
    response closed before its first event was asked for (a generator that never started would
    skip its ``finally``).
    """

    def __init__(self, conversation: ChatConversation, stream: GatewayStream, *, created: bool) -> None:
        self._stream = stream
        self._events = _chat_events(conversation, stream, created=created)

    def __iter__(self) -> _ChatEvents:
        return self

    def __next__(self) -> bytes:
        return next(self._events)

    def close(self) -> None:
        try:
            self._events.close()
        finally:
            self._stream.close()  # a no-op once the stream is finalised


@require_POST
def chat_stream(request: HttpRequest) -> HttpResponseBase:
    """Send a chat message; the answer streams back as server-sent events."""
    raw_id = request.POST.get("conversation_id") or None
    try:
        conversation, stream = features.chat_send(
            user=request.user,
            message=request.POST.get("message", "")[:20_000],
            conversation_id=int(raw_id) if raw_id else None,
            stream=True,
        )
    except (GatewayError, ValueError) as exc:
        message = exc.message if isinstance(exc, GatewayError) else str(_("Invalid conversation."))
        return HttpResponse(
            _event({"error": message}),
            content_type="text/event-stream",
            status=exc.status_code if isinstance(exc, GatewayError) else 400,
        )
    assert isinstance(stream, GatewayStream)
    events = _ChatEvents(conversation, stream, created=raw_id is None)
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
