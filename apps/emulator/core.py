"""The pieces every request handler shares: configuration, clock, state, catalogue, faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from . import errors
from .catalogue import Catalogue
from .faults import FaultQueue
from .ids import key_hash
from .state import ApiKey, State
from .wsgi import Request, Response

Clock = Callable[[], datetime]

CREDITS_MODES = ("strict", "legacy", "zeros")
ACTIVITY_DATE_FORMATS = ("timestamp", "date")
USAGE_CHUNK_STYLES = ("repeat", "legacy")


@dataclass(frozen=True)
class Config:
    generation_delay_seconds: float = 0.0
    credits_mode: str = "strict"
    activity_date_format: str = "timestamp"
    usage_chunk_style: str = "repeat"
    processing_comment_midstream: bool = False
    read_timeout_sleep: float = 30.0
    control_endpoints: bool = False
    default_model: str = "openai/gpt-4o-mini"

    def __post_init__(self) -> None:
        _check("credits_mode", self.credits_mode, CREDITS_MODES)
        _check("activity_date_format", self.activity_date_format, ACTIVITY_DATE_FORMATS)
        _check("usage_chunk_style", self.usage_chunk_style, USAGE_CHUNK_STYLES)
        if self.generation_delay_seconds < 0 or self.read_timeout_sleep < 0:
            raise ValueError("delays cannot be negative")


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")


def system_clock() -> datetime:
    return datetime.now(UTC)


class Core:
    def __init__(self, config: Config, clock: Clock | None, catalogue: Catalogue) -> None:
        self.config = config
        self._clock = clock or system_clock
        self.catalogue = catalogue
        self.state = State()
        self.faults = FaultQueue()
        # Added to the clock's time: the control endpoint moves a live server to another day.
        self.clock_offset = timedelta(0)

    def now(self) -> datetime:
        """The current time, asked of the clock every time (tests move it)."""
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the emulator clock must return an aware datetime")
        return now.astimezone(UTC) + self.clock_offset

    def authenticate(self, request: Request) -> ApiKey | Response:
        """The live key presented with ``request``, or the 401 OpenRouter would send."""
        token = request.bearer
        if token is None:
            return errors.missing_auth()
        with self.state.lock:
            key = self.state.live_key(key_hash(token), self.now()) if token else None
        return key if key is not None else errors.user_not_found()

    def authenticate_management(self, request: Request) -> ApiKey | Response:
        key = self.authenticate(request)
        if isinstance(key, ApiKey) and not key.is_management:
            return errors.management_only()
        return key
