"""Fixtures shared by the emulator's tests: an emulator on a fake clock, and a funded account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.integrations.openrouter.emulator import Account, Emulator

from .test_emulator_helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Emulator:
    return Emulator(clock=clock)


@pytest.fixture
def account(emu: Emulator) -> Account:
    return emu.add_account(credits=Decimal(100), user_id="user_2zR8xQy7LmNpVb3KdWfT1hGcJsE")
