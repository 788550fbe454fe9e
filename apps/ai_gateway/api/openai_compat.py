"""``/api/v1``: an OpenAI-compatible door to the gateway for partners.

Standard OpenAI client libraries work against it with a per-user API token as the api key and
``/api/v1`` as the base URL. The use case comes from the ``X-Use-Case`` header (default
``generic``). ``Idempotency-Key`` is honoured for streamed and non-streamed requests alike: a
retry with the same key replays the stored answer (a stream is replayed event by event).

OpenAI fields the gateway does not serve are refused with a 400 naming them, never dropped:
``n`` other than 1 (one choice per call), and ``store: true`` (``store`` only concerns OpenAI's
own storage; ``false`` is what this API does anyway, so it is accepted as a no-op).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import AuthenticationFailed, ParseError, Throttled
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from apps.accounts.authentication import APITokenAuthentication
from apps.ai_gateway import errors
from apps.ai_gateway.idempotency import (
    MAX_KEY_LENGTH,
    idempotency_begin,
    idempotency_finish,
    request_fingerprint,
)
from apps.ai_gateway.models import IdempotencyRecord
from apps.ai_gateway.services import Completion, complete
from apps.ai_gateway.streaming import GatewayStream, StreamShaper, usage_to_openai
from apps.ai_gateway.validation import RequestRejected, validate_stream_options
from apps.core.api.exceptions import error_body, exception_handler
from apps.core.api.parsers import parse_json_body
from apps.core.api.schema import AI_CALL, COMMON, error_responses
from apps.core.api.throttling import ScopedThrottle
from apps.integrations.account import account_models_get
from apps.integrations.models import UseCase

from . import serializers as s
from .openai_request import CreateChatCompletion

USE_CASES = frozenset(UseCase.values)  # computed once: Choices.values rebuilds a list per access
DONE = "[DONE]"


def _use_case(header: str | None) -> str:
    value = (header or UseCase.GENERIC).strip().lower().replace("-", "_")
    if value not in USE_CASES:
        raise errors.GatewayError(
            _("Unknown X-Use-Case “%(value)s”; use one of: %(choices)s.")
            % {"value": value[:40], "choices": ", ".join(sorted(USE_CASES))},
            code="invalid_request",
            status_code=400,
        )
    return value


def _rejected(message: str) -> errors.GatewayError:
    return errors.GatewayError(message, code="invalid_request", status_code=400)


class ChatRequest:
    """A partner's body split into what this door handles and what goes to the gateway."""

    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise _rejected(_("The body must be a JSON object."))
        options = dict(body)
        self.messages = options.pop("messages", None)
        self.model = options.pop("model", None)
        self.stream = options.pop("stream", False)
        if self.stream is None:
            self.stream = False
        if not isinstance(self.stream, bool):
            raise _rejected(_("“stream” must be true or false."))
        n = options.pop("n", None)
        if n is not None and (isinstance(n, bool) or n != 1):
            raise _rejected(_("“n”: only one choice per call is supported; send n=1 or leave it out."))
        if options.pop("store", None) not in (None, False):
            raise _rejected(
                _("“store”: answers are not stored for later use; send store=false or leave it out.")
            )
        try:
            self.include_usage = validate_stream_options(options.pop("stream_options", None))
        except RequestRejected as exc:
            raise _rejected(str(exc)) from None
        if self.include_usage and not self.stream:
            raise _rejected(_("“stream_options” is only allowed when “stream” is true."))
        self.options = options


def completion_body(completion: Completion) -> dict[str, Any]:
    result = completion.result
    message: dict[str, Any] = {"role": "assistant", "content": result.content}
    if result.message and result.message.tool_calls:
        message["tool_calls"] = [call.model_dump(exclude_none=True) for call in result.message.tool_calls]
    if result.message and result.message.refusal:
        message["refusal"] = result.message.refusal
    if result.message and result.message.reasoning:
        message["reasoning"] = result.message.reasoning
    usage = usage_to_openai(result.usage) if result.usage else None
    return {
        "id": completion.generation_id or f"req-{completion.request_id}",
        "object": "chat.completion",
        "created": result.created or int(time.time()),
        "model": completion.model,
        "choices": [{"index": 0, "message": message, "finish_reason": completion.finish_reason or "stop"}],
        "usage": usage,
    }


def _json(data: Any) -> str:
    # DRF's encoder, as for every JSON response: Decimal money becomes a JSON number.
    return json.dumps(data, cls=JSONEncoder, separators=(",", ":"))


def _event(payload: str) -> bytes:
    return f"data: {payload}\n\n".encode()


