"""Typed OpenRouter response bodies (pydantic v2): chat results, usage and stream chunks.

Account, key, activity and generation bodies live in :mod:`.account`, the model catalogue in
:mod:`.catalog`; both are re-exported here so callers import every schema from one place.

Every model ignores unknown fields and accepts OpenRouter's older shapes too (e.g. ``/models``
without ``total_count``/``links``, pricing keys that are absent when zero). Money is
``Decimal`` (decode bodies with :func:`load_json`), tokens are ``int``. A usage ``cost`` that is
absent (or negative, which is not a real charge) is ``None``: never a silent zero.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator

from .account import ActivityRow, ApiKey, CreatedKey, Credits, Generation, KeyInfo
from .catalog import Model, ModelList, Pricing
from .fields import Money, OpenRouterModel, load_json

__all__ = [
    "ActivityRow",
    "ApiKey",
    "ChatChunk",
    "ChatResult",
    "Choice",
    "CreatedKey",
    "Credits",
    "Generation",
    "KeyInfo",
    "Message",
    "Model",
    "ModelList",
    "Pricing",
    "Usage",
    "load_json",
]

Tokens = Annotated[int, Field(ge=0)]


class PromptTokensDetails(OpenRouterModel):
    cached_tokens: Tokens = 0
    cache_write_tokens: Tokens = 0
    audio_tokens: Tokens = 0
    video_tokens: Tokens = 0

    @field_validator("*", mode="before")
    @classmethod
    def _null_is_zero(cls, value: Any) -> Any:
        return 0 if value is None else value


class CompletionTokensDetails(OpenRouterModel):
    reasoning_tokens: Tokens = 0
    image_tokens: Tokens = 0
    audio_tokens: Tokens = 0

    @field_validator("*", mode="before")
    @classmethod
    def _null_is_zero(cls, value: Any) -> Any:
        return 0 if value is None else value


class CostDetails(OpenRouterModel):
    upstream_inference_cost: Money | None = None
    upstream_inference_prompt_cost: Money | None = None
    upstream_inference_completions_cost: Money | None = None


class Usage(OpenRouterModel):
    """Token counts and the USD ``cost`` OpenRouter reported for one generation."""

    prompt_tokens: Tokens = 0
    completion_tokens: Tokens = 0
    total_tokens: Tokens = 0
    cost: Money | None = None
    is_byok: bool = False
    prompt_tokens_details: PromptTokensDetails = Field(default_factory=PromptTokensDetails)
    completion_tokens_details: CompletionTokensDetails = Field(default_factory=CompletionTokensDetails)
    cost_details: CostDetails | None = None

    @field_validator("prompt_tokens_details", "completion_tokens_details", mode="before")
    @classmethod
    def _null_details(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("cost")
    @classmethod
    def _negative_cost_is_unknown(cls, value: Decimal | None) -> Decimal | None:
        return None if value is not None and value < 0 else value

    @model_validator(mode="after")
    def _fill_total(self) -> Usage:
        if not self.total_tokens:
            self.total_tokens = self.prompt_tokens + self.completion_tokens
        return self

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens; they are already counted in ``completion_tokens``."""
        return self.completion_tokens_details.reasoning_tokens

    @property
    def cached_tokens(self) -> int:
        return self.prompt_tokens_details.cached_tokens

    @property
    def cache_write_tokens(self) -> int:
        return self.prompt_tokens_details.cache_write_tokens

    @property
    def upstream_inference_cost(self) -> Decimal | None:
        return self.cost_details.upstream_inference_cost if self.cost_details else None


def _lenient_usage(value: Any) -> Usage | None:
    """Usage that does not validate is treated as missing (flagged upstream), not as zero."""
    if value is None or isinstance(value, Usage):
        return value
    try:
        return Usage.model_validate(value)
    except ValidationError:
        return None


class FunctionCall(OpenRouterModel):
    name: str | None = None
    arguments: str | None = None


class ToolCall(OpenRouterModel):
    id: str | None = None
    index: int | None = None
    type: str = "function"
    function: FunctionCall = Field(default_factory=FunctionCall)


class Message(OpenRouterModel):
    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)

    @field_validator("content", mode="before")
    @classmethod
    def _parts_to_text(cls, value: Any) -> Any:
        if isinstance(value, list):  # content parts: keep the text ones
            return "".join(p.get("text", "") for p in value if isinstance(p, dict))
        return value

    @field_validator("tool_calls", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value


class Choice(OpenRouterModel):
    index: int = 0
    message: Message = Field(default_factory=Message)
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    error: dict[str, Any] | None = None


class ChatResult(OpenRouterModel):
    """A non-streaming chat completion. ``attempts`` is set by the client (1 = no retry)."""

    id: str | None = None
    model: str | None = None
    provider: str | None = None
    created: int | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    choices: list[Choice] = Field(default_factory=list)
    usage: Usage | None = None
    attempts: int = 1
    generation_id_header: str | None = Field(default=None, exclude=True)

    @field_validator("usage", mode="before")
    @classmethod
    def _invalid_usage_is_missing(cls, value: Any) -> Any:
        return _lenient_usage(value)

    @property
    def generation_id(self) -> str | None:
        return self.id or self.generation_id_header

    @property
    def message(self) -> Message | None:
        return self.choices[0].message if self.choices else None

    @property
    def content(self) -> str:
        message = self.message
        return message.content or "" if message else ""

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason if self.choices else None

    @property
    def native_finish_reason(self) -> str | None:
        return self.choices[0].native_finish_reason if self.choices else None

    @property
    def cost(self) -> Decimal | None:
        return self.usage.cost if self.usage else None


class ErrorBody(OpenRouterModel):
    """The ``error`` object of an error envelope; ``code`` may be a number or a string."""

    message: str = ""
    code: int | str | None = None
    metadata: dict[str, Any] | None = None


class Delta(OpenRouterModel):
    role: str | None = None
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("tool_calls", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value


class ChunkChoice(OpenRouterModel):
    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    finish_reason: str | None = None
    native_finish_reason: str | None = None


class ChatChunk(OpenRouterModel):
    """One ``data:`` event of a chat stream. The last one carries ``usage``."""

    id: str | None = None
    model: str | None = None
    provider: str | None = None
    created: int | None = None
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None
    error: ErrorBody | None = None

    @field_validator("usage", mode="before")
    @classmethod
    def _invalid_usage_is_missing(cls, value: Any) -> Any:
        return _lenient_usage(value)

    @property
    def text(self) -> str:
        """The content fragment this chunk adds (empty for role/finish/usage chunks)."""
        return "".join(c.delta.content or "" for c in self.choices)

    @property
    def finish_reason(self) -> str | None:
        return next((c.finish_reason for c in self.choices if c.finish_reason), None)

    @property
    def is_error(self) -> bool:
        return self.error is not None or self.finish_reason == "error"
