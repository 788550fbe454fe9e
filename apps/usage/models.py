"""The usage ledger: one row per logical AI call (or per sync adjustment), written by the system."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import UserOwnedManager, UserOwnedModel
from apps.integrations.models import Provider, UseCase


class UsageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCESS = "success", _("Success")
    ERROR = "error", _("Error")
    TIMEOUT = "timeout", _("Timeout")
    CANCELLED = "cancelled", _("Cancelled")
    RATE_LIMITED = "rate_limited", _("Rate limited")


class CostSource(models.TextChoices):
    PROVIDER_REPORTED = "provider_reported", _("Reported by the provider")
    GENERATION_LOOKUP = "generation_lookup", _("Looked up afterwards")
    COMPUTED = "computed", _("Computed from prices")
    ESTIMATED = "estimated", _("Estimated (awaiting the provider's figure)")
    # A failure OpenRouter did not bill: a known zero, unlike "unpriced" (unknown).
    NOT_BILLED = "not_billed", _("Not billed")
    # Settled from OpenRouter's daily activity: the exact unexplained spend of the day and model
    # when this was the only candidate, else 0 with the spend in that day's adjustment row.
    ACTIVITY = "activity", _("Settled from OpenRouter's activity")
    UNPRICED = "unpriced", _("Unpriced")


class BudgetAction(models.TextChoices):
    """What the tenant's budget did to a call (empty: nothing, it was within budget or had none)."""

    NONE = "", _("None")
    DEGRADED = "degraded", _("Degraded to the cheaper model")
    BLOCKED = "blocked", _("Blocked by the budget")
    ALLOWED_OVER = "allowed_over", _("Allowed over the budget")


class UsageSource(models.TextChoices):
    GATEWAY = "gateway", _("Gateway")
    ACTIVITY_SYNC = "activity_sync", _("OpenRouter activity sync")


class AIUsageLog(models.Model):
    """Append-only for users and the API: rows are created and finalised by services alone.

    ``cost_usd`` is ``NULL`` (never a silent 0) while a cost is unknown; ``cost_source`` says
    where a known cost came from and flags ``unpriced`` rows.
    """

    # Indexed through "usage_user_created" (user first): a separate index on user alone would be
    # one more write on every insert and every finishing update of the ledger.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    generation_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (unique when present)
    source = models.CharField(max_length=20, choices=UsageSource.choices, default=UsageSource.GATEWAY)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    model = models.CharField(max_length=200)
    # The model the caller asked for, when the budget served another (``budget_action``).
    requested_model = models.CharField(max_length=200, blank=True)
    budget_action = models.CharField(max_length=20, choices=BudgetAction.choices, blank=True, default="")
    use_case = models.CharField(max_length=30, choices=UseCase.choices)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    reasoning_tokens = models.PositiveBigIntegerField(default=0)
    cached_tokens = models.PositiveBigIntegerField(default=0)
    total_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=20, decimal_places=12, null=True, blank=True)
    cost_sek = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    fx_rate = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    cost_source = models.CharField(max_length=20, choices=CostSource.choices, default=CostSource.UNPRICED)
    status = models.CharField(max_length=20, choices=UsageStatus.choices, default=UsageStatus.PENDING)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    is_fallback = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    streamed = models.BooleanField(default=False)
    activity_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = UserOwnedManager["AIUsageLog"]()

    class Meta:
        db_table = "ai_usage_logs"
        ordering = ["-created_at", "-id"]
        verbose_name = _("AI usage log")
        verbose_name_plural = _("AI usage logs")
        constraints = [
            models.UniqueConstraint(
                fields=["generation_id"],
                condition=Q(generation_id__isnull=False),
                name="usage_generation_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(cost_usd__isnull=True) | Q(cost_usd__gte=0), name="usage_cost_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(source=UsageSource.GATEWAY) | Q(activity_date__isnull=False),
                name="usage_sync_rows_have_a_day",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "created_at"], name="usage_user_created"),
            models.Index(fields=["user", "use_case", "created_at"], name="usage_user_usecase_created"),
            models.Index(fields=["user", "model", "created_at"], name="usage_user_model_created"),
            # Partial indexes: a gateway row (no activity date) never enters the first, and leaves
            # the second when it is finished, so neither costs the hot path's finishing update.
            models.Index(
                fields=["user", "activity_date"],
                condition=Q(activity_date__isnull=False),
                name="usage_user_activity_date",
            ),
            models.Index(
                fields=["created_at"], condition=Q(status=UsageStatus.PENDING), name="usage_pending_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.use_case} {self.model} {self.status}"


# The ledger's columns as partners and staff see them (API and CSV export), in reading order.
# Never the owner's details beyond an id, never anything secret.
PUBLIC_FIELDS: tuple[str, ...] = (
    "request_id",
    "generation_id",
    "created_at",
    "completed_at",
    "source",
    "provider",
    "model",
    "requested_model",
    "budget_action",
    "use_case",
    "status",
    "error_code",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "total_tokens",
    "cost_usd",
    "cost_sek",
    "fx_rate",
    "cost_source",
    "attempts",
    "is_fallback",
    "latency_ms",
    "streamed",
    "activity_date",
)


class RollupSums(models.Model):
    """What every rollup level sums over the ledger's finished rows (``apps.usage.rollups``)."""

    calls = models.BigIntegerField(default=0)
    successful = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)
    fallbacks = models.BigIntegerField(default=0)
    unpriced = models.BigIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    total_tokens = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=24, decimal_places=12, default=Decimal(0))
    cost_sek = models.DecimalField(max_digits=34, decimal_places=18, default=Decimal(0))
    latency_ms_sum = models.BigIntegerField(default=0)
    latency_count = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class DailyUsage(RollupSums):
    """The ledger summed per (user, UTC day of ``created_at``, model, use case, provider, source, cost source).

    Derived data: ``apps.usage.rollups`` keeps it equal to the ledger in the same transaction as
    every ledger write, and ``rebuild_usage_rollups`` recomputes it. Only finished rows count
    (``pending`` rows are in flight and are read from the ledger). ``cost_source`` is part of the
    key so the dashboards can say how much of the cost is reported, looked up, computed or estimated.
    """

    # No index of its own: the unique key's index leads with (user, day), which every read uses.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    model = models.CharField(max_length=200)
    use_case = models.CharField(max_length=30, choices=UseCase.choices)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    source = models.CharField(max_length=20, choices=UsageSource.choices)
    cost_source = models.CharField(max_length=20, choices=CostSource.choices)

    objects = UserOwnedManager["DailyUsage"]()

    class Meta:
        db_table = "usage_daily"
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "day", "model", "use_case", "provider", "source", "cost_source"],
                name="usage_daily_one_row_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.model} {self.use_case} {self.calls}"


class MonthlyUsage(RollupSums):
    """``DailyUsage`` summed per calendar month (``month`` is its first day), same key otherwise.

    A year's view reads about twelve rows per key instead of 365, whatever the number of calls.
    Kept equal to the sum of its month's ``DailyUsage`` rows by the same statement batch that
    writes them (``apps.usage.rollups``), and rebuilt from them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField()
    model = models.CharField(max_length=200)
    use_case = models.CharField(max_length=30, choices=UseCase.choices)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    source = models.CharField(max_length=20, choices=UsageSource.choices)
    cost_source = models.CharField(max_length=20, choices=CostSource.choices)

    objects = UserOwnedManager["MonthlyUsage"]()

    class Meta:
        db_table = "usage_monthly"
        verbose_name = _("monthly usage")
        verbose_name_plural = _("monthly usage")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "month", "model", "use_case", "provider", "source", "cost_source"],
                name="usage_monthly_one_row_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.model} {self.use_case} {self.calls}"


class DailyProviderUsage(RollupSums):
    """``DailyUsage`` summed per (user, UTC day, provider): the daily trend reads two rows a day.

    Maintained and rebuilt like ``MonthlyUsage`` (``apps.usage.rollups``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    provider = models.CharField(max_length=20, choices=Provider.choices)

    objects = UserOwnedManager["DailyProviderUsage"]()

    class Meta:
        db_table = "usage_daily_provider"
        verbose_name = _("daily usage per provider")
        verbose_name_plural = _("daily usage per provider")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "day", "provider"], name="usage_daily_provider_one_row_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.provider} {self.calls}"


