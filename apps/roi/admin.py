from django.contrib import admin

from .models import Booking, ROISettings


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin[Booking]):
    list_display = ("date", "user", "value_sek", "external_id", "description")
    list_filter = ("date",)
    search_fields = ("external_id", "description", "user__username")
    date_hierarchy = "date"
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(ROISettings)
class ROISettingsAdmin(admin.ModelAdmin[ROISettings]):
    """Staff read and correct tenants' fixed costs; tenants change theirs on the ROI tab (audited there)."""

    list_display = (
        "user",
        "telephony_sek",
        "sms_sek",
        "email_sek",
        "support_sek",
        "integration_cost_sek",
        "integration_start",
        "updated_at",
    )
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")