def sse_events(
    stream: GatewayStream, *, include_usage: bool, record: IdempotencyRecord | None = None
) -> Iterator[bytes]:
    """SSE bytes in OpenAI's shape; closing this iterator (client gone) cancels upstream.

    With ``record`` every event is stored, so a retry with the same Idempotency-Key replays them.
    """
    sent: list[str] = []
    ended = False  # False when the caller went away before the end
    shaper = StreamShaper(include_usage=include_usage)
    try:
        for chunk in stream:
            for payload in shaper.feed(chunk):
                sent.append(_json(payload))
                yield _event(sent[-1])
        for payload in shaper.end():
            sent.append(_json(payload))
            yield _event(sent[-1])
        ended = True
    except errors.GatewayError as exc:
        sent.append(_json(error_body(exc.code, exc.message)))
        ended = True
        yield _event(sent[-1])
    finally:
        stream.close()
        if record is not None:
            idempotency_finish(
                record=record,
                status_code=200,
                response={"stream": sent, "ended": ended},
                log_id=stream.log.pk,
            )
    yield _event(DONE)


def replay_events(stored: dict[str, Any]) -> Iterator[bytes]:
    """A stored stream again; one the first caller left early ends with the "incomplete" error."""
    for payload in stored.get("stream", []):
        yield _event(payload)
    if not stored.get("ended"):
        yield _event(
            _json(error_body("incomplete_stream", _("The answer stopped before it was complete. Try again.")))
        )
    yield _event(DONE)


