"""OpenRouter integration: a pure, typed client (:class:`OpenRouterClient`), its errors and schemas.

The local OpenRouter used in development and tests is a separate app, :mod:`apps.emulator`.
"""

from __future__ import annotations

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
