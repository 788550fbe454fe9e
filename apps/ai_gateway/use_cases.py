"""The AI features' prompts and expected output shapes.

Structured features ask the model for JSON matching a schema (``response_format: json_schema``)
and validate what comes back with pydantic; anything else is a clear ``invalid_output`` error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from apps.integrations.models import UseCase


class OutputInvalid(ValueError):
    """The model's answer does not have the shape the feature needs."""


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class LeadProfile(_Output):
    company: str = Field(min_length=1, max_length=200)
    industry: str = Field(max_length=200)
    size: str = Field(max_length=100, description="Approximate number of employees, e.g. '10-49'")
    summary: str = Field(max_length=2000)
    next_step: str = Field(max_length=1000)


class ReviewAnalysis(_Output):
    sentiment: Literal["positive", "neutral", "negative", "mixed"]
    topics: list[str] = Field(max_length=20)
    summary: str = Field(max_length=2000)
    suggested_reply: str = Field(max_length=2000)


def sms_output_model(categories: list[str]) -> type[BaseModel]:
    """The SMS classification shape, with the tenant's category set as the only allowed values."""
    category_type = Literal[tuple(categories)]  # type: ignore[valid-type]
    return create_model(
        "SmsClassification",
        __base__=_Output,
        category=(category_type, ...),  # type: ignore[arg-type]
        confidence=(float, Field(ge=0, le=1)),
    )


@dataclass(frozen=True)
class Spec:
    use_case: UseCase
    system_prompt: str
    output: type[BaseModel] | None = None  # None: free text

    def response_format(self) -> dict[str, Any] | None:
        if self.output is None:
            return None
        schema = self.output.model_json_schema()
        return {
            "type": "json_schema",
            "json_schema": {"name": self.output.__name__, "strict": True, "schema": schema},
        }

    def parse(self, content: str) -> Any:
        if self.output is None:
            text = content.strip()
            if not text:
                raise OutputInvalid(_("The model returned an empty answer."))
            return text
        return parse_json_output(self.output, content)


def parse_json_output(model: type[BaseModel], content: str) -> dict[str, Any]:
    text = content.strip()
    if text.startswith("```"):  # some models wrap JSON in a code fence despite being asked not to
        text = text.strip("`").removeprefix("json").strip()
    try:
        return model.model_validate(json.loads(text)).model_dump()
    except (json.JSONDecodeError, ValidationError) as exc:
        raise OutputInvalid(
            _(
                "The model's answer was not in the expected format (%(kind)s). Try again or choose another model."
            )
            % {"kind": "JSON" if isinstance(exc, json.JSONDecodeError) else _("missing or invalid fields")}
        ) from None


CHAT = Spec(
    UseCase.CHAT,
    "You are a helpful assistant for a small business. Answer briefly and concretely, in the "
    "language the user writes in.",
)
LEAD_ENRICHMENT = Spec(
    UseCase.LEAD_ENRICHMENT,
    "You enrich sales leads for a small business. From what the user gives you, describe the "
    "company: its industry, approximate size, a short summary and the best next step for a "
    "salesperson. Answer only with JSON matching the schema. Do not invent facts you cannot infer.",
    LeadProfile,
)
REVIEW_ANALYSIS = Spec(
    UseCase.REVIEW_ANALYSIS,
    "You analyse customer reviews for a small business: overall sentiment, the topics mentioned, "
    "a short summary and a polite reply the owner could post. Answer only with JSON matching the "
    "schema, in the language of the reviews.",
    ReviewAnalysis,
)
MESSAGE_GENERATION = Spec(
    UseCase.MESSAGE_GENERATION,
    "You write customer messages for a small business. Follow the requested channel, tone and "
    "length exactly. Return only the message text, without quotes or explanations.",
)
GENERIC = Spec(UseCase.GENERIC, "You are a helpful assistant.")


def sms_spec(categories: list[str]) -> Spec:
    return Spec(
        UseCase.SMS_CLASSIFICATION,
        "You classify incoming SMS messages for a small business into exactly one of these "
        f"categories: {', '.join(categories)}. Give your confidence between 0 and 1. Answer only "
        "with JSON matching the schema.",
        sms_output_model(categories),
    )


def default_sms_categories() -> list[str]:
    return list(settings.AI_SMS_CATEGORIES)
