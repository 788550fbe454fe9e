"""What the emulated model answers, and how many tokens that takes.

Token counts are deterministic so tests can predict them: a text costs ``ceil(chars / 4)``
tokens, every message adds 4 tokens of framing, and a finished answer adds one end-of-turn token.
With these rules ``examples/chat_request.json`` costs exactly what ``chat_completion.json`` reports
(23 prompt and 9 completion tokens).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from . import content
from .catalogue import Model
from .schema import SchemaContext, value_for

# Request fields that reach the model only if its supported_parameters list them.
_SAMPLING = ("temperature", "top_p", "top_k", "min_p", "top_a", "seed", "stop")
_PENALTIES = ("frequency_penalty", "presence_penalty", "repetition_penalty", "logit_bias")
_FEATURES = ("logprobs", "top_logprobs", "response_format", "tools", "tool_choice", "parallel_tool_calls")
_REASONING = ("reasoning", "include_reasoning", "reasoning_effort")
GATED_PARAMETERS = frozenset((*_SAMPLING, *_PENALTIES, *_FEATURES, *_REASONING))
MESSAGE_OVERHEAD = 4
END_OF_TURN = 1
_PIECE = re.compile(r"\s*[\w'\u00c0-\u024f-]+|\s*[^\w\s]+|\s+")


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def prompt_tokens(body: dict[str, Any], model: Model) -> int:
    body = supported_only(body, model)
    messages = body.get("messages") or []
    total = sum(
        text_tokens(content.message_text(m)) + MESSAGE_OVERHEAD for m in messages if isinstance(m, dict)
    )
    # Tool definitions and a response schema are sent to the model as part of the prompt.
    for extra in ("tools", "response_format"):
        if body.get(extra):
            total += text_tokens(json.dumps(body[extra], separators=(",", ":")))
    return total


@dataclass(frozen=True)
class Completion:
    content: str
    finish_reason: str
    completion_tokens: int
    reasoning: str | None = None
    reasoning_tokens: int = 0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def pieces(self) -> list[str]:
        """The content split the way a provider streams it: words with their leading space."""
        return _PIECE.findall(self.content) if self.content else []


def compose(body: dict[str, Any], model: Model, max_tokens: int | None) -> Completion:
    body = supported_only(body, model)
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    reasoning = _reasoning(body, model, messages)
    reasoning_tokens = text_tokens(reasoning) if reasoning else 0
    tool_call = _tool_call(body, messages)
    if tool_call is not None:
        arguments_tokens = text_tokens(tool_call["function"]["arguments"])
        return Completion(
            content="",
            finish_reason="tool_calls",
            completion_tokens=reasoning_tokens + arguments_tokens + END_OF_TURN,
            reasoning=reasoning,
            reasoning_tokens=reasoning_tokens,
            tool_calls=[tool_call],
        )
    text = _answer_text(body, messages)
    budget = None if max_tokens is None else max(max_tokens - reasoning_tokens, 0)
    finish, text, tokens = _fit(text, budget)
    return Completion(text, finish, reasoning_tokens + tokens, reasoning, reasoning_tokens)


def supported_only(body: dict[str, Any], model: Model) -> dict[str, Any]:
    """The request as the provider sees it: OpenRouter silently drops parameters the model does not
    support, so a model without structured outputs answers in prose."""
    return {k: v for k, v in body.items() if k not in GATED_PARAMETERS or k in model.supported_parameters}


def _fit(text: str, budget: int | None) -> tuple[str, str, int]:
    """Truncate to ``budget`` tokens the way a provider does when ``max_tokens`` is reached."""
    needed = text_tokens(text) + END_OF_TURN
    if budget is None or needed <= budget:
        return "stop", text, needed
    return "length", text[: budget * 4], budget


def _answer_text(body: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    reply = content.answer(messages)
    response_format = body.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema" and isinstance(response_format, dict):
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if isinstance(schema, dict):
            return json.dumps(value_for(schema, _schema_context(schema, messages, reply)), ensure_ascii=False)
    if kind == "json_object":
        return json.dumps({"answer": reply}, ensure_ascii=False)
    return reply


def _schema_context(schema: dict[str, Any], messages: list[dict[str, Any]], reply: str) -> SchemaContext:
    question = content.last_user_text(messages)
    return SchemaContext(root=schema, prompt=question.lower(), topic=content.topic(question), answer=reply)


def _reasoning(body: dict[str, Any], model: Model, messages: list[dict[str, Any]]) -> str | None:
    """Reasoning text when the request asks for it and the model can reason."""
    if not model.supports_reasoning:
        return None
    settings = body.get("reasoning")
    wanted = body.get("include_reasoning") is True or body.get("reasoning_effort") not in (None, "none")
    if isinstance(settings, dict):
        if settings.get("exclude") or settings.get("effort") == "none" or settings.get("enabled") is False:
            return None
        wanted = True
    return content.reasoning_text(messages) if wanted else None


def _tool_call(body: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Call a tool when the request forces one (``required`` or a named function)."""
    tools = [
        t for t in body.get("tools") or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)
    ]
    choice = body.get("tool_choice")
    answered = bool(messages) and messages[-1].get("role") == "tool"
    if not tools or choice in (None, "auto", "none") or answered:
        return None
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        tools = [t for t in tools if t["function"].get("name") == wanted] or tools
    function = tools[0]["function"]
    parameters = function.get("parameters") if isinstance(function.get("parameters"), dict) else {}
    arguments = value_for(parameters, _schema_context(parameters, messages, content.answer(messages)))
    digest = hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()[:24]
    return {
        "id": f"call_{digest}",
        "index": 0,
        "type": "function",
        "function": {"name": function.get("name", "tool"), "arguments": json.dumps(arguments or {})},
    }
