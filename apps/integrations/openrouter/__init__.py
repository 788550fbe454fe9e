"""OpenRouter integration: a pure, typed client (:class:`OpenRouterClient`) and its errors.

The in-process emulator used in development and tests lives in :mod:`.emulator`.

Names load lazily (PEP 562): importing the emulator, which lives in this package, does not import
the client, so each can be worked on (and run) without the other.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import OpenRouterClient
    from .errors import (
        BadResponseError,
        ConnectionFailedError,
        ErrorCode,
        ErrorIn200Error,
        GenerationNotFoundError,
        InsufficientCreditsError,
        InvalidKeyError,
        InvalidRequestError,
        KeyLimitError,
        ManagementKeyRequiredError,
        ModerationError,
        NoEndpointsError,
        NotFoundError,
        OpenRouterError,
        ProviderError,
        RateLimitedError,
        ReadTimeoutError,
        UnavailableError,
        UpstreamTimeoutError,
        error_from_response,
    )
    from .retry import RetryPolicy
    from .schemas import (
        ActivityRow,
        ApiKey,
        ChatChunk,
        ChatResult,
        CreatedKey,
        Credits,
        Generation,
        KeyInfo,
        Model,
        ModelList,
        Pricing,
        Usage,
    )
    from .stream import ChatStream

_EXPORTS = {
    "OpenRouterClient": "client",
    "BadResponseError": "errors",
    "ConnectionFailedError": "errors",
    "ErrorCode": "errors",
    "ErrorIn200Error": "errors",
    "GenerationNotFoundError": "errors",
    "InsufficientCreditsError": "errors",
    "InvalidKeyError": "errors",
    "InvalidRequestError": "errors",
    "KeyLimitError": "errors",
    "ManagementKeyRequiredError": "errors",
    "ModerationError": "errors",
    "NoEndpointsError": "errors",
    "NotFoundError": "errors",
    "OpenRouterError": "errors",
    "ProviderError": "errors",
    "RateLimitedError": "errors",
    "ReadTimeoutError": "errors",
    "UnavailableError": "errors",
    "UpstreamTimeoutError": "errors",
    "error_from_response": "errors",
    "RetryPolicy": "retry",
    "ActivityRow": "schemas",
    "ApiKey": "schemas",
    "ChatChunk": "schemas",
    "ChatResult": "schemas",
    "CreatedKey": "schemas",
    "Credits": "schemas",
    "Generation": "schemas",
    "KeyInfo": "schemas",
    "Model": "schemas",
    "ModelList": "schemas",
    "Pricing": "schemas",
    "Usage": "schemas",
    "ChatStream": "stream",
}

__all__ = [
    "ActivityRow",
    "ApiKey",
    "BadResponseError",
    "ChatChunk",
    "ChatResult",
    "ChatStream",
    "ConnectionFailedError",
    "CreatedKey",
    "Credits",
    "ErrorCode",
    "ErrorIn200Error",
    "Generation",
    "GenerationNotFoundError",
    "InsufficientCreditsError",
    "InvalidKeyError",
    "InvalidRequestError",
    "KeyInfo",
    "KeyLimitError",
    "ManagementKeyRequiredError",
    "Model",
    "ModelList",
    "ModerationError",
    "NoEndpointsError",
    "NotFoundError",
    "OpenRouterClient",
    "OpenRouterError",
    "Pricing",
    "ProviderError",
    "RateLimitedError",
    "ReadTimeoutError",
    "RetryPolicy",
    "UnavailableError",
    "UpstreamTimeoutError",
    "Usage",
    "error_from_response",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
