from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import APIToken, User
from .services import api_token_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Company", {"fields": ("company_name",)}))  # type: ignore[misc]
    list_display = ("username", "email", "company_name", "is_staff", "is_active", "date_joined")


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin[APIToken]):
    """Staff can see and revoke tokens, never read them (only a digest is stored).

    Revoking is the "Revoke" action only (audited, with the staff member as actor); ``revoked_at``
    is read-only, so a revoked token can never be made to work again.
    """

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("digest",)
    actions = ["revoke"]

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIToken]) -> None:
        revoked = sum(
            api_token_revoke(
                user=token.user,
                token_id=token.pk,
                actor=request.user,
                ip_address=request.META.get("REMOTE_ADDR"),
            )
            for token in queryset.filter(revoked_at__isnull=True).select_related("user")
        )
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
