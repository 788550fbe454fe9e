"""Builds OpenRouter clients from settings: the one place that knows base URLs and timeouts."""

from __future__ import annotations

import time

from django.conf import settings

from .openrouter import OpenRouterClient, RetryPolicy

# How retry waits happen. Tests swap this for a recorder, so the retry policy is exercised (and
# its waits asserted) without waiting; nothing else replaces it.
sleep = time.sleep


def _sleep(seconds: float) -> None:
    sleep(seconds)


def openrouter_client(
    api_key: str,
    *,
    timeout: float | None = None,
    deadline: float | None = None,
    retry: RetryPolicy | None = None,
) -> OpenRouterClient:
    """A client for the tenant's own key against the configured OpenRouter origin.

    ``retry`` replaces the default policy (interactive pages use fewer attempts).
    """
    return OpenRouterClient(
        api_key,
        base_url=settings.OPENROUTER_BASE_URL,
        timeout=timeout if timeout is not None else settings.OPENROUTER_TIMEOUT_SECONDS,
        deadline=deadline if deadline is not None else settings.OPENROUTER_DEADLINE_SECONDS,
        app_url=settings.OPENROUTER_APP_URL,
        app_title=settings.OPENROUTER_APP_TITLE,
        retry=retry,
        sleep=_sleep,
    )


def system_provider_configured() -> bool:
    return bool(settings.SYSTEM_AI_BASE_URL and settings.SYSTEM_AI_API_KEY)


def system_client(*, timeout: float | None = None, deadline: float | None = None) -> OpenRouterClient:
    """A client for the system fallback provider (any OpenAI-compatible endpoint)."""
    return OpenRouterClient(
        settings.SYSTEM_AI_API_KEY,
        base_url=settings.SYSTEM_AI_BASE_URL,
        timeout=timeout if timeout is not None else settings.OPENROUTER_TIMEOUT_SECONDS,
        deadline=deadline if deadline is not None else settings.OPENROUTER_DEADLINE_SECONDS,
        app_url=settings.OPENROUTER_APP_URL,
        app_title=settings.OPENROUTER_APP_TITLE,
        sleep=_sleep,
    )


def platform_keys_enabled() -> bool:
    """True when the platform's management key is configured (provisioned keys are offered)."""
    return bool(settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY)


# One attempt only: a retried POST /keys after a lost answer could make a second key upstream
# that nothing stores; staff see the failure and try again themselves.
_PLATFORM_RETRY = RetryPolicy(max_attempts=1)


def platform_client(*, timeout: float = 20, deadline: float = 20) -> OpenRouterClient:
    """A client for the platform's own management key (key management and tenants' activity)."""
    return OpenRouterClient(
        settings.OPENROUTER_PLATFORM_MANAGEMENT_KEY,
        base_url=settings.OPENROUTER_BASE_URL,
        timeout=timeout,
        deadline=deadline,
        app_url=settings.OPENROUTER_APP_URL,
        app_title=settings.OPENROUTER_APP_TITLE,
        retry=_PLATFORM_RETRY,
        sleep=_sleep,
    )
