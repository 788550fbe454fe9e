"""Reads of the usage ledger, always scoped to one tenant."""

from __future__ import annotations

from typing import Any

from .models import AIUsageLog


def usage_recent(*, user: Any, limit: int = 20) -> list[AIUsageLog]:
    return list(AIUsageLog.objects.for_user(user).order_by("-created_at", "-id")[:limit])
