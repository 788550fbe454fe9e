"""The integration pages are asserted in English; account and cache tests run on a frozen clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

START = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def page_language() -> str:
    return "en"


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time frozen at ``START``; a test moves it with ``clock.shift(...)``."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller
