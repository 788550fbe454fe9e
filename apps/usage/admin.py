"""The ledger in admin: read-only, filterable, searchable by generation id, exportable as CSV."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyModelAdmin, money_column

from .models import PUBLIC_FIELDS, ActivityRecord, AIUsageLog, Reconciliation, SyncRun, SyncTrigger
from .sync import sync_range_clamp, sync_run_request

CSV_FIELDS = ["user_id", *PUBLIC_FIELDS]
# Shown in the shared money format; the CSV export keeps every stored decimal.
_MONEY_DISPLAY = {"cost_usd": "cost_usd_display", "cost_sek": "cost_sek_display"}


class _Echo:
    def write(self, value: str) -> str:
        return value


@admin.action(description=_("Export selected rows as CSV"))
def export_csv(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[AIUsageLog]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    rows = queryset.order_by("created_at", "id").values_list(*CSV_FIELDS).iterator(chunk_size=2000)
    body = (writer.writerow(row) for row in _with_header(rows))
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ai-usage-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


def _with_header(rows: Any) -> Any:
    yield CSV_FIELDS
    yield from rows


@admin.register(AIUsageLog)
class AIUsageLogAdmin(ReadOnlyModelAdmin):
    """Append-only: nobody adds, edits or deletes ledger rows by hand, staff included."""

    list_display = (
        "created_at",
        "user",
        "use_case",
        "model",
        "provider",
        "status",
        "total_tokens",
        "cost_usd_display",
        "cost_sek_display",
        "cost_source",
        "is_fallback",
        "attempts",
        "latency_ms",
    )
    list_filter = (
        "created_at",
        ("user", admin.RelatedOnlyFieldListFilter),
        "provider",
        "status",
        "source",
        "cost_source",
        "use_case",
        "is_fallback",
        "streamed",
        "model",
    )
    list_select_related = ("user",)
    search_fields = ("=generation_id", "=request_id", "user__username", "model")
    date_hierarchy = "created_at"
    actions = [export_csv]
    list_per_page = 100
    show_full_result_count = False

    cost_usd_display = money_column(AIUsageLog, "cost_usd", "usd")
    cost_sek_display = money_column(AIUsageLog, "cost_sek", "sek")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [_MONEY_DISPLAY.get(f.name, f.name) for f in self.model._meta.fields]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_readonly_fields(request, obj)

    # Viewing (and exporting) every tenant's ledger needs the "view AI usage log" permission:
    # ModelAdmin's own has_view_permission reads it from Django's permissions, never from is_staff.


class _ReadOnlyAdmin(ReadOnlyModelAdmin):
    """Written by the sync alone: staff read, filter and search, never edit."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


@admin.action(description=_("Start a sync of the last 30 days for these users"), permissions=["sync"])
def start_sync(modeladmin: Any, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
    start, end = sync_range_clamp()
    # cross-tenant: staff act on the users of the selected runs.
    users = {run.user for run in queryset.select_related("user")}
    joined = 0
    for user in users:
        _run, created = sync_run_request(user=user, start=start, end=end, trigger=SyncTrigger.ADMIN)
        joined += not created
    modeladmin.message_user(
        request,
        _("Sync queued for %(count)d user(s) (%(joined)d already running).")
        % {"count": len(users), "joined": joined},
        messages.SUCCESS,
    )


@admin.register(SyncRun)
class SyncRunAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "trigger",
        "state",
        "start",
        "end",
        "days_done",
        "days_total",
        "records",
        "adjustments",
        "settled",
        "error_code",
        "finished_at",
    )
    list_filter = ("state", "trigger", "created_at", ("user", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("user__username", "error_code")
    date_hierarchy = "created_at"
    actions = [start_sync]

    def has_sync_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("usage.add_syncrun"))


@admin.register(ActivityRecord)
class ActivityRecordAdmin(_ReadOnlyAdmin):
    list_display = (
        "date",
        "user",
        "model",
        "model_permaslug",
        "provider_name",
        "requests",
        "usage",
        "updated_at",
    )
    list_filter = ("date", ("user", admin.RelatedOnlyFieldListFilter), "provider_name", "model")
    list_select_related = ("user",)
    search_fields = ("user__username", "model", "model_permaslug", "endpoint_id")
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(Reconciliation)
class ReconciliationAdmin(_ReadOnlyAdmin):
    list_display = (
        "date",
        "user",
        "model",
        "billed_usd",
        "gateway_usd",
        "adjustment_usd",
        "discrepancy_usd",
        "billed_requests",
        "gateway_calls",
    )
    list_filter = ("date", ("user", admin.RelatedOnlyFieldListFilter), "model")
    list_select_related = ("user",)
    search_fields = ("user__username", "model")
    date_hierarchy = "date"
