"""Test connection: what each OpenRouter key is, and whether it can be used.

The checks ask OpenRouter (``/key`` for both keys, ``/credits`` for the balance) and turn the
answer into one :class:`CheckOutcome` per key with a message a user can act on: a valid inference
key, a valid management key, a key pasted into the wrong field (``/key``'s
``is_management_key``), an account out of credits, a key at its spending limit, or OpenRouter
being unreachable. Nothing here touches the database; :mod:`.services` records the results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from .clients import openrouter_client
from .models import KeySlot
from .openrouter import (
    Credits,
    InsufficientCreditsError,
    InvalidKeyError,
    KeyInfo,
    KeyLimitError,
    OpenRouterClient,
    OpenRouterError,
    RateLimitedError,
    RetryPolicy,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

# Interactive checks: a person is waiting, so fail fast rather than retry for a minute and a half.
INTERACTIVE_TIMEOUT = 10.0
INTERACTIVE_DEADLINE = 15.0
INTERACTIVE_RETRY = RetryPolicy(max_attempts=2, base=0.2, cap=1.0)

ClientFactory = Callable[[str], OpenRouterClient]


def interactive_client(key: str) -> OpenRouterClient:
    """A client for checks and account widgets: short timeouts, at most one retry."""
    return openrouter_client(
        key, timeout=INTERACTIVE_TIMEOUT, deadline=INTERACTIVE_DEADLINE, retry=INTERACTIVE_RETRY
    )


class CheckOutcome(StrEnum):
    OK = "ok"
    NOT_CONFIGURED = "not_configured"
    UNREADABLE = "unreadable"
    INVALID_KEY = "invalid_key"
    MANAGEMENT_KEY_IN_API_FIELD = "management_key_in_api_field"
    INFERENCE_KEY_IN_MANAGEMENT_FIELD = "inference_key_in_management_field"
    OUT_OF_CREDITS = "out_of_credits"
    KEY_LIMIT = "key_limit"
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"


# The outcomes that say nothing about the key itself (OpenRouter could not be asked).
INCONCLUSIVE = {CheckOutcome.RATE_LIMITED, CheckOutcome.UNREACHABLE, CheckOutcome.NOT_CONFIGURED}
# How serious an outcome looks on the page: "ok", "warn" or "err".
SEVERITY: dict[CheckOutcome, str] = {
    CheckOutcome.OK: "ok",
    CheckOutcome.NOT_CONFIGURED: "",
    CheckOutcome.OUT_OF_CREDITS: "warn",
    CheckOutcome.KEY_LIMIT: "warn",
    CheckOutcome.RATE_LIMITED: "warn",
    CheckOutcome.UNREACHABLE: "warn",
    CheckOutcome.UNREADABLE: "err",
    CheckOutcome.INVALID_KEY: "err",
    CheckOutcome.MANAGEMENT_KEY_IN_API_FIELD: "err",
    CheckOutcome.INFERENCE_KEY_IN_MANAGEMENT_FIELD: "err",
}

OUTCOME_LABELS: dict[CheckOutcome, StrOrPromise] = {
    CheckOutcome.OK: _("Connected"),
    CheckOutcome.NOT_CONFIGURED: _("Not configured"),
    CheckOutcome.UNREADABLE: _("Unreadable"),
    CheckOutcome.INVALID_KEY: _("Invalid key"),
    CheckOutcome.MANAGEMENT_KEY_IN_API_FIELD: _("Wrong kind of key"),
    CheckOutcome.INFERENCE_KEY_IN_MANAGEMENT_FIELD: _("Wrong kind of key"),
    CheckOutcome.OUT_OF_CREDITS: _("Out of credits"),
    CheckOutcome.KEY_LIMIT: _("Limit reached"),
    CheckOutcome.RATE_LIMITED: _("Rate limited"),
    CheckOutcome.UNREACHABLE: _("Unreachable"),
}

_MESSAGES: dict[CheckOutcome, StrOrPromise] = {
    CheckOutcome.NOT_CONFIGURED: _("No key entered or stored."),
    CheckOutcome.UNREADABLE: _("The stored key can no longer be decrypted. Enter it again."),
    CheckOutcome.INVALID_KEY: _(
        "OpenRouter does not recognise this key. It may be mistyped, disabled, expired or deleted."
    ),
    CheckOutcome.MANAGEMENT_KEY_IN_API_FIELD: _(
        "This is a management key. It cannot make AI calls: put it in the “Provisioning / management "
        "key” field and use an inference API key (from openrouter.ai/settings/keys) here."
    ),
    CheckOutcome.INFERENCE_KEY_IN_MANAGEMENT_FIELD: _(
        "This is an inference API key, not a management key. Put it in the API key field; create a "
        "management key at openrouter.ai/settings/management-keys."
    ),
    CheckOutcome.OUT_OF_CREDITS: _(
        "The key works, but the OpenRouter account is out of credits. Add credits at "
        "openrouter.ai/settings/credits."
    ),
    CheckOutcome.KEY_LIMIT: _(
        "The key works, but it has reached its spending limit. Raise the limit at "
        "openrouter.ai/settings/keys or wait until it resets."
    ),
    CheckOutcome.RATE_LIMITED: _("OpenRouter is rate limiting requests right now. Try again in a minute."),
    CheckOutcome.UNREACHABLE: _("OpenRouter could not be reached. Try again later."),
}
# A tenant on the platform's key cannot fix it at openrouter.ai: the platform's staff can.
_PLATFORM_MESSAGES: dict[CheckOutcome, StrOrPromise] = {
    CheckOutcome.INVALID_KEY: _(
        "OpenRouter does not accept the platform's key for your account: it is disabled or no "
        "longer valid. Contact the platform's staff."
    ),
    CheckOutcome.OUT_OF_CREDITS: _(
        "The platform's key works, but the platform's OpenRouter account is out of credits. "
        "Contact the platform's staff."
    ),
    CheckOutcome.KEY_LIMIT: _(
        "The platform's key works, but it has reached its monthly limit. AI calls resume when it "
        "resets on the 1st (UTC), or contact the platform's staff to raise it."
    ),
}
_OK_MESSAGES: dict[KeySlot, StrOrPromise] = {
    KeySlot.API: _("Valid inference API key: it can make AI calls."),
    KeySlot.MANAGEMENT: _("Valid management key: the account balance and activity history are available."),
}


def outcome_message(outcome: str, slot: KeySlot, *, platform: bool = False) -> str:
    """The user-facing text for an outcome code (unknown codes are shown as they are).
    ``platform``: the API key is the platform's, so the advice is to contact its staff."""
    try:
        known = CheckOutcome(outcome)
    except ValueError:
        return outcome
    if known == CheckOutcome.OK:
        return str(_OK_MESSAGES[slot])
    if platform and slot == KeySlot.API and known in _PLATFORM_MESSAGES:
        return str(_PLATFORM_MESSAGES[known])
    return str(_MESSAGES[known])


