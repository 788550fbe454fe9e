"""``POST /chat/completions``: validation, admission, model fallbacks, and serving the answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import errors, faults
from .admission import admit
from .catalogue import Model
from .chat_body import MIDSTREAM_ERROR, Served, completion_json
from .completion import compose, prompt_tokens
from .content import last_user_text
from .core import Core
from .faults import Fault
from .ids import generation_id
from .ledger import bill_full, bill_partial
from .prompt_cache import cache_usage
from .routing import RoutingPrefs
from .state import ApiKey
from .stream import stream_body
from .wsgi import Request, Response

NO_MESSAGES = 'Input required: specify "prompt" or "messages"'


@dataclass(frozen=True)
class ChatCall:
    key: ApiKey
    body: dict[str, Any]
    headers: dict[str, str]
    models: list[Model]
    max_tokens: int | None
    prompt_tokens: int  # for the first model, which the pre-flight checks price
    routing: RoutingPrefs
    started_at: datetime

    @property
    def user_id(self) -> str:
        return self.key.account.user_id


def handle_chat(core: Core, request: Request) -> Response:
    key = core.authenticate(request)
    if isinstance(key, Response):
        return key
    if key.is_management:
        # Management keys cannot do inference; OpenRouter answers as if the key were unknown.
        return errors.user_not_found()
    call = _parse(core, request, key)
    if isinstance(call, Response):
        return call
    with core.state.lock:
        refusal = admit(key, call.models[0], call.prompt_tokens, call.max_tokens, call.started_at)
    if refusal is not None:
        return refusal
    # A scripted admission fault stands for OpenRouter's own checks failing (402, 403, free 429).
    scripted = core.faults.take(faults.CHAT_PATH, key.hash, call.models[0].id, faults.ADMISSION_KINDS)
    if scripted is not None:
        now_ms = int(call.started_at.timestamp() * 1000)
        return faults.admission_error(scripted, key.limit_reset, call.user_id, now_ms)
    return _attempt_models(core, call)


def _parse(core: Core, request: Request, key: ApiKey) -> ChatCall | Response:
    user_id = key.account.user_id
    try:
        body = request.json()
    except ValueError:
        return errors.bad_request("Invalid JSON in request body", user_id)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        return errors.bad_request(NO_MESSAGES, user_id)
    models = _resolve_models(core, body)
    if isinstance(models, str):
        return errors.bad_request(errors.INVALID_MODEL.format(slug=models), user_id)
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (
        not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
    ):
        return errors.bad_request("max_tokens must be a positive integer", user_id)
    return ChatCall(
        key=key,
        body=body,
        headers=request.headers,
        models=models,
        max_tokens=max_tokens,
        prompt_tokens=prompt_tokens(body, models[0]),
        routing=RoutingPrefs.from_body(body),
        started_at=core.now(),
    )


def _resolve_models(core: Core, body: dict[str, Any]) -> list[Model] | str:
    """The models to try, in order; or the first slug that is not a valid model ID."""
    slugs: list[str] = []
    primary = body.get("model") or (None if body.get("models") else core.config.default_model)
    for slug in [primary, *(body.get("models") or [])]:
        if slug is not None and str(slug) not in slugs:
            slugs.append(str(slug))
    models = []
    for slug in slugs:
        model = core.catalogue.get(slug)
        if model is None:
            return slug
        models.append(model)
    return models


def _attempt_models(core: Core, call: ChatCall) -> Response:
    """Try each model in turn; an upstream failure moves on to the next one if fallbacks are allowed."""
    failed: list[dict[str, Any]] = []
    last_error: Response | None = None
    routable = [m for m in call.models if call.routing.allows(m)]
    for position, model in enumerate(routable):
        fault = core.faults.take(faults.CHAT_PATH, call.key.hash, model.id, faults.SERVING_KINDS)
        if fault is None or fault.kind not in faults.ERROR_KINDS:
            return _serve(core, call, model, fault, failed)
        flagged = last_user_text([m for m in call.body["messages"] if isinstance(m, dict)])
        last_error = faults.upstream_error(fault, model.id, model.provider, call.user_id, flagged)
        failed.append(_failed_attempt(model, last_error.status))
        if not (fault.falls_back and call.routing.allow_fallbacks) or position == len(routable) - 1:
            break
    if last_error is not None:
        return last_error
    return errors.error_response(404, errors.NO_ENDPOINTS_FOR.format(slug=call.models[0].id))


def _failed_attempt(model: Model, status: int) -> dict[str, Any]:
    return {
        "endpoint_id": model.endpoint_id,
        "id": None,
        "is_byok": False,
        "latency": 150,
        "model_permaslug": model.canonical_slug,
        "provider_name": model.provider,
        "status": status,
    }


def _serve(
    core: Core, call: ChatCall, model: Model, fault: Fault | None, failed: list[dict[str, Any]]
) -> Response:
    kind = fault.kind if fault else None
    if fault is not None and kind in ("non_json", "html", "error_200"):
        return _unserved(fault, model, call.user_id)
    completion = compose(call.body, model, call.max_tokens)
    with core.state.lock:
        cached, written = cache_usage(core, call.key.account, model, call.body, call.started_at)
    served = Served(
        id=generation_id(call.started_at),
        started_at=call.started_at,
        model=model,
        user_id=call.user_id,
        key_hash=call.key.hash,
        request=call.body,
        headers=call.headers,
        completion=completion,
        prompt_tokens=prompt_tokens(call.body, model),
        cached_tokens=cached,
        cache_write_tokens=written,
        streamed=call.body.get("stream") is True,
        failed_attempts=failed,
    )
    response = _streamed(core, served, fault) if served.streamed else _plain(core, served, fault)
    response.headers.append(("X-Generation-Id", served.id))
    response.stall = kind == "read_timeout"
    return response


def _unserved(fault: Fault, model: Model, user_id: str) -> Response:
    if fault.kind == "html":
        return faults.html_page(fault)
    if fault.kind == "non_json":
        return faults.non_json(fault)
    return faults.error_200(fault, model.provider, user_id)


def _streamed(core: Core, served: Served, fault: Fault | None) -> Response:
    headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
    return Response(200, stream_body(core, served, fault), headers)


def _plain(core: Core, served: Served, fault: Fault | None) -> Response:
    kind = fault.kind if fault else None
    completion = served.completion
    if kind == "midstream_error":
        pieces = completion.pieces()
        partial = "".join(pieces[: max(len(pieces) // 2, 1)])
        billed = bill_partial(core, served, partial, "error", cancelled=False)
        body = completion_json(served, billed, content=partial, finish_reason="error", error=MIDSTREAM_ERROR)
    else:
        billed = bill_full(core, served)
        keep_usage = kind not in ("missing_usage", "stream_no_usage")
        body = completion_json(
            served,
            billed if keep_usage else None,
            content=completion.content,
            finish_reason=completion.finish_reason,
        )
    response = Response.json(200, body)
    return _transformed(response, fault)


def _transformed(response: Response, fault: Fault | None) -> Response:
    if fault is not None and fault.kind == "slow_trickle":
        response.body = faults.trickle(response.body, float(fault.params.get("delay", 0.5)))
    elif fault is not None and fault.kind == "truncated":
        response.body = faults.truncate(response.body)
    return response
