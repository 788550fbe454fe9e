"""Calling a provider, with the system fallback when the tenant allowed it."""

from __future__ import annotations

from typing import Any

from apps.integrations.openrouter import ChatResult, ChatStream, ErrorCode, OpenRouterClient, OpenRouterError

from .routing import Route, fallback_route

# Failures the system provider may answer instead, when the tenant allowed it. Never 401/402/403:
# a fallback must not hide a bad key or dodge a budget.
FALLBACK_CODES = {
    ErrorCode.RATE_LIMITED,
    ErrorCode.PROVIDER_ERROR,
    ErrorCode.UNAVAILABLE,
    ErrorCode.CONNECTION,
}


class Failed(Exception):
    def __init__(self, error: OpenRouterError, route: Route, attempts: int, is_fallback: bool) -> None:
        super().__init__(error.code.value)
        self.error, self.route, self.attempts, self.is_fallback = error, route, attempts, is_fallback


def can_fall_back(route: Route, error: OpenRouterError) -> bool:
    if not route.allow_fallback or error.code not in FALLBACK_CODES:
        return False
    return error.code != ErrorCode.CONNECTION or not error.sent


def fallback_body(body: dict[str, Any], route: Route) -> dict[str, Any]:
    # OpenRouter-only routing options mean nothing to another provider.
    return {k: v for k, v in body.items() if k not in {"models", "provider"}} | {"model": route.model}


def chat_with_fallback(route: Route, body: dict[str, Any]) -> tuple[ChatResult, Route, int, bool]:
    try:
        with route.client() as client:
            result = client.chat(body)
        return result, route, result.attempts, False
    except OpenRouterError as exc:
        if not can_fall_back(route, exc):
            raise Failed(exc, route, exc.attempts, False) from None
        spent = exc.attempts
    backup = fallback_route()
    try:
        with backup.client() as client:
            result = client.chat(fallback_body(body, backup))
        return result, backup, spent + result.attempts, True
    except OpenRouterError as exc:
        raise Failed(exc, backup, spent + exc.attempts, True) from None


def stream_with_fallback(
    route: Route, body: dict[str, Any]
) -> tuple[ChatStream, OpenRouterClient, Route, int, bool]:
    """Open an upstream stream. Failures before the first byte may fall back; later ones cannot."""
    client = route.client()
    try:
        upstream = client.chat_stream(body)
        return upstream, client, route, upstream.attempts, False
    except OpenRouterError as exc:
        client.close()
        if not can_fall_back(route, exc):
            raise Failed(exc, route, exc.attempts, False) from None
        spent = exc.attempts
    backup = fallback_route()
    client = backup.client()
    try:
        upstream = client.chat_stream(fallback_body(body, backup))
        return upstream, client, backup, spent + upstream.attempts, True
    except OpenRouterError as exc:
        client.close()
        raise Failed(exc, backup, spent + exc.attempts, True) from None
