"""A text field stored encrypted (MultiFernet). See ``apps.core.crypto`` for the key rules."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Holds a secret as ciphertext in the database and plaintext in Python.

    Reading a value that no configured key decrypts raises ``crypto.DecryptionError``: the field
    never hands ciphertext back as if it were the value. Empty values are stored as ``""``.
    """

    description = "Encrypted text"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = kwargs.get("editable", False)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        if not value:
            return ""
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> str:
        value = super().get_prep_value(value)
        if not value:
            return ""
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        # Ciphertext is randomised, so equality or search lookups could never match: refuse them.
        if lookup_name not in {"isnull", "exact"}:
            return None
        return super().get_lookup(lookup_name)
