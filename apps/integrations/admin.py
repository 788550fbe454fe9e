"""Staff view of tenants' AI settings. Keys are write-only here: replace or clear, never view."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from apps.core.admin import ReadOnlyModelAdmin, money_column

from .admin_platform import platform_key_action_run
from .clients import platform_keys_enabled
from .limit_agreement import limit_agreement
from .models import SLOT_FIELDS, USE_CASE_MODEL_FIELDS, AISettings, Budget, CreditSnapshot
from .platform_keys import platform_key_upstream_get
from .services import ai_settings_update
from .validators import KEY_MAX_LENGTH, model_id_clean, openrouter_key_clean

_MODEL_FIELDS = ["default_model", *USE_CASE_MODEL_FIELDS.values()]


def _key_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        max_length=KEY_MAX_LENGTH + 50,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Enter a new key to replace the stored one. Leave empty to keep it."),
    )


class AISettingsAdminForm(forms.ModelForm[AISettings]):
    new_api_key = _key_field(_("New API key"))
    clear_api_key = forms.BooleanField(label=_("Remove the stored API key"), required=False)
    new_management_key = _key_field(_("New provisioning / management key"))
    clear_management_key = forms.BooleanField(label=_("Remove the stored management key"), required=False)

    class Meta:
        model = AISettings
        fields = ["user", "ai_provider", "use_system_fallback", *_MODEL_FIELDS]

    def _clean_key(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        return openrouter_key_clean(value) if value.strip() else ""

    def clean_new_api_key(self) -> str:
        return self._clean_key("new_api_key")

    def clean_new_management_key(self) -> str:
        return self._clean_key("new_management_key")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        on_platform = self.instance.pk is not None and self.instance.has_platform_key
        if on_platform and (cleaned.get("new_api_key") or cleaned.get("clear_api_key")):
            # The platform's key is changed on its own page, which also changes it upstream.
            self.add_error(
                "new_api_key",
                _(
                    "This tenant's API key is provided by the platform: rotate or delete it on the Platform key page."
                ),
            )
        for name in _MODEL_FIELDS:
            if name in cleaned:
                try:
                    cleaned[name] = model_id_clean(cleaned[name] or "")
                except ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned


def _last4(value: str) -> str:
    return f"…{value}" if value else "—"


@admin.register(AISettings)
class AISettingsAdmin(admin.ModelAdmin[AISettings]):
    form = AISettingsAdminForm
    list_display = (
        "user",
        "ai_provider",
        "api_key_source",
        "api_key_display",
        "api_key_status",
        "management_key_display",
        "management_key_status",
        "use_system_fallback",
        "updated_at",
    )
    list_filter = (
        "ai_provider",
        "api_key_source",
        "api_key_status",
        "management_key_status",
        "use_system_fallback",
    )
    search_fields = ("user__username", "user__email", "api_key_last4", "management_key_last4")
    list_select_related = ("user",)
    readonly_fields = (
        "api_key_source",
        "platform_key_link",
        "api_key_display",
        "api_key_status",
        "api_key_status_detail",
        "api_key_verified_at",
        "management_key_display",
        "management_key_status",
        "management_key_status_detail",
        "management_key_verified_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("user",)}),
        (
            _("API key"),
            {
                "fields": (
                    "api_key_source",
                    "platform_key_link",
                    "api_key_display",
                    "api_key_status",
                    "api_key_status_detail",
                    "api_key_verified_at",
                    "new_api_key",
                    "clear_api_key",
                )
            },
        ),
        (
            _("Provisioning / management key"),
            {
                "fields": (
                    "management_key_display",
                    "management_key_status",
                    "management_key_status_detail",
                    "management_key_verified_at",
                    "new_management_key",
                    "clear_management_key",
                )
            },
        ),
        (_("Provider and models"), {"fields": ("ai_provider", "use_system_fallback", *_MODEL_FIELDS)}),
        (_("Timestamps"), {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> Any:
        # cross-tenant: staff administer every tenant's settings. The key columns are never read.
        return super().get_queryset(request).defer(*(f.secret for f in SLOT_FIELDS.values()))

    def get_readonly_fields(self, request: HttpRequest, obj: AISettings | None = None) -> Any:
        return (*self.readonly_fields, "user") if obj is not None else self.readonly_fields

    def get_urls(self) -> list[URLPattern]:
        page = self.admin_site.admin_view(self.platform_key_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_platform_key"
        return [path("<int:object_id>/platform-key/", page, name=name), *super().get_urls()]

    @admin.display(description=_("Platform key"))
    def platform_key_link(self, obj: AISettings) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:integrations_aisettings_platform_key", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Create, rotate, limit, disable or delete"))

    @method_decorator(sensitive_variables())
    def platform_key_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Staff with ``manage_platform_key`` run the tenant's platform key; others get a 403."""
        if not request.user.has_perm("integrations.manage_platform_key"):
            raise PermissionDenied
        # cross-tenant: staff administer any tenant's key (the row is looked up by its admin id).
        row = get_object_or_404(
            AISettings.objects.defer(*(f.secret for f in SLOT_FIELDS.values())), pk=object_id
        )
        if request.method == "POST":
            platform_key_action_run(request, row)
            return redirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": row,
            "title": _("Platform key for %(user)s") % {"user": row.user},
            "subtitle": None,
            "enabled": platform_keys_enabled(),
            "max_limit": settings.OPENROUTER_PLATFORM_KEY_MAX_LIMIT_USD,
            "change_url": reverse("admin:integrations_aisettings_change", args=[row.pk]),
            "upstream": platform_key_upstream_get(row=row),
            "agreement": limit_agreement(user=row.user, row=row),
        }
        return TemplateResponse(request, "admin/integrations/aisettings/platform_key.html", context)

    @admin.display(description=_("API key"))
    def api_key_display(self, obj: AISettings) -> str:
        return _last4(obj.api_key_last4)

    @admin.display(description=_("Management key"))
    def management_key_display(self, obj: AISettings) -> str:
        return _last4(obj.management_key_last4)

    @method_decorator(sensitive_post_parameters("new_api_key", "new_management_key"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return super().changeform_view(request, *args, **kwargs)

    @method_decorator(sensitive_variables())
    def save_model(self, request: HttpRequest, obj: AISettings, form: Any, change: bool) -> None:
        """Save through the service, so keys are encrypted and every key change is audited."""
        data = form.cleaned_data
        saved = ai_settings_update(
            user=obj.user,
            actor=request.user,
            api_key=data.get("new_api_key") or None,
            management_key=data.get("new_management_key") or None,
            remove_api_key=bool(data.get("clear_api_key")),
            remove_management_key=bool(data.get("clear_management_key")),
            ai_provider=data.get("ai_provider"),
            use_system_fallback=data.get("use_system_fallback"),
            default_model=data.get("default_model", ""),
            use_case_models={uc: data.get(field, "") for uc, field in USE_CASE_MODEL_FIELDS.items()},
            ip_address=request.META.get("REMOTE_ADDR"),
            verify=False,
        )
        obj.pk = saved.settings.pk
        obj._state.adding = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Removing a key is "Remove the stored … key" (audited); the row itself stays.
        return False


@admin.register(CreditSnapshot)
class CreditSnapshotAdmin(ReadOnlyModelAdmin):
    # The credit history is a record of what OpenRouter reported: kept as is.
    list_display = (
        "taken_at",
        "user",
        "source",
        "remaining_display",
        "total_credits_display",
        "total_usage_display",
    )
    list_filter = ("source",)
    search_fields = ("user__username",)
    date_hierarchy = "taken_at"
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "taken_at",
        "minute",
        "source",
        "remaining_display",
        "total_credits_display",
        "total_usage_display",
    )
    # Every field is read-only; money ones show in the shared format, not nine stored places.
    fields = readonly_fields
    remaining_display = money_column(CreditSnapshot, "remaining", "usd")
    total_credits_display = money_column(CreditSnapshot, "total_credits", "usd")
    total_usage_display = money_column(CreditSnapshot, "total_usage", "usd")


@admin.register(Budget)
class BudgetAdmin(ReadOnlyModelAdmin):
    """Read-only: a tenant changes their budget on the AI tab or the API (validated and audited)."""

    list_display = (
        "user",
        "use_case",
        "monthly_limit_sek",
        "soft_threshold_percent",
        "policy",
        "fallback_model",
    )
    list_filter = ("policy", "use_case")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "use_case",
        "monthly_limit_sek",
        "soft_threshold_percent",
        "policy",
        "fallback_model",
        "email_alerts",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
