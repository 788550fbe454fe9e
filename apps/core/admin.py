from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .formatting import format_sek, format_usd
from .models import AuditEvent, FxRate, Notification

_CURRENCIES: dict[str, Callable[[Any], str]] = {"usd": format_usd, "sek": format_sek}


def money_column(model: type[Model], field: str, currency: str) -> Callable[[Any, Model], str]:
    """An admin column/read-only field showing a money field in the shared format (``$0.000031``,
    ``0,021 kr``) instead of every stored decimal place; sorts by the field itself. Assign it as a
    ModelAdmin attribute (it becomes a method) and list that attribute's name."""
    formatter = _CURRENCIES[currency]
    label = getattr(model._meta.get_field(field), "verbose_name", field)

    @admin.display(description=label, ordering=field)
    def column(modeladmin: Any, obj: Model) -> str:
        return formatter(getattr(obj, field))

    column.__name__ = f"{field}_display"
    return column


class ReadOnlyModelAdmin(admin.ModelAdmin[Any]):
    """For records that staff read and never add, change or delete (evidence, history, what an
    external system or a service wrote); viewing still needs the model's "view" permission."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin[FxRate]):
    list_display = ("valid_from", "usd_sek", "note", "created_at")
    ordering = ("-valid_from",)
    date_hierarchy = "valid_from"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """Audit rows are evidence: nobody edits or deletes them, not even superusers."""

    list_display = ("created_at", "action", "actor", "user", "target", "ip_address")
    list_filter = ("action",)
    search_fields = ("target", "actor__username", "user__username")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "action", "actor", "user", "target", "detail", "ip_address")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    """Alerts as sent: read-only (each is one per user, event and period)."""

    list_display = ("created_at", "user", "event", "period", "title", "emailed_at", "read_at")
    list_filter = ("event",)
    search_fields = ("user__username", "title")
    list_select_related = ("user",)
    readonly_fields = (
        "created_at",
        "user",
        "event",
        "period",
        "level",
        "title",
        "body",
        "emailed_at",
        "read_at",
    )
    fields = readonly_fields
