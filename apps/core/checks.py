"""System checks that stop start-up when a required secret is missing or malformed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from . import crypto


@register(Tags.security, deploy=False)
def check_field_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        crypto.parse_keys(list(getattr(settings, "FIELD_ENCRYPTION_KEYS", [])))
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="core.E001",
            )
        ]
    return []
