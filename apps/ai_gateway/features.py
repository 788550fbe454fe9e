"""The AI features. Each builds its prompt, calls the gateway once and validates the answer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.usage.services import usage_mark_error

from . import errors, use_cases
from .models import ChatConversation, ChatMessage, ChatRole
from .services import Completion, complete
from .streaming import GatewayStream

CHAT_HISTORY_MESSAGES = 20
CHANNELS = {"sms": "an SMS (at most 320 characters)", "email": "an e-mail", "social": "a social media post"}
TONES = {"friendly", "formal", "enthusiastic", "apologetic", "neutral"}
LENGTHS = {"short": "one or two sentences", "medium": "a short paragraph", "long": "two or three paragraphs"}


@dataclass(frozen=True)
class FeatureResult:
    output: Any
    model: str
    provider: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal | None
    cost_source: str
    log_id: int
    is_fallback: bool


def _result(output: Any, completion: Completion) -> FeatureResult:
    return FeatureResult(
        output=output,
        model=completion.model,
        provider=completion.provider,
        prompt_tokens=completion.tokens.prompt,
        completion_tokens=completion.tokens.completion,
        cost_usd=completion.cost_usd,
        cost_source=completion.cost_source,
        log_id=completion.log_id,
        is_fallback=completion.is_fallback,
    )


def _run(user: Any, spec: use_cases.Spec, user_content: str, **params: Any) -> FeatureResult:
    messages = [{"role": "system", "content": spec.system_prompt}, {"role": "user", "content": user_content}]
    response_format = spec.response_format()
    if response_format:
        params["response_format"] = response_format
    completion = complete(user=user, use_case=spec.use_case, messages=messages, **params)
    assert isinstance(completion, Completion)
    return _result(_parse(spec, completion), completion)


def _parse(spec: use_cases.Spec, completion: Completion) -> Any:
    try:
        return spec.parse(completion.content)
    except use_cases.OutputInvalid as exc:
        usage_mark_error(log_id=completion.log_id, error_code="invalid_output", error_message=str(exc))
        raise errors.invalid_output(str(exc), log_id=completion.log_id) from None


def lead_enrich(*, user: Any, company: str, website: str = "", notes: str = "") -> FeatureResult:
    lines = (
        [f"Company: {company}"]
        + ([f"Website: {website}"] if website else [])
        + ([f"Notes: {notes}"] if notes else [])
    )
    return _run(user, use_cases.LEAD_ENRICHMENT, "\n".join(lines))


def reviews_analyze(*, user: Any, reviews: list[str], business_name: str = "") -> FeatureResult:
    header = f"Reviews of {business_name}:" if business_name else "Reviews:"
    body = "\n".join(f"- {review.strip()}" for review in reviews if review.strip())
    return _run(user, use_cases.REVIEW_ANALYSIS, f"{header}\n{body}")


def sms_classify(*, user: Any, text: str, categories: list[str] | None = None) -> FeatureResult:
    chosen = [c.strip() for c in (categories or use_cases.default_sms_categories()) if c.strip()]
    if len(chosen) < 2:
        raise errors.GatewayError(_("Give at least two categories."), code="invalid_request", status_code=400)
    return _run(user, use_cases.sms_spec(chosen), f"SMS: {text}", temperature=0)


def message_generate(
    *, user: Any, channel: str, tone: str, length: str, brief: str, recipient_name: str = ""
) -> FeatureResult:
    if channel not in CHANNELS or tone not in TONES or length not in LENGTHS:
        raise errors.GatewayError(
            _("Unknown channel, tone or length."), code="invalid_request", status_code=400
        )
    to = f" to {recipient_name}" if recipient_name else ""
    prompt = (
        f"Write {CHANNELS[channel]}{to}. Tone: {tone}. Length: {LENGTHS[length]}.\nWhat it is about: {brief}"
    )
    return _run(user, use_cases.MESSAGE_GENERATION, prompt)


def prompt_run(
    *, user: Any, prompt: str, system: str = "", model: str | None = None, **params: Any
) -> FeatureResult:
    spec = use_cases.Spec(use_cases.UseCase.GENERIC, system or use_cases.GENERIC.system_prompt)
    return _run(user, spec, prompt, model=model, **params)


# ----------------------------------------------------------------------------- chat assistant


def conversation_get_or_create(
    *, user: Any, conversation_id: int | None, first_message: str
) -> ChatConversation:
    if conversation_id is not None:
        conversation = ChatConversation.objects.for_user(user).filter(pk=conversation_id).first()
        if conversation is None:
            raise errors.GatewayError(_("Conversation not found."), code="not_found", status_code=404)
        return conversation
    return ChatConversation.objects.create(user=user, title=first_message.strip()[:80])


def _history(conversation: ChatConversation) -> list[dict[str, str]]:
    recent = list(conversation.messages.order_by("-created_at", "-id")[:CHAT_HISTORY_MESSAGES])
    return [{"role": m.role, "content": m.content} for m in reversed(recent)]


def chat_send(
    *, user: Any, message: str, conversation_id: int | None = None, stream: bool = False
) -> tuple[ChatConversation, FeatureResult | GatewayStream]:
    """Add the user's message to the conversation and ask the assistant.

    Non-streaming: the answer is stored before returning. Streaming: call
    :func:`chat_store_answer` with the stream once it has ended.
    """
    if not message.strip():
        raise errors.GatewayError(_("Write a message first."), code="invalid_request", status_code=400)
    if "\x00" in message:  # a NUL character cannot be stored (PostgreSQL text) and means nothing
        raise errors.GatewayError(
            _("The message contains an invalid (NUL) character."), code="invalid_request", status_code=400
        )
    conversation = conversation_get_or_create(
        user=user, conversation_id=conversation_id, first_message=message
    )
    ChatMessage.objects.create(user=user, conversation=conversation, role=ChatRole.USER, content=message)
    messages = [{"role": "system", "content": use_cases.CHAT.system_prompt}, *_history(conversation)]
    completion = complete(user=user, use_case=use_cases.UseCase.CHAT, messages=messages, stream=stream)
    if isinstance(completion, GatewayStream):
        return conversation, completion
    result = _result(_parse(use_cases.CHAT, completion), completion)
    _store_answer(conversation, result.output, completion.log_id)
    return conversation, result


def chat_store_answer(*, conversation: ChatConversation, stream: GatewayStream) -> None:
    if stream.content.strip():
        _store_answer(conversation, stream.content, stream.log.pk)


def _store_answer(conversation: ChatConversation, content: str, log_id: int) -> None:
    content = content.replace("\x00", "")  # a model's stray NUL cannot be stored in a text column
    with transaction.atomic():
        ChatMessage.objects.create(
            user_id=conversation.user_id,
            conversation=conversation,
            role=ChatRole.ASSISTANT,
            content=content,
            usage_log_id=log_id,
        )
        conversation.save(update_fields=["updated_at"])