class ActivityRecord(UserOwnedModel):
    """One row of OpenRouter's ``/activity`` for a tenant, as reported (raw values).

    The natural key is (user, date, model_permaslug, endpoint_id, provider_name) in OpenRouter's
    raw values, never display names, so a renamed model overwrites its row instead of adding one.
    A re-sync of a day replaces that day's rows; days that left OpenRouter's 30-day window stay.
    """

    date = models.DateField(_("UTC day"))
    model = models.CharField(_("model"), max_length=200)
    model_permaslug = models.CharField(max_length=200)
    endpoint_id = models.CharField(max_length=200)
    provider_name = models.CharField(max_length=200)
    usage = models.DecimalField(_("usage (USD)"), max_digits=20, decimal_places=12)
    byok_usage_inference = models.DecimalField(max_digits=20, decimal_places=12, default=0)
    requests = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    reasoning_tokens = models.PositiveBigIntegerField(default=0)
    cached_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-date", "model", "endpoint_id"]
        verbose_name = _("OpenRouter activity record")
        verbose_name_plural = _("OpenRouter activity records")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "date", "model_permaslug", "endpoint_id", "provider_name"],
                name="activity_record_natural_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.model_permaslug} {self.provider_name}"


class SyncTrigger(models.TextChoices):
    MANUAL = "manual", _("Manual (page)")
    SCHEDULED = "scheduled", _("Scheduled (nightly)")
    COMMAND = "command", _("Command")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")


class SyncState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")


ACTIVE_SYNC_STATES = (SyncState.QUEUED, SyncState.RUNNING)


class SyncRun(UserOwnedModel):
    """One sync of a tenant's OpenRouter activity over ``start``..``end`` (UTC days, inclusive).

    At most one queued or running run per user (a database constraint): a second request joins
    the active run instead of starting another, so two runs never interleave.
    """

    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    trigger = models.CharField(_("trigger"), max_length=12, choices=SyncTrigger.choices)
    state = models.CharField(_("state"), max_length=16, choices=SyncState.choices, default=SyncState.QUEUED)
    days_total = models.PositiveSmallIntegerField(default=0)
    days_done = models.PositiveSmallIntegerField(default=0)
    records = models.PositiveIntegerField(_("activity records"), default=0)
    adjustments = models.PositiveIntegerField(_("adjustment rows"), default=0)
    settled = models.PositiveIntegerField(_("settled calls"), default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("OpenRouter sync run")
        verbose_name_plural = _("OpenRouter sync runs")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state__in=["queued", "running"]),
                name="sync_run_one_active_per_user",
            ),
            models.CheckConstraint(condition=Q(start__lte=models.F("end")), name="sync_run_range_ordered"),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="sync_run_user_created")]

    def __str__(self) -> str:
        return f"sync {self.start}..{self.end} {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_SYNC_STATES

    @property
    def progress_percent(self) -> int:
        return int(100 * self.days_done / self.days_total) if self.days_total else 0


class Reconciliation(UserOwnedModel):
    """The outcome of comparing OpenRouter's bill with the ledger for one (user, UTC day, model).

    ``billed_usd`` is OpenRouter's figure, ``gateway_usd`` what the gateway recorded,
    ``adjustment_usd`` the ``activity_sync`` ledger row that covers the rest, and
    ``discrepancy_usd`` how much more the gateway recorded than OpenRouter billed (never
    written to the ledger as negative spend). Rewritten by every sync of that day.
    """

    date = models.DateField(_("UTC day"))
    model = models.CharField(_("model"), max_length=200)
    billed_usd = models.DecimalField(max_digits=20, decimal_places=12, default=0)
    billed_requests = models.PositiveIntegerField(default=0)
    gateway_usd = models.DecimalField(max_digits=20, decimal_places=12, default=0)
    gateway_calls = models.PositiveIntegerField(default=0)
    adjustment_usd = models.DecimalField(max_digits=20, decimal_places=12, default=0)
    discrepancy_usd = models.DecimalField(max_digits=20, decimal_places=12, default=0)

    class Meta:
        ordering = ["-date", "model"]
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        constraints = [
            models.UniqueConstraint(fields=["user", "date", "model"], name="reconciliation_per_day_model"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.model}"
