from django.contrib import admin

from .models import Booking


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin[Booking]):
    list_display = ("date", "user", "value_sek", "external_id", "description")
    list_filter = ("date",)
    search_fields = ("external_id", "description", "user__username")
    date_hierarchy = "date"
    list_select_related = ("user",)
