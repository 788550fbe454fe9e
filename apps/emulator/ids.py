"""Identifiers in OpenRouter's real formats: ``gen-<unix seconds>-<20 alphanumerics>``, 64-hex key
hashes, ``sk-or-v1-abc...xyz`` labels and Clerk-style ``user_`` ids."""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from datetime import datetime

_ALNUM = string.ascii_letters + string.digits
KEY_PREFIX = "sk-or-v1-"
# A fixed namespace so derived ids (workspaces, endpoints) are stable across runs.
_NAMESPACE = uuid.UUID("6f1d8e52-3c4b-4a7e-9d10-2b5c7a9e0f31")


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def generation_id(now: datetime) -> str:
    """``gen-<unix seconds>-<20 alphanumerics>``, as in every chat response and stream chunk."""
    return f"gen-{int(now.timestamp())}-{random_alnum(20)}"


def request_id(now: datetime) -> str:
    return f"req-{int(now.timestamp())}-{random_alnum(20)}"


def upstream_id(generation: str, provider: str) -> str:
    """A provider-style completion id, derived from the generation so it is stable."""
    digest = hashlib.sha256(generation.encode()).hexdigest()
    tail = "".join(_ALNUM[int(digest[i : i + 2], 16) % len(_ALNUM)] for i in range(0, 58, 2))
    return f"msg_{tail[:24]}" if provider == "Anthropic" else f"chatcmpl-{tail}"


def user_id() -> str:
    """Clerk-style ``user_`` + 27 base62 characters."""
    return f"user_{random_alnum(27)}"


def new_key() -> str:
    """``sk-or-v1-`` + 64 lowercase hex characters; the same format for both key kinds."""
    return KEY_PREFIX + secrets.token_hex(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_label(key: str) -> str:
    """The masked form shown after creation: ``sk-or-v1-d35...55d``."""
    secret = key.removeprefix(KEY_PREFIX)
    return f"{KEY_PREFIX}{secret[:3]}...{secret[-3:]}"


def stable_uuid(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))
