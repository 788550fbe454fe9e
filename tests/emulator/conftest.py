"""The emulator's own tests run it on a fake clock they advance by hand, and call it with the
funded test account's keys: ``key`` (inference, named "app") and ``management_key`` ("admin")."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .test_emulator_helpers import FakeClock, client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator_clock(clock: FakeClock) -> FakeClock:
    return clock


@pytest.fixture
def key(emulator: Any, account: Any) -> str:
    return emulator.add_key(account, name="app")


@pytest.fixture
def management_key(emulator: Any, account: Any) -> str:
    return emulator.add_key(account, kind="management", name="admin")


@pytest.fixture
def api(emulator: Any, key: str) -> httpx.Client:
    """An HTTP client of the emulator that sends ``key``."""
    return client(emulator, key)
