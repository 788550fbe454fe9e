"""The integration pages are asserted in English."""

from __future__ import annotations

import pytest


@pytest.fixture
def page_language() -> str:
    return "en"
