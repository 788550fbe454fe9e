from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent, FxRate


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin[FxRate]):
    list_display = ("valid_from", "usd_sek", "note", "created_at")
    ordering = ("-valid_from",)
    date_hierarchy = "valid_from"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Audit rows are evidence: nobody edits or deletes them, not even superusers."""

    list_display = ("created_at", "action", "actor", "user", "target", "ip_address")
    list_filter = ("action",)
    search_fields = ("target", "actor__username", "user__username")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "action", "actor", "user", "target", "detail", "ip_address")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
