"""``POST /api/v1/chat/completions``: an OpenAI-compatible door to the gateway for partners.

Standard OpenAI client libraries work against it with a per-user API token as the api key and
``/api/v1`` as the base URL. The use case comes from the ``X-Use-Case`` header (default
``generic``); ``Idempotency-Key`` is honoured for non-streamed requests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ai_gateway import errors
from apps.ai_gateway.idempotency import idempotency_begin, idempotency_finish, request_fingerprint
from apps.ai_gateway.services import Completion, complete
from apps.ai_gateway.streaming import GatewayStream, chunk_to_openai, usage_to_openai
from apps.core.api.exceptions import error_body
from apps.core.api.schema import AI_CALL, error_responses
from apps.core.api.throttling import ScopedThrottle
from apps.integrations.models import UseCase

USE_CASES = frozenset(UseCase.values)  # computed once: Choices.values rebuilds a list per access


def _use_case(request: Request) -> str:
    value = request.headers.get("X-Use-Case", UseCase.GENERIC).strip().lower().replace("-", "_")
    if value not in USE_CASES:
        raise errors.GatewayError(
            _("Unknown X-Use-Case “%(value)s”; use one of: %(choices)s.")
            % {"value": value[:40], "choices": ", ".join(sorted(USE_CASES))},
            code="invalid_request",
            status_code=400,
        )
    return value


def completion_body(completion: Completion) -> dict[str, Any]:
    result = completion.result
    message: dict[str, Any] = {"role": "assistant", "content": result.content}
    if result.message and result.message.tool_calls:
        message["tool_calls"] = [call.model_dump(exclude_none=True) for call in result.message.tool_calls]
    usage = usage_to_openai(result.usage) if result.usage else None
    return {
        "id": completion.generation_id or f"req-{completion.request_id}",
        "object": "chat.completion",
        "created": result.created or int(time.time()),
        "model": completion.model,
        "choices": [{"index": 0, "message": message, "finish_reason": completion.finish_reason or "stop"}],
        "usage": usage,
    }


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, default=str, separators=(',', ':'))}\n\n".encode()


def sse_events(stream: GatewayStream) -> Iterator[bytes]:
    """SSE bytes for a gateway stream; closing this iterator (client gone) cancels upstream."""
    try:
        for chunk in stream:
            yield _sse(chunk_to_openai(chunk))
    except errors.GatewayError as exc:
        yield _sse(error_body(exc.code, exc.message))
    finally:
        stream.close()
    yield b"data: [DONE]\n\n"


class ChatCompletionsView(APIView):
    throttle_classes = [ScopedThrottle]
    throttle_scope = "ai"

    @extend_schema(
        tags=["openai-compatible"],
        summary="OpenAI-compatible chat completions (streaming or not)",
        parameters=[
            OpenApiParameter(
                "X-Use-Case",
                str,
                OpenApiParameter.HEADER,
                enum=list(UseCase.values),
                description="Which AI feature this call belongs to (for the ledger).",
            ),
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Retries with the same key never call the provider twice.",
            ),
        ],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, **error_responses(*AI_CALL, 422)},
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        body = request.data
        if not isinstance(body, dict):
            raise errors.GatewayError(
                _("The body must be a JSON object."), code="invalid_request", status_code=400
            )
        use_case = _use_case(request)
        params = dict(body)
        messages, model, stream = (
            params.pop("messages", None),
            params.pop("model", None),
            params.pop("stream", False),
        )
        if not isinstance(stream, bool):
            raise errors.GatewayError(
                _("“stream” must be true or false."), code="invalid_request", status_code=400
            )
        if stream:
            result = complete(
                user=request.user, use_case=use_case, messages=messages, model=model, stream=True, **params
            )
            assert isinstance(result, GatewayStream)
            response = StreamingHttpResponse(sse_events(result), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        key = request.headers.get("Idempotency-Key")
        if not key:
            return Response(self._complete(request, use_case, messages, model, params)[0])
        return self._idempotent(request, key, use_case, body, messages, model, params)

    def _complete(
        self, request: Request, use_case: str, messages: Any, model: Any, params: dict[str, Any]
    ) -> tuple[dict[str, Any], int]:
        completion = complete(
            user=request.user,
            use_case=use_case,
            messages=messages,
            model=model,
            finish_after_response=True,  # the answer needs nothing back from the ledger row
            **params,
        )
        assert isinstance(completion, Completion)
        return completion_body(completion), completion.log_id

    def _idempotent(
        self,
        request: Request,
        key: str,
        use_case: str,
        body: dict[str, Any],
        messages: Any,
        model: Any,
        params: dict[str, Any],
    ) -> Response:
        record, first = idempotency_begin(
            user=request.user, key=key, fingerprint=request_fingerprint({"use_case": use_case, "body": body})
        )
        if not first:
            return Response(
                record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"}
            )
        try:
            data, log_id = self._complete(request, use_case, messages, model, params)
        except errors.GatewayError as exc:
            idempotency_finish(
                record=record,
                status_code=exc.status_code,
                response=error_body(exc.code, exc.message),
                log_id=exc.log_id,
            )
            raise
        except BaseException:
            record.delete()  # nothing was stored: let the retry run
            raise
        # Store exactly what the caller sees, so a replay is byte-for-byte the same answer.
        data = json.loads(JSONRenderer().render(data))
        idempotency_finish(record=record, status_code=200, response=data, log_id=log_id)
        return Response(data)
