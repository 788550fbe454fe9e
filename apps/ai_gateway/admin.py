from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.admin import ReadOnlyModelAdmin

from .models import ChatConversation, ChatMessage, IdempotencyRecord


class ChatMessageInline(admin.TabularInline[ChatMessage, ChatConversation]):
    model = ChatMessage
    fields = ("created_at", "role", "content", "usage_log")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ChatConversation)
class ChatConversationAdmin(admin.ModelAdmin[ChatConversation]):
    list_display = ("title", "user", "created_at", "updated_at")
    search_fields = ("title", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "created_at", "updated_at")
    inlines = [ChatMessageInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a tenant's history is theirs: deleted from their own chat page, not by staff


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyModelAdmin):
    # Never deleted here: that would let a retry call the provider (and bill) again.
    list_display = ("key", "user", "status_code", "created_at")
    search_fields = ("key", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "key", "fingerprint", "status_code", "response", "usage_log", "created_at")
