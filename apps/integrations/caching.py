"""Keeps the per-process cache of call settings coherent with every write in this process.

Cache coherence only, no business logic: saving or deleting a tenant's ``AISettings`` anywhere
(the AI tab's service, admin, a cascade from deleting the user) drops their remembered settings
now and again after the commit (a call running in between may have re-read the old row). Other
processes rely on the cache's lifetime (``CALL_SETTINGS_CACHE_SECONDS``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .budget_selectors import budget_rules_forget
from .models import AISettings, Budget
from .selectors import ai_settings_call_cache_forget


def _settings_changed(sender: Any, instance: AISettings, **kwargs: Any) -> None:
    user_id = instance.user_id
    ai_settings_call_cache_forget(user_id=user_id)
    transaction.on_commit(lambda: ai_settings_call_cache_forget(user_id=user_id))


def connect_cache_invalidation() -> None:
    post_save.connect(_settings_changed, sender=AISettings, dispatch_uid="call-settings-save")
    post_delete.connect(_settings_changed, sender=AISettings, dispatch_uid="call-settings-delete")


def _budget_changed(sender: Any, instance: Budget, **kwargs: Any) -> None:
    user_id = instance.user_id
    budget_rules_forget(user_id=user_id)
    transaction.on_commit(lambda: budget_rules_forget(user_id=user_id))


def connect_budget_cache_invalidation() -> None:
    post_save.connect(_budget_changed, sender=Budget, dispatch_uid="budget-rules-save")
    post_delete.connect(_budget_changed, sender=Budget, dispatch_uid="budget-rules-delete")
