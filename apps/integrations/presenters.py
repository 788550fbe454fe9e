"""Plain values for the AI tab's templates (the templates never query and never see a key)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .clients import system_provider_configured
from .connection import SEVERITY, CheckOutcome, outcome_message
from .models import SLOT_FIELDS, USE_CASE_MODEL_FIELDS, AISettings, KeySlot, KeyStatus, Provider, UseCase
from .openrouter import Model

JUST_NOW = dt.timedelta(minutes=1)
_STATUS_SEVERITY = {KeyStatus.OK: "ok", KeyStatus.FAILING: "err", KeyStatus.UNVERIFIED: "warn"}


@dataclass(frozen=True)
class KeyRow:
    slot: str
    label: Any
    configured: bool
    last4: str
    status: str
    status_label: Any
    severity: str
    message: str
    verified_at: Any
    optional: bool
    verified_just_now: bool = False


def _key_row(row: AISettings | None, slot: KeySlot) -> KeyRow:
    fields = SLOT_FIELDS[slot]
    optional = slot == KeySlot.MANAGEMENT
    label = _("Provisioning / management key") if optional else _("API key")
    last4 = getattr(row, fields.last4) if row else ""
    if not last4:
        return KeyRow(slot, label, False, "", "", _("Not configured"), "", "", None, optional)
    status = KeyStatus(getattr(row, fields.status))
    detail = getattr(row, fields.detail)
    severity = _STATUS_SEVERITY[status]
    if detail in set(CheckOutcome):
        severity = SEVERITY[CheckOutcome(detail)] or severity
    on_platform = slot == KeySlot.API and row is not None and row.has_platform_key
    message = outcome_message(detail, slot, platform=on_platform) if detail else ""
    verified_at = getattr(row, fields.verified_at)
    return KeyRow(
        slot=slot.value,
        label=label,
        configured=True,
        last4=last4,
        status=status.value,
        status_label=status.label,
        severity=severity,
        message=message,
        verified_at=verified_at,
        optional=optional,
        verified_just_now=verified_at is not None and timezone.now() - verified_at < JUST_NOW,
    )


@dataclass(frozen=True)
class PlatformKeyView:
    """A platform-provided API key as the tenant sees it: last 4, monthly limit, disabled."""

    last4: str
    limit_usd: Any
    disabled: bool


def platform_key_context(row: AISettings | None) -> PlatformKeyView | None:
    if row is None or not row.has_platform_key:
        return None
    return PlatformKeyView(row.api_key_last4, row.platform_key_limit_usd, row.platform_key_disabled)


def status_context(row: AISettings | None) -> dict[str, Any]:
    """The status card: both keys, provider, fallback and the models in use."""
    provider = Provider(row.ai_provider) if row else Provider.OPENROUTER
    fallback = bool(row and row.use_system_fallback)
    default_model = row.default_model if row and row.default_model else ""
    return {
        "key_rows": [_key_row(row, KeySlot.API), _key_row(row, KeySlot.MANAGEMENT)],
        # A platform tenant's OpenRouter calls use the platform's key, not "your key".
        "provider_label": _("OpenRouter (provided by the platform)")
        if provider == Provider.OPENROUTER and row is not None and row.has_platform_key
        else provider.label,
        "provider_is_system": provider == Provider.SYSTEM,
        "fallback_on": fallback,
        "system_configured": system_provider_configured(),
        "default_model": default_model,
        "system_default_model": django_settings.OPENROUTER_DEFAULT_MODEL,
        "use_case_models": [
            {"label": use_case.label, "model": getattr(row, USE_CASE_MODEL_FIELDS[use_case]) if row else ""}
            for use_case in UseCase
        ],
        "has_settings": row is not None,
        "activity_whole_account": bool(row and row.activity_whole_account and not row.has_platform_key),
        "platform_key": platform_key_context(row),
    }


# OpenRouter's modality words in the reader's language; an unknown new one is shown as sent.
MODALITY_LABELS: dict[str, Any] = {
    "text": _("text"),
    "image": _("image"),
    "audio": _("audio"),
    "file": _("file"),
    "video": _("video"),
}


def modalities_text(modalities: list[str]) -> str:
    """``["image", "text"]`` reads "bild, text" in Swedish."""
    return ", ".join(str(MODALITY_LABELS.get(m, m)) for m in modalities)


@dataclass(frozen=True)
class ModelRow:
    id: str
    name: str
    context_length: int | None
    prompt: Any
    completion: Any
    input_modalities: str
    output_modalities: str


def model_rows(models: list[Model]) -> list[ModelRow]:
    return [
        ModelRow(
            id=model.id,
            name=model.name or model.id,
            context_length=model.context_length,
            prompt=-1 if model.pricing.is_variable else model.pricing.prompt,
            completion=-1 if model.pricing.is_variable else model.pricing.completion,
            input_modalities=modalities_text(model.architecture.input_modalities),
            output_modalities=modalities_text(model.architecture.output_modalities),
        )
        for model in models
    ]
