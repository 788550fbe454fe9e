"""Keeps the per-process token cache coherent with writes that bypass the services.

Cache coherence only, no business logic: a token or user saved or deleted anywhere in this
process (admin, shell, a service) drops that user's remembered tokens, now and after the commit.
Other processes rely on the cache's lifetime (``TOKEN_CACHE_SECONDS``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .authentication import token_cache_forget
from .models import APIToken, User


def _forget_user(user_id: int | None) -> None:
    if user_id is None:
        return
    token_cache_forget(user_id=user_id)
    transaction.on_commit(lambda: token_cache_forget(user_id=user_id))


def _user_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    _forget_user(instance.pk)


def _token_changed(sender: Any, instance: APIToken, **kwargs: Any) -> None:
    _forget_user(instance.user_id)


def connect_cache_invalidation() -> None:
    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(_user_changed, sender=User, dispatch_uid=f"token-cache-user-{name}")
        signal.connect(_token_changed, sender=APIToken, dispatch_uid=f"token-cache-token-{name}")
