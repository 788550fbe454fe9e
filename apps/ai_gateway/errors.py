"""How gateway failures reach a caller: a status, a stable code and a message a user can act on."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from apps.core.api.exceptions import ServiceError
from apps.core.formatting import format_sek
from apps.integrations.openrouter import ErrorCode, OpenRouterError
from apps.usage.models import UsageStatus

# ErrorCode -> (HTTP status for our caller, ledger status)
_MAPPING: dict[ErrorCode, tuple[int, UsageStatus]] = {
    ErrorCode.INVALID_REQUEST: (400, UsageStatus.ERROR),
    ErrorCode.INVALID_KEY: (400, UsageStatus.ERROR),
    ErrorCode.MANAGEMENT_KEY_REQUIRED: (400, UsageStatus.ERROR),
    ErrorCode.INSUFFICIENT_CREDITS: (402, UsageStatus.ERROR),
    ErrorCode.KEY_LIMIT: (403, UsageStatus.ERROR),
    ErrorCode.MODERATION: (403, UsageStatus.ERROR),
    ErrorCode.NO_ENDPOINTS: (400, UsageStatus.ERROR),
    ErrorCode.NOT_FOUND: (400, UsageStatus.ERROR),
    ErrorCode.TIMEOUT: (504, UsageStatus.TIMEOUT),
    ErrorCode.READ_TIMEOUT: (504, UsageStatus.TIMEOUT),
    ErrorCode.RATE_LIMITED: (429, UsageStatus.RATE_LIMITED),
    ErrorCode.PROVIDER_ERROR: (502, UsageStatus.ERROR),
    ErrorCode.BAD_RESPONSE: (502, UsageStatus.ERROR),
    ErrorCode.ERROR_IN_200: (502, UsageStatus.ERROR),
    ErrorCode.UNAVAILABLE: (503, UsageStatus.ERROR),
    ErrorCode.CONNECTION: (503, UsageStatus.ERROR),
}


class GatewayError(ServiceError):
    """A call that did not produce an answer. ``log_id`` is its ledger row, when one was written."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int,
        headers: dict[str, str] | None = None,
        log_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, status_code=status_code, headers=headers, details=details)
        self.log_id = log_id


def ledger_status_for(error: OpenRouterError) -> UsageStatus:
    return _MAPPING.get(error.code, (502, UsageStatus.ERROR))[1]


# The code of every outcome that OpenRouter may have billed (a read timeout after sending, a
# truncated or malformed 200, an error inside a 200): a retry could pay twice.
MAYBE_BILLED = "maybe_billed"


def _platform_messages() -> dict[ErrorCode, str]:
    # A tenant on the platform's key cannot fix the key, its limit or the account's credits at
    # openrouter.ai: the platform's staff can.
    return {
        ErrorCode.INVALID_KEY: _(
            "The platform's OpenRouter key for your account is disabled or no longer valid. "
            "Contact the platform's staff to have it enabled or replaced."
        ),
        ErrorCode.KEY_LIMIT: _(
            "The platform's OpenRouter key for your account has reached its monthly limit. AI calls "
            "resume when it resets on the 1st (UTC), or contact the platform's staff to raise it."
        ),
        ErrorCode.INSUFFICIENT_CREDITS: _(
            "The platform's OpenRouter key for your account cannot pay for this call: its monthly "
            "limit or the platform's credits are spent. Contact the platform's staff."
        ),
    }


def user_message_for(error: OpenRouterError, *, platform_key: bool = False) -> str:
    """What the caller is told: OpenRouter's advice, unless the key is the platform's to fix."""
    if platform_key:
        message = _platform_messages().get(error.code)
        if message is not None:
            return message
    return str(error.user_message)


def gateway_error_from(
    error: OpenRouterError, *, log_id: int | None, platform_key: bool = False
) -> GatewayError:
    status, _ledger = _MAPPING.get(error.code, (502, UsageStatus.ERROR))
    headers = {}
    code = error.code.value
    if error.code == ErrorCode.RATE_LIMITED:
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after or 1)))
    if error.may_be_billed:
        # OpenAI's SDKs honour x-should-retry: false, so their automatic retry never pays twice.
        headers["x-should-retry"] = "false"
        code = MAYBE_BILLED
    return GatewayError(
        user_message_for(error, platform_key=platform_key),
        code=code,
        status_code=status,
        headers=headers,
        log_id=log_id,
    )


def not_configured() -> GatewayError:
    return GatewayError(
        _("Configure your OpenRouter API key under Integrations → AI before using the AI features."),
        code="openrouter_not_configured",
        status_code=400,
    )


def key_unreadable() -> GatewayError:
    return GatewayError(
        _("Your stored OpenRouter key can no longer be read. Enter it again under Integrations → AI."),
        code="openrouter_not_configured",
        status_code=400,
    )


def system_unavailable() -> GatewayError:
    return GatewayError(
        _("The system AI provider is not configured. Choose OpenRouter under Integrations → AI."),
        code="system_provider_not_configured",
        status_code=503,
    )


def ledger_unavailable() -> GatewayError:
    return GatewayError(
        _("The AI service is temporarily unavailable (usage could not be recorded). Try again shortly."),
        code="ledger_unavailable",
        status_code=503,
    )


def invalid_output(message: str, *, log_id: int | None) -> GatewayError:
    return GatewayError(message, code="invalid_output", status_code=502, log_id=log_id)


# The status of a call the tenant's budget refused: 402 Payment Required, as OpenRouter answers
# when credits are spent, with the figures the caller needs to act on.
BUDGET_EXCEEDED = "budget_exceeded"


def budget_exceeded(
    *, limit_sek: Decimal, spent_sek: Decimal, resets_at: dt.datetime, log_id: int | None
) -> GatewayError:
    return GatewayError(
        _(
            "The monthly AI budget of %(limit)s is spent (%(spent)s so far). AI calls are blocked "
            "until %(reset)s UTC, or until the budget is raised under Integrations → AI."
        )
        % {
            "limit": format_sek(limit_sek),
            "spent": format_sek(spent_sek),
            "reset": resets_at.strftime("%Y-%m-%d %H:%M"),
        },
        code=BUDGET_EXCEEDED,
        status_code=402,
        log_id=log_id,
        details={
            "limit_sek": str(limit_sek.quantize(Decimal("0.01"))),
            "spent_sek": str(spent_sek.quantize(Decimal("0.01"))),
            "resets_at": resets_at.isoformat().replace("+00:00", "Z"),
        },
    )
