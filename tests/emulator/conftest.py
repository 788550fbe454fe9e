"""The emulator's own tests run it on a fake clock they advance by hand."""

from __future__ import annotations

import pytest

from .test_emulator_helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator_clock(clock: FakeClock) -> FakeClock:
    return clock