def _streaming_response(
    events: Iterator[bytes], headers: dict[str, str] | None = None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


_HEADERS = [
    OpenApiParameter(
        "X-Use-Case",
        str,
        OpenApiParameter.HEADER,
        enum=list(UseCase.values),
        description="Which AI feature this call belongs to (for the ledger).",
    ),
    OpenApiParameter(
        "Idempotency-Key",
        {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
        OpenApiParameter.HEADER,
        description="Retries with the same key never call the provider twice; streams are replayed.",
    ),
]


@dataclass(frozen=True)
class Answer:
    """What the endpoint answers: a JSON body or SSE events, a status and extra headers."""

    status: int = 200
    data: Any = None
    events: Iterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> HttpResponseBase:
        if self.events is not None:
            return _streaming_response(self.events, self.headers)
        response = HttpResponse(
            _RENDERER.render(self.data), content_type="application/json", status=self.status
        )
        for name, value in self.headers.items():
            response[name] = value
        return response


def _answer(*, user: Any, use_case_header: str | None, key: str | None, data: Any) -> Answer:
    """Serve one call (``X-Use-Case``, ``Idempotency-Key`` as sent); raises ``GatewayError`` (a
    ``ServiceError``) for the error shape."""
    use_case = _use_case(use_case_header)
    chat = ChatRequest(data)
    record = None
    if key is not None:
        fingerprint = request_fingerprint({"use_case": use_case, "body": data})
        record, first = idempotency_begin(user=user, key=key, fingerprint=fingerprint)
        if not first:
            return _replay(record)
    try:
        result = complete(
            user=user,
            use_case=use_case,
            messages=chat.messages,
            model=chat.model,
            stream=chat.stream,
            options=chat.options,
            # The answer needs nothing back from the ledger row: write it after sending.
            finish_after_response=True,
        )
    except errors.GatewayError as exc:
        if record is not None:
            body = error_body(exc.code, exc.message, details=exc.details)
            idempotency_finish(record=record, status_code=exc.status_code, response=body, log_id=exc.log_id)
        raise
    except BaseException:
        if record is not None:
            record.delete()  # nothing was stored: let the retry run
        raise
    if isinstance(result, GatewayStream):
        return Answer(events=sse_events(result, include_usage=chat.include_usage, record=record))
    answer = completion_body(result)
    if record is not None:
        # Store exactly what the caller sees, so a replay is the same answer (the same JSON
        # value; PostgreSQL's jsonb may store its keys in another order).
        answer = json.loads(_json(answer))
        idempotency_finish(record=record, status_code=200, response=answer, log_id=result.log_id)
    return Answer(data=answer)


def _replay(record: IdempotencyRecord) -> Answer:
    replayed = {"Idempotent-Replayed": "true"}
    response = record.response
    if record.status_code == 200 and isinstance(response, dict) and "stream" in response:
        return Answer(events=replay_events(response), headers=replayed)
    headers = dict(replayed)
    if (
        record.status_code in (502, 504)
        and (response or {}).get("error", {}).get("code") == errors.MAYBE_BILLED
    ):
        headers["x-should-retry"] = "false"
    return Answer(status=record.status_code or 200, data=response, headers=headers)


class ChatCompletionsView(APIView):
    """The endpoint. Its URL serves :func:`lean_chat_completions` first (see :meth:`as_view`)."""

    throttle_classes = [ScopedThrottle]
    throttle_scope = "ai"

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:  # DRF's view function, wrapped
        drf_view = super().as_view(**initkwargs)

        # The wrapper keeps the DRF view's attributes (cls, initkwargs, csrf_exempt): the schema
        # documents this class, and CSRF never applies to a token-authenticated API.
        @functools.wraps(drf_view)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            return lean_chat_completions(request) or drf_view(request, *args, **kwargs)

        return view

    @extend_schema(
        tags=["openai-compatible"],
        summary="OpenAI-compatible chat completions (streaming or not)",
        parameters=_HEADERS,
        request=CreateChatCompletion,
        responses={
            (200, "application/json"): OpenApiResponse(
                s.ChatCompletionSerializer, description="stream=false"
            ),
            (200, "text/event-stream"): OpenApiResponse(
                s.ChatCompletionChunkSerializer,
                description="stream=true: `data: <chunk>` events, then `data: [DONE]`.",
            ),
            **error_responses(*AI_CALL, 422),
        },
    )
    def post(self, request: Request) -> HttpResponseBase:
        answer = _answer(
            user=request.user,
            use_case_header=request.headers.get("X-Use-Case"),
            key=request.headers.get("Idempotency-Key"),
            data=request.data,
        )
        if answer.events is not None:
            return answer.response()
        return Response(answer.data, status=answer.status, headers=answer.headers)


_RENDERER = JSONRenderer()
_DRF_HEADERS = {"Allow": "POST, OPTIONS"}  # what DRF adds to every answer of this view


def lean_chat_completions(request: HttpRequest) -> HttpResponseBase | None:
    """The common case without DRF's request cycle; ``None``: let the DRF view answer.

    The common case is a POST of a JSON body with a valid token in the Authorization header and
    no query string. Anything else (no or a bad token, another method or media type, a body that
    does not parse, one too large) is answered by the DRF view, so every refusal keeps its one
    shape, status and headers. Nothing is counted or written before that choice is made; from
    there on, the throttle and the call run as in the DRF view, and an error is rendered by the
    API's own exception handler.
    """
    if request.method != "POST" or request.META.get("QUERY_STRING"):
        return None
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.split(";")[0].strip().lower() != "application/json" or "charset" in content_type.lower():
        return None
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() not in APITokenAuthentication.keywords or not raw or " " in raw:
        return None
    try:
        user, _token = APITokenAuthentication().authenticate_token(raw)
        data = parse_json_body(request.body)
    except (AuthenticationFailed, ParseError, RequestDataTooBig):
        return None
    request.user = user
    throttle = ScopedThrottle()
    try:
        if not throttle.allow_request(request, ChatCompletionsView):  # type: ignore[arg-type]
            raise Throttled(wait=throttle.wait())
        # Straight from the WSGI environ: building request.headers walks every variable in it.
        meta = request.META
        response = _answer(
            user=user,
            use_case_header=meta.get("HTTP_X_USE_CASE"),
            key=meta.get("HTTP_IDEMPOTENCY_KEY"),
            data=data,
        ).response()
    except Exception as exc:
        # As DRF does: what the API's handler answers (its error shape), the rest propagates.
        handled = exception_handler(exc, {})
        if handled is None:
            raise
        response = HttpResponse(
            _RENDERER.render(handled.data), content_type="application/json", status=handled.status_code
        )
        for name, value in handled.items():
            if name.lower() != "content-type":  # the handler's extra headers (e.g. Retry-After)
                response[name] = value
    for name, value in _DRF_HEADERS.items():
        response[name] = value
    return response


def models_list() -> list[dict[str, Any]]:
    """The catalogue's models as OpenAI ``model`` objects; 503 when it was never fetched."""
    catalogue = account_models_get().value
    if catalogue is None:
        raise errors.GatewayError(
            _("The model list cannot be fetched from OpenRouter right now. Try again shortly."),
            code="catalogue_unavailable",
            status_code=503,
        )
    return [
        {"id": m.id, "object": "model", "created": m.created or 0, "owned_by": m.id.split("/")[0].lstrip("~")}
        for m in catalogue.data
    ]


class ModelsView(APIView):
    """``GET /api/v1/models``: the cached OpenRouter catalogue in OpenAI's list shape."""

    @extend_schema(
        tags=["openai-compatible"],
        summary="OpenAI-compatible model list (from the cached OpenRouter catalogue)",
        responses={200: s.ModelListSerializer, **error_responses(*COMMON, 503)},
    )
    def get(self, request: Request) -> Response:
        return Response({"object": "list", "data": models_list()})
