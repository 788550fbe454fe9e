"""Fixtures for the activity sync: tenants with both OpenRouter keys, and seeded OpenRouter history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from tests.factories import AISettingsFactory

# Noon UTC on a Saturday; OpenRouter's window is then 2026-10-29..2026-11-27.
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
YESTERDAY = dt.date(2026, 11, 27)


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tenant(emulator: Any) -> Callable[..., Any]:
    """A user with their own OpenRouter account, an API key and a management key."""

    def _tenant(user: Any, *, management: bool = True, credits: str = "100") -> Any:
        account = emulator.add_account(credits=Decimal(credits))
        api_key = emulator.add_key(account, kind="inference", name=f"{user.username}-app")
        fields: dict[str, Any] = {}
        management_key = ""
        if management:
            management_key = emulator.add_key(account, kind="management", name=f"{user.username}-mgmt")
            fields = {
                "openrouter_management_key": management_key,
                "management_key_last4": management_key[-4:],
            }
        AISettingsFactory(user=user, openrouter_api_key=api_key, **fields)
        user.or_account, user.or_api_key, user.or_management_key = account, api_key, management_key
        return user

    return _tenant


@pytest.fixture
def billed(emulator: Any) -> Callable[..., None]:
    """Add spend to a tenant's OpenRouter account as if calls were made outside the product."""
    from apps.emulator.state import UsageEvent

    def _billed(
        user: Any,
        day: dt.date,
        model: str,
        usage: str,
        *,
        requests: int = 1,
        permaslug: str | None = None,
        key: str | None = None,
        tokens: tuple[int, int] = (100, 10),
    ) -> None:
        user.or_account.events.append(
            UsageEvent(
                day=day,
                key_hash=emulator.key_hash(key or user.or_api_key),
                model=model,
                model_permaslug=permaslug or model,
                endpoint_id=f"endpoint-{permaslug or model}",
                provider_name="Provider",
                usage=Decimal(usage),
                requests=requests,
                prompt_tokens=tokens[0],
                completion_tokens=tokens[1],
                reasoning_tokens=0,
                cached_tokens=0,
            )
        )

    return _billed


def settings_change(user: Any, **fields: Any) -> None:
    """Change a tenant's stored AI settings the way a save on the AI tab does (keys encrypted)."""
    from apps.integrations.models import AISettings

    row = AISettings.objects.get(user=user)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
