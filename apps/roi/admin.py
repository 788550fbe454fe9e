from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Booking, ROISettings
from .rollups import booking_write
from .services import booking_delete


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin[Booking]):
    list_display = ("date", "user", "value_sek", "external_id", "description")
    list_filter = ("date",)
    search_fields = ("external_id", "description", "user__username")
    date_hierarchy = "date"
    list_select_related = ("user",)
    raw_id_fields = ("user",)

    # Staff edits go through the same services as tenants', so the daily rollup stays true.
    def save_model(self, request: HttpRequest, obj: Booking, form: Any, change: bool) -> None:
        if change:
            old = Booking.objects.get(pk=obj.pk)  # cross-tenant: staff edit any tenant's booking in admin.
            with booking_write(user_id=obj.user_id) as touched:
                touched.update({old.date, obj.date})
                obj.save()
        else:
            with booking_write(user_id=obj.user_id) as touched:
                obj.save()
                touched.add(obj.date)

    def delete_model(self, request: HttpRequest, obj: Booking) -> None:
        booking_delete(booking=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        for booking in queryset:
            booking_delete(booking=booking)


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
