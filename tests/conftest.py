from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import AISettingsFactory, UserFactory

# The canary sweep: every test fails if key material leaves the server through any channel.
pytest_plugins = ["tests.canary"]


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Messages built outside a request read in English; pages still follow the request's language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    from apps.core.after_response import after_response_detach
    from apps.core.localcache import local_caches_clear
    from apps.core.money import usd_sek_rate_forget

    after_response_detach()
    cache.clear()
    usd_sek_rate_forget()
    local_caches_clear()
    yield
    cache.clear()
    usd_sek_rate_forget()
    local_caches_clear()


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
def page_language() -> str:
    """The Accept-Language page clients send: "" (none) gives the Swedish default; a test folder
    that reads its pages in English overrides this."""
    return ""


def _page_client(user: Any, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    client.force_login(user)
    return client


@pytest.fixture
def page_a(user_a: Any, page_language: str) -> Client:
    """A browser session logged in as Alice, for the HTML pages."""
    return _page_client(user_a, page_language)


@pytest.fixture
def staff(db: Any) -> Any:
    """A superuser, for the admin."""
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_page(staff: Any) -> Client:
    """An admin session in English (a test that needs Swedish sends its own Accept-Language)."""
    return _page_client(staff, "en")


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
def configured_a(user_a: Any, inference_key: str) -> Any:
    """Alice's AI settings with a working key on the emulator."""
    return AISettingsFactory(user=user_a, openrouter_api_key=inference_key)


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """As Django's test client does: ending a request must not close the test's connection.

    For tests that close a streamed response themselves (a browser hanging up) or call the WSGI
    app directly: ``request_finished`` would otherwise close the connection that holds the
    test's transaction (PostgreSQL; SQLite's in-memory database ignores the close)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
