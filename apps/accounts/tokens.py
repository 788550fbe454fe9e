"""Token format and hashing. Tokens carry 256 bits of randomness, so a fast hash is safe."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "orp_"  # noqa: S105 (a format marker, not a secret)


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
