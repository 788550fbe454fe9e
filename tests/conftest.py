from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Messages built outside a request read in English; pages still follow the request's language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    from apps.core.money import usd_sek_rate_forget

    cache.clear()
    usd_sek_rate_forget()
    yield
    cache.clear()
    usd_sek_rate_forget()


@pytest.fixture
def user_a(db: Any) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def user_b(db: Any) -> Any:
    return UserFactory(username="bob")


@pytest.fixture
def user_c(db: Any) -> Any:
    return UserFactory(username="carol")


@pytest.fixture
def api_a(user_a: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user_a)
    return client


@pytest.fixture
def api_b(user_b: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user_b)
    return client


@pytest.fixture
def emulator_clock() -> Any:
    """The emulator's clock: ``None`` is real time (which time-machine moves); the emulator's own
    tests override this with a fake clock they advance by hand."""
    return None


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Extra ``Emulator(...)`` options; a test module overrides this to configure its emulator."""
    return {}


@pytest.fixture
def emulator(
    settings: Any, monkeypatch: Any, emulator_clock: Any, emulator_options: dict[str, Any]
) -> Iterator[Any]:
    """The OpenRouter emulator, serving settings.OPENROUTER_BASE_URL in-process (no sockets).

    The one emulator fixture of the suite: app tests reach it through our clients, the emulator's
    own tests through ``emulator.transport()``. A second emulator instance stands in for the system
    fallback provider, with its own key, so tests can tell which provider served a call and read
    each one's ledger separately.
    """
    from apps.core import http
    from apps.emulator import Emulator
    from apps.integrations import clients

    emu = Emulator(clock=emulator_clock, **{"generation_delay_seconds": 0.0, **emulator_options})
    emu.sleeps = []  # retry waits the clients asked for (recorded, not slept)
    monkeypatch.setattr(clients, "sleep", emu.sleeps.append)
    system = Emulator(generation_delay_seconds=0.0)
    settings.SYSTEM_AI_API_KEY = system.add_key(system.add_account(credits=Decimal("1000")), kind="inference")
    emu.system = system
    with (
        http.mount(settings.OPENROUTER_BASE_URL, emu.transport()),
        http.mount(settings.SYSTEM_AI_BASE_URL, system.transport()),
    ):
        yield emu


@pytest.fixture
def account(emulator: Any) -> Any:
    """A funded OpenRouter account ($100) on the emulator."""
    return emulator.add_account(credits=Decimal("100"), user_id="user_2zR8xQy7LmNpVb3KdWfT1hGcJsE")


@pytest.fixture
def demo_emulator(emulator: Any) -> Any:
    """The emulator with the demo account (DEMO's fixed keys, funded, 30 days of history)."""
    emulator.seed_demo()
    return emulator


@pytest.fixture
def inference_key(emulator: Any, account: Any) -> str:
    return emulator.add_key(account, kind="inference", name="tests")


@pytest.fixture
def management_key(emulator: Any, account: Any) -> str:
    return emulator.add_key(account, kind="management", name="tests-management")


@pytest.fixture
def configure() -> Callable[..., Any]:
    """Store AI settings for a user the way the AI tab does (keys encrypted, last 4 kept)."""

    def _configure(user: Any, api_key: str = "", **fields: Any) -> Any:
        from apps.integrations.models import AISettings

        row, _ = AISettings.objects.update_or_create(
            user=user,
            defaults={"openrouter_api_key": api_key, "api_key_last4": api_key[-4:], **fields},
        )
        return row

    return _configure


@pytest.fixture
def configured_a(user_a: Any, inference_key: str, configure: Callable[..., Any]) -> Any:
    return configure(user_a, inference_key)
