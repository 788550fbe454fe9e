"""The encryption-key system check is registered: proved by running ``manage.py check``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LW5ldmVyLWluLXByb2Q="


def _check(keys: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "FIELD_ENCRYPTION_KEYS": keys}
    return subprocess.run(  # a fixed command line, no user input
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("keys", ["notakey", "", f"{GOOD_KEY},short"])
def test_item7_check_stops_start_up_with_bad_encryption_keys(keys: str) -> None:
    result = _check(keys)
    assert result.returncode == 1
    assert "core.E001" in result.stderr


def test_item7_check_passes_with_a_good_key() -> None:
    result = _check(GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert "core.E001" not in result.stderr
