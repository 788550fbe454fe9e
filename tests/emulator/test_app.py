"""The emulator is a development and test app: installed there, never in production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "DJANGO_SECRET_KEY": "prod-like-secret-for-an-import-check-only-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "app.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
    "CACHE_URL": "locmemcache://prod-check",
    "CELERY_BROKER_URL": "memory://",
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDAwMDA=",
}


def test_the_emulator_is_installed_in_test_settings() -> None:
    assert "apps.emulator" in settings.INSTALLED_APPS


def test_production_settings_neither_install_nor_import_the_emulator() -> None:
    code = (
        "import sys, django; django.setup();"
        "from django.conf import settings; import config.urls;"
        "from django.core.management import get_commands;"
        "print('apps.emulator' in settings.INSTALLED_APPS,"
        " any(m.startswith('apps.emulator') for m in sys.modules),"
        " 'openrouter_emulator' in get_commands())"
    )
    env = {**os.environ, **PRODUCTION_ENV}
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed script)
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )
    assert result.stdout.strip() == "False False False"
