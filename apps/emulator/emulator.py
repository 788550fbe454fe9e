"""The public face of the emulator: build one, give it accounts and keys, script faults, serve it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from . import ids
from .app import App
from .catalogue import load_catalogue
from .core import Clock, Config, Core
from .demo import DEMO, seed_history
from .faults import Fault, validate
from .ids import key_hash, key_label, new_key, stable_uuid
from .state import Account, ApiKey, GenerationRecord, KeyKind, LimitReset, RecordedRequest
from .timefmt import parse_utc


class Emulator:
    """An in-memory OpenRouter: accounts, keys, billing, history and scripted faults.

    Thread-safe: the live server runs each request on its own thread.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        generation_delay_seconds: float = 0.0,
        credits_mode: str = "strict",
        activity_date_format: str = "timestamp",
        usage_chunk_style: str = "repeat",
        processing_comment_midstream: bool = False,
        *,
        read_timeout_sleep: float = 30.0,
        control_endpoints: bool = False,
        default_model: str = "openai/gpt-4o-mini",
        catalogue_path: Path | None = None,
    ) -> None:
        config = Config(
            generation_delay_seconds=generation_delay_seconds,
            credits_mode=credits_mode,
            activity_date_format=activity_date_format,
            usage_chunk_style=usage_chunk_style,
            processing_comment_midstream=processing_comment_midstream,
            read_timeout_sleep=read_timeout_sleep,
            control_endpoints=control_endpoints,
            default_model=default_model,
        )
        self.core = Core(config, clock, load_catalogue(catalogue_path))
        self.wsgi_app = App(self)

    # --- accounts and keys ------------------------------------------------------------------

    def add_account(
        self,
        credits: Decimal | int | str = Decimal(100),
        is_free_tier: bool = False,
        user_id: str | None = None,
    ) -> Account:
        uid = user_id or ids.user_id()
        account = Account(
            user_id=uid,
            credits=Decimal(str(credits)),
            is_free_tier=is_free_tier,
            workspace_id=stable_uuid(f"workspace:{uid}"),
        )
        with self.core.state.lock:
            self.core.state.accounts.append(account)
        return account

    def add_key(
        self,
        account: Account,
        kind: str = "inference",
        name: str = "",
        limit: Decimal | int | str | None = None,
        limit_reset: str | None = None,
        disabled: bool = False,
        expires_at: datetime | str | None = None,
        *,
        include_byok_in_limit: bool = False,
        plaintext: str | None = None,
    ) -> str:
        """Register a key and return its plaintext (``plaintext`` fixes it, as the demo keys are)."""
        if limit_reset is not None:
            limit_reset = LimitReset(limit_reset).value
        secret = plaintext or new_key()
        key = ApiKey(
            hash=key_hash(secret),
            label=key_label(secret),
            kind=KeyKind(kind),
            name=name or f"{kind} key",
            account=account,
            created_at=self.core.now(),
            disabled=disabled,
            limit=None if limit is None else Decimal(str(limit)),
            limit_reset=limit_reset,
            include_byok_in_limit=include_byok_in_limit,
            expires_at=parse_utc(expires_at) if isinstance(expires_at, str) else expires_at,
        )
        with self.core.state.lock:
            if key.hash in self.core.state.keys:
                raise ValueError("this key is already registered")
            self.core.state.keys[key.hash] = key
        return secret

    @staticmethod
    def key_hash(key: str) -> str:
        return key_hash(key)

    def key(self, key: str) -> ApiKey | None:
        """The registered key (its counters and flags) for a plaintext key."""
        with self.core.state.lock:
            return self.core.state.keys.get(key_hash(key))

    # --- faults -----------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        key: str | None = None,
        path: str = "/chat/completions",
        **params: Any,
    ) -> Fault:
        """Script a fault for the next ``times`` matching requests (``key=None`` matches any key)."""
        return self.inject_for_hash(
            kind, times=times, key_hash=key_hash(key) if key else None, path=path, **params
        )

    def inject_for_hash(
        self,
        kind: str,
        *,
        times: int = 1,
        key_hash: str | None = None,
        path: str = "/chat/completions",
        **params: Any,
    ) -> Fault:
        path = "/" + path.removeprefix("/api/v1").lstrip("/")
        validate(kind, path, times, params)
        fault = Fault(kind=kind, remaining=times, path=path, key_hash=key_hash, params=params)
        self.core.faults.add(fault)
        return fault

    # --- ledger -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.core.state.lock:
            return list(self.core.state.requests)

    @property
    def generations(self) -> list[GenerationRecord]:
        with self.core.state.lock:
            return list(self.core.state.ledger)

    def reset_ledger(self) -> None:
        """Forget recorded requests and generations (accounts, usage and activity stay)."""
        with self.core.state.lock:
            self.core.state.requests.clear()
            self.core.state.ledger.clear()

    # --- serving ----------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        from .transport import EmulatorTransport

        return EmulatorTransport(self.wsgi_app)

    def seed_demo(self) -> dict[str, str]:
        """The demo tenant (idempotent): $25 of credits, 60 days of history and three fixed keys."""
        with self.core.state.lock:
            if key_hash(DEMO.inference_key) not in self.core.state.keys:
                self._seed_demo_accounts()
        return {"inference": DEMO.inference_key, "management": DEMO.management_key, "system": DEMO.system_key}

    def _seed_demo_accounts(self) -> None:
        account = self.add_account(credits=DEMO.credits, user_id=DEMO.user_id)
        self.add_key(account, "inference", "demo-app", Decimal(20), "monthly", plaintext=DEMO.inference_key)
        self.add_key(account, "management", "demo-management", plaintext=DEMO.management_key)
        history_key = self.core.state.keys[key_hash(DEMO.inference_key)]
        seed_history(account, history_key, self.core.catalogue, self.core.now().date(), DEMO.history_days)
        # The system fallback provider bills a separate account, so its calls never show up in the
        # demo tenant's activity (and are never reconciled into the tenant's ledger).
        system = self.add_account(credits=Decimal(1000), user_id=DEMO.system_user_id)
        self.add_key(system, "inference", "system-fallback", plaintext=DEMO.system_key)
