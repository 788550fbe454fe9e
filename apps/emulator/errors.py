"""Error bodies with the live strings: ``{"error":{"message","code"[,"metadata"]}[,"user_id"]}``."""

from __future__ import annotations

from typing import Any

from .wsgi import Response

MISSING_AUTH = "Missing Authentication header"
USER_NOT_FOUND = "User not found."
MANAGEMENT_ONLY = "Only management keys can perform this operation"
INSUFFICIENT_CREDITS = "Insufficient credits. Add more using https://openrouter.ai/settings/credits"
GENERATION_NOT_FOUND = "Generation not found"
KEY_LIMIT = "Key limit exceeded ({window} limit). Manage it using https://openrouter.ai/settings/keys"
MAX_TOKENS = (
    "This request requires more credits, or fewer max_tokens. You requested up to {requested} tokens, "
    "but can only afford {affordable}. {tail}"
)
MAX_TOKENS_CREDITS_TAIL = "To increase, visit https://openrouter.ai/settings/credits and add more credits"
MAX_TOKENS_KEY_TAIL = (
    "To increase, visit https://openrouter.ai/settings/keys and create a key with a higher {window} limit"
)
MODERATION = '{slug} requires moderation on {provider}. Your input was flagged for "{reasons}". No credits were charged.'
INVALID_MODEL = "{slug} is not a valid model ID"
NO_ENDPOINTS_POLICY = (
    "No endpoints found matching your data policy (Zero data retention). "
    "Configure: https://openrouter.ai/settings/privacy"
)
NO_ENDPOINTS_FOR = "No endpoints found for {slug}."
TIMEOUT = "Operation timed out. Please try again later."
PROVIDER_ERROR = "Provider returned error"
NO_PROVIDERS = "No allowed providers are available for the selected model."
UPSTREAM_RATE_LIMIT_RAW = (
    "{slug} is temporarily rate-limited upstream. Please retry shortly, or add your own key to "
    "accumulate your rate limits: https://openrouter.ai/settings/integrations"
)
UPSTREAM_CONNECT_RAW = '{"error":{"message":"upstream connect error"}}'
FREE_PER_MIN = "Rate limit exceeded: free-models-per-min. "
FREE_PER_DAY_LOW = (
    "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day"
)
FREE_PER_DAY_HIGH = "Rate limit exceeded: free-models-per-day-high-balance. "


def error_body(
    status: int,
    message: str,
    *,
    metadata: dict[str, Any] | None = None,
    user_id: str | None = None,
    code_first: bool = False,
) -> dict[str, Any]:
    # Live bodies put "message" first, except the management-only 403 and the key-not-found 404,
    # which come from a different service and put "code" first.
    error: dict[str, Any] = (
        {"code": status, "message": message} if code_first else {"message": message, "code": status}
    )
    if metadata is not None:
        error["metadata"] = metadata
    body: dict[str, Any] = {"error": error}
    if user_id is not None:
        body["user_id"] = user_id
    return body


def error_response(
    status: int,
    message: str,
    *,
    metadata: dict[str, Any] | None = None,
    user_id: str | None = None,
    code_first: bool = False,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    body = error_body(status, message, metadata=metadata, user_id=user_id, code_first=code_first)
    return Response.json(status, body, headers)


def missing_auth() -> Response:
    return error_response(401, MISSING_AUTH)


def user_not_found() -> Response:
    return error_response(401, USER_NOT_FOUND)


def management_only() -> Response:
    return error_response(403, MANAGEMENT_ONLY, code_first=True)


def bad_request(message: str, user_id: str | None = None) -> Response:
    return error_response(400, message, user_id=user_id)


def free_model_limited(message: str, limit: int, reset_ms: int, now_ms: int, user_id: str) -> Response:
    """A free-model 429 (OpenRouter's own cap): real ``X-RateLimit-*`` headers, mirrored as strings
    in ``metadata.headers``, and ``Retry-After`` in whole seconds until the window resets."""
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset_ms),
    }
    metadata = {"headers": headers, "provider_name": None}
    retry_after = max(-(-(reset_ms - now_ms) // 1000), 1)
    return error_response(
        429,
        message,
        metadata=metadata,
        user_id=user_id,
        headers=[*headers.items(), ("Retry-After", str(retry_after))],
    )
