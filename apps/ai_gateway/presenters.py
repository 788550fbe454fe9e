"""Structured AI results as labelled fields in the reader's language (templates never see raw keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

# One label per field the structured features return (use_cases.LeadProfile, ReviewAnalysis and
# the SMS classification). A field without a label here is shown under its key, never dropped.
FIELD_LABELS: dict[str, Any] = {
    "company": _("Company"),
    "industry": _("Industry"),
    "size": _("Size (employees)"),
    "summary": _("Summary"),
    "next_step": _("Suggested next step"),
    "sentiment": _("Sentiment"),
    "topics": _("Topics"),
    "suggested_reply": _("Suggested reply"),
    "category": _("Category"),
    "confidence": _("Confidence"),
}

# Fixed values the model chooses from: shown in the reader's language. Anything else (a tenant's
# own SMS category, free text) is shown as the model wrote it.
VALUE_LABELS: dict[str, dict[str, Any]] = {
    "sentiment": {
        "positive": _("positive"),
        "neutral": _("neutral"),
        "negative": _("negative"),
        "mixed": _("mixed"),
    },
    "category": {
        "booking": _("booking"),
        "cancellation": _("cancellation"),
        "question": _("question"),
        "complaint": _("complaint"),
        "spam": _("spam"),
        "other": _("other"),
    },
}

# Fields whose value is a ratio 0..1, shown as a percentage.
RATIO_FIELDS = frozenset({"confidence"})
# Fields that read as a paragraph rather than a short value.
LONG_FIELDS = frozenset({"summary", "next_step", "suggested_reply"})


@dataclass(frozen=True)
class ResultField:
    key: str
    label: str
    value: Any  # display text; for kind "ratio" the number, which the template shows with |percent
    kind: str  # "ratio", "long" (a paragraph) or "text"


def _kind(key: str) -> str:
    return "ratio" if key in RATIO_FIELDS else "long" if key in LONG_FIELDS else "text"


def _value(key: str, value: Any) -> Any:
    if key in RATIO_FIELDS:
        return value
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_value(key, item) for item in value)
    text = str(value)
    return str(VALUE_LABELS.get(key, {}).get(text, text))


def result_fields(output: dict[str, Any]) -> list[ResultField]:
    """``output``'s fields in their order, each with a label and a display value."""
    return [
        ResultField(
            key=key,
            label=str(FIELD_LABELS.get(key, key)),
            value=_value(key, value),
            kind=_kind(key),
        )
        for key, value in output.items()
    ]