@dataclass(frozen=True)
class KeyCheck:
    """What the check found for one key. Carries the last 4 characters, never the key."""

    slot: KeySlot
    outcome: CheckOutcome
    source: str = "none"  # "entered" (typed into the form), "stored" or "none"
    last4: str = ""
    detail: str = ""  # the specific reason from OpenRouter's error, when there is one
    is_management_key: bool | None = None
    limit: Decimal | None = None
    limit_remaining: Decimal | None = None
    limit_reset: str | None = None
    balance: Decimal | None = None
    platform: bool = False  # the stored API key is the platform's (provisioned for the tenant)

    @property
    def ok(self) -> bool:
        return self.outcome == CheckOutcome.OK

    @property
    def reached_openrouter(self) -> bool:
        return self.outcome not in INCONCLUSIVE and self.outcome != CheckOutcome.UNREADABLE

    @property
    def message(self) -> str:
        return outcome_message(self.outcome, self.slot, platform=self.platform)

    @property
    def severity(self) -> str:
        return SEVERITY[self.outcome]

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])

    @property
    def slot_label(self) -> str:
        return str(self.slot.label)


@dataclass(frozen=True)
class ConnectionReport:
    api: KeyCheck
    management: KeyCheck
    checks: tuple[KeyCheck, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", (self.api, self.management))

    @property
    def ok(self) -> bool:
        """True when the API key works and the management key (if any) works too."""
        return self.api.ok and self.management.outcome in (CheckOutcome.OK, CheckOutcome.NOT_CONFIGURED)


def _failure(slot: KeySlot, exc: OpenRouterError, *, is_management_key: bool | None = None) -> KeyCheck:
    if isinstance(exc, InvalidKeyError):
        outcome = CheckOutcome.INVALID_KEY
    elif isinstance(exc, InsufficientCreditsError):
        outcome = CheckOutcome.OUT_OF_CREDITS
    elif isinstance(exc, KeyLimitError):
        outcome = CheckOutcome.KEY_LIMIT
    elif isinstance(exc, RateLimitedError):
        outcome = CheckOutcome.RATE_LIMITED
    else:
        outcome = CheckOutcome.UNREACHABLE
    logger.info("OpenRouter %s key check failed: %s", slot.value, exc)
    return KeyCheck(
        slot=slot, outcome=outcome, detail=str(exc.user_message), is_management_key=is_management_key
    )


def _limit_reached(info: KeyInfo) -> bool:
    return info.limit is not None and info.limit_remaining is not None and info.limit_remaining <= 0


def check_management_key(key: str, *, client_factory: ClientFactory = interactive_client) -> KeyCheck:
    """Is ``key`` a working management key, and what is the account's balance?"""
    slot = KeySlot.MANAGEMENT
    with client_factory(key) as client:
        try:
            info = client.key()
        except OpenRouterError as exc:
            return _failure(slot, exc)
        if not info.is_management_key:
            return KeyCheck(
                slot=slot, outcome=CheckOutcome.INFERENCE_KEY_IN_MANAGEMENT_FIELD, is_management_key=False
            )
        try:
            credits = client.credits()
        except OpenRouterError as exc:
            return _failure(slot, exc, is_management_key=True)
    outcome = CheckOutcome.OUT_OF_CREDITS if credits.balance <= 0 else CheckOutcome.OK
    return KeyCheck(slot=slot, outcome=outcome, is_management_key=True, balance=credits.balance)


def _balance_with_inference_key(client: OpenRouterClient) -> Decimal | None:
    """The balance, if OpenRouter still answers ``/credits`` for an inference key.

    ``/credits`` is documented for management keys only; for an inference key most accounts now
    refuse it (403) or answer zeros. Both mean "unknown", never "empty".
    """
    try:
        credits: Credits = client.credits()
    except OpenRouterError:
        return None
    if credits.total_credits == 0 and credits.total_usage == 0:
        return None
    return credits.balance


def check_api_key(
    key: str, *, balance: Decimal | None = None, client_factory: ClientFactory = interactive_client
) -> KeyCheck:
    """Is ``key`` a working inference key? ``balance`` is the account balance when a management
    key already told us; otherwise the inference key is asked for it (which usually cannot tell)."""
    slot = KeySlot.API
    with client_factory(key) as client:
        try:
            info = client.key()
        except OpenRouterError as exc:
            return _failure(slot, exc)
        if info.is_management_key:
            return KeyCheck(
                slot=slot, outcome=CheckOutcome.MANAGEMENT_KEY_IN_API_FIELD, is_management_key=True
            )
        if balance is None:
            balance = _balance_with_inference_key(client)
    if _limit_reached(info):
        outcome = CheckOutcome.KEY_LIMIT
    elif balance is not None and balance <= 0:
        outcome = CheckOutcome.OUT_OF_CREDITS
    else:
        outcome = CheckOutcome.OK
    return KeyCheck(
        slot=slot,
        outcome=outcome,
        balance=balance,
        is_management_key=info.is_management_key,
        limit=info.limit,
        limit_remaining=info.limit_remaining,
        limit_reset=info.limit_reset,
    )


def not_configured(slot: KeySlot) -> KeyCheck:
    return KeyCheck(slot=slot, outcome=CheckOutcome.NOT_CONFIGURED)


def unreadable(slot: KeySlot) -> KeyCheck:
    return KeyCheck(slot=slot, outcome=CheckOutcome.UNREADABLE, source="stored")
