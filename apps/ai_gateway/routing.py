"""Choosing the model and provider for a call, from the tenant's settings and the system defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.core.crypto import DecryptionError
from apps.integrations.clients import openrouter_client, system_client, system_provider_configured
from apps.integrations.models import Provider, UseCase
from apps.integrations.openrouter import OpenRouterClient
from apps.integrations.selectors import ai_settings_for_call

from . import errors
from .validation import validate_model_id


@dataclass(frozen=True)
class Route:
    """Where one call goes. ``api_key`` never leaves the server and is never logged."""

    provider: Provider
    model: str
    api_key: str
    allow_fallback: bool
    # The key is the platform's (provisioned per tenant): its failures are the platform's to fix.
    platform_key: bool = False

    def __repr__(self) -> str:  # keep the key out of tracebacks and debug output
        return (
            f"Route(provider={self.provider!r}, model={self.model!r}, allow_fallback={self.allow_fallback})"
        )

    def client(self) -> OpenRouterClient:
        if self.provider == Provider.SYSTEM:
            return system_client()
        return openrouter_client(self.api_key)


def _model_for(row: Any, use_case: str, explicit: str | None) -> str:
    chosen = explicit or (row.model_for(use_case) if row else "") or (row.default_model if row else "")
    return validate_model_id(chosen or settings.OPENROUTER_DEFAULT_MODEL)


def route_resolve(*, user: Any, use_case: str, model: str | None) -> Route:
    """The provider and model for this call. Raises ``GatewayError`` when nothing can serve it."""
    UseCase(use_case)  # ValueError for an unknown use case: a programming error, not user input
    try:
        row = ai_settings_for_call(user=user)
        api_key = row.openrouter_api_key if row else ""
    except DecryptionError:
        raise errors.key_unreadable() from None
    if row is not None and row.ai_provider == Provider.SYSTEM:
        if not system_provider_configured():
            raise errors.system_unavailable()
        return Route(Provider.SYSTEM, validate_model_id(settings.SYSTEM_AI_MODEL), "", allow_fallback=False)
    if not api_key:
        raise errors.not_configured()
    allow = bool(row and row.use_system_fallback and system_provider_configured())
    return Route(
        Provider.OPENROUTER,
        _model_for(row, use_case, model),
        api_key,
        allow_fallback=allow,
        platform_key=bool(row and row.has_platform_key),
    )


def fallback_route() -> Route:
    return Route(Provider.SYSTEM, validate_model_id(settings.SYSTEM_AI_MODEL), "", allow_fallback=False)
