"""The emulator's state: accounts, keys and the ledger of requests and generations.

Everything here is plain data. :class:`State` owns one re-entrant lock, and every read or write
of accounts, keys or the ledger happens while holding it, because the live server is threaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

ZERO = Decimal(0)


class KeyKind(StrEnum):
    INFERENCE = "inference"
    MANAGEMENT = "management"


class LimitReset(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def window_start(today: date, reset: str | None) -> date | None:
    """First UTC day of the current limit window; ``None`` means all time. Weeks start on Monday."""
    if reset == LimitReset.DAILY:
        return today
    if reset == LimitReset.WEEKLY:
        return today - timedelta(days=today.weekday())
    if reset == LimitReset.MONTHLY:
        return today.replace(day=1)
    return None


def next_reset(today: date, reset: str | None) -> date | None:
    """The UTC day on which the current window ends (its 00:00 is the reset moment)."""
    if reset == LimitReset.DAILY:
        return today + timedelta(days=1)
    if reset == LimitReset.WEEKLY:
        return today + timedelta(days=7 - today.weekday())
    if reset == LimitReset.MONTHLY:
        return (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return None


@dataclass(frozen=True)
class UsageEvent:
    """One line of billed usage, the unit ``/activity`` aggregates (a generation or seeded history)."""

    day: date
    key_hash: str
    model: str
    model_permaslug: str
    endpoint_id: str
    provider_name: str
    usage: Decimal
    requests: int
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cached_tokens: int


@dataclass(eq=False)
class Account:
    user_id: str
    credits: Decimal
    is_free_tier: bool
    workspace_id: str
    usage: Decimal = ZERO
    events: list[UsageEvent] = field(default_factory=list)
    # Free-model request counters: per UTC day, and per fixed UTC minute (minute index).
    free_daily: dict[date, int] = field(default_factory=dict)
    free_minute: dict[int, int] = field(default_factory=dict)

    @property
    def balance(self) -> Decimal:
        return self.credits - self.usage

    @property
    def free_daily_limit(self) -> int:
        # 1000 free requests a day once the account has bought $10 in total.
        return 1000 if self.credits >= 10 else 50


@dataclass(eq=False)
class ApiKey:
    hash: str
    label: str
    kind: KeyKind
    name: str
    account: Account
    created_at: datetime
    disabled: bool = False
    deleted: bool = False
    limit: Decimal | None = None
    limit_reset: str | None = None
    include_byok_in_limit: bool = False
    expires_at: datetime | None = None
    updated_at: datetime | None = None
    last_used_at: datetime | None = None
    usage: Decimal = ZERO
    spend_by_day: dict[date, Decimal] = field(default_factory=dict)

    @property
    def is_management(self) -> bool:
        return self.kind == KeyKind.MANAGEMENT

    def is_usable(self, now: datetime) -> bool:
        expired = self.expires_at is not None and self.expires_at <= now
        return not (self.deleted or self.disabled or expired)

    def usage_since(self, start: date | None) -> Decimal:
        if start is None:
            return self.usage
        return sum((amount for day, amount in self.spend_by_day.items() if day >= start), ZERO)

    def window_usage(self, today: date) -> Decimal:
        return self.usage_since(window_start(today, self.limit_reset))

    def limit_remaining(self, today: date) -> Decimal | None:
        if self.limit is None:
            return None
        return max(self.limit - self.window_usage(today), ZERO)

    def add_spend(self, day: date, amount: Decimal) -> None:
        self.usage += amount
        self.spend_by_day[day] = self.spend_by_day.get(day, ZERO) + amount


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the emulator received it, minus the ``Authorization`` header."""

    method: str
    path: str
    query: dict[str, str]
    key_hash: str | None
    body: Any
    headers: dict[str, str]
    received_at: datetime


@dataclass(frozen=True)
class GenerationRecord:
    """One billed generation (completed, failed mid-stream or cancelled)."""

    id: str
    key_hash: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cached_tokens: int
    cost: Decimal
    streamed: bool
    cancelled: bool
    finish_reason: str | None
    created_at: datetime
    # What /generation reports besides the fields above.
    user_id: str = ""
    completed_at: datetime | None = None
    cache_write_tokens: int = 0
    prompt_cost: Decimal = ZERO
    completion_cost: Decimal = ZERO
    provider_name: str = ""
    model_permaslug: str = ""
    endpoint_id: str = ""
    native_finish_reason: str | None = None
    latency_ms: int = 0
    generation_time_ms: int = 0
    upstream_id: str = ""
    request_id: str = ""
    external_user: str | None = None
    http_referer: str | None = None
    origin: str = ""
    user_agent: str | None = None
    session_id: str | None = None
    service_tier: str | None = None
    provider_responses: tuple[dict[str, Any], ...] = ()


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: list[Account] = []
        self.keys: dict[str, ApiKey] = {}
        self.requests: list[RecordedRequest] = []
        self.ledger: list[GenerationRecord] = []
        # Kept apart from the ledger so reset_ledger() does not make /generation forget ids.
        self.generations: dict[str, GenerationRecord] = {}
        # Prompt-cache entries: (user_id, model, prefix digest) -> expiry.
        self.prompt_cache: dict[tuple[str, str, str], datetime] = {}

    def live_key(self, key_hash: str, now: datetime) -> ApiKey | None:
        key = self.keys.get(key_hash)
        return key if key is not None and key.is_usable(now) else None

    def account_keys(self, account: Account, kind: KeyKind) -> list[ApiKey]:
        return [k for k in self.keys.values() if k.account is account and k.kind == kind and not k.deleted]
