"""Symmetric encryption of secrets at rest with MultiFernet.

``FIELD_ENCRYPTION_KEYS`` lists Fernet keys newest first: the first encrypts, all decrypt, so keys
rotate by adding a new key in front, running ``rotate_encryption_keys`` and then removing the old one.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """The stored value cannot be decrypted with any configured key."""


def parse_keys(raw_keys: list[str] | tuple[str, ...]) -> list[Fernet]:
    """Fernet objects for ``raw_keys``; raises ImproperlyConfigured naming the bad position."""
    if not raw_keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    fernets = []
    for position, raw in enumerate(raw_keys, start=1):
        try:
            fernets.append(Fernet(raw.strip().encode()))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc
    return fernets


@lru_cache(maxsize=4)
def _multifernet(raw_keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(parse_keys(raw_keys))


def current() -> MultiFernet:
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("stored secret cannot be decrypted with the configured keys") from None


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the newest key (a no-op in meaning, new ciphertext in form)."""
    try:
        return current().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("stored secret cannot be decrypted with the configured keys") from None


def encrypted_with_newest(token: str) -> bool:
    """True when the newest key alone decrypts ``token`` (rotation has nothing to do)."""
    try:
        current()._fernets[0].decrypt(token.encode())  # type: ignore[attr-defined]
    except InvalidToken:
        return False
    return True
