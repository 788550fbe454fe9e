"""Per-tenant AI settings: the encrypted OpenRouter keys, provider, models and fallback switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedTextField
from apps.core.models import UserOwnedModel


class UseCase(models.TextChoices):
    CHAT = "chat", _("Chat assistant")
    LEAD_ENRICHMENT = "lead_enrichment", _("Lead enrichment")
    REVIEW_ANALYSIS = "review_analysis", _("Review analysis")
    SMS_CLASSIFICATION = "sms_classification", _("SMS classification")
    MESSAGE_GENERATION = "message_generation", _("Message generation")
    GENERIC = "generic", _("Generic prompt")


class Provider(models.TextChoices):
    OPENROUTER = "openrouter", _("OpenRouter (your key)")
    SYSTEM = "system", _("System AI provider")


class KeyStatus(models.TextChoices):
    UNVERIFIED = "unverified", _("Not verified")
    OK = "ok", _("Connected")
    FAILING = "failing", _("Failing")


class KeySource(models.TextChoices):
    """Whose OpenRouter key the API-key slot holds: the tenant's own, or one the platform made."""

    OWN = "own", _("Own key")
    PLATFORM = "platform", _("Provided by the platform")


class KeySlot(models.TextChoices):
    """The two places a tenant can store an OpenRouter key."""

    API = "api", _("API key")
    MANAGEMENT = "management", _("Provisioning / management key")


@dataclass(frozen=True)
class SlotFields:
    """The model fields that belong to one key slot."""

    secret: str
    last4: str
    status: str
    detail: str
    verified_at: str


SLOT_FIELDS: dict[str, SlotFields] = {
    KeySlot.API: SlotFields(
        "openrouter_api_key",
        "api_key_last4",
        "api_key_status",
        "api_key_status_detail",
        "api_key_verified_at",
    ),
    KeySlot.MANAGEMENT: SlotFields(
        "openrouter_management_key",
        "management_key_last4",
        "management_key_status",
        "management_key_status_detail",
        "management_key_verified_at",
    ),
}

# The model field that holds each use case's model override.
USE_CASE_MODEL_FIELDS: dict[str, str] = {uc.value: f"model_{uc.value}" for uc in UseCase}


class AISettings(UserOwnedModel):
    """One row per tenant. Keys are ciphertext at rest; only their last 4 characters are shown."""

    openrouter_api_key = EncryptedTextField(_("OpenRouter API key"))
    openrouter_management_key = EncryptedTextField(_("Provisioning / management key"))
    api_key_last4 = models.CharField(_("API key (last 4)"), max_length=4, blank=True)
    management_key_last4 = models.CharField(_("management key (last 4)"), max_length=4, blank=True)

    api_key_status = models.CharField(max_length=12, choices=KeyStatus.choices, default=KeyStatus.UNVERIFIED)
    api_key_status_detail = models.CharField(max_length=300, blank=True)
    api_key_verified_at = models.DateTimeField(null=True, blank=True)
    management_key_status = models.CharField(
        max_length=12, choices=KeyStatus.choices, default=KeyStatus.UNVERIFIED
    )
    management_key_status_detail = models.CharField(max_length=300, blank=True)
    management_key_verified_at = models.DateTimeField(null=True, blank=True)

    ai_provider = models.CharField(
        _("provider"), max_length=20, choices=Provider.choices, default=Provider.OPENROUTER
    )
    use_system_fallback = models.BooleanField(
        _("fall back to the system AI provider"),
        default=False,
        help_text=_("When OpenRouter is rate limited or down (never for a bad key or missing credits)."),
    )
    default_model = models.CharField(_("default model"), max_length=200, blank=True)
    # The activity sync reads the spend of the configured API key alone by default; with this on
    # it reads the whole OpenRouter account (every key), e.g. when other keys' spend belongs here.
    activity_whole_account = models.BooleanField(
        _("sync the whole OpenRouter account"),
        default=False,
        help_text=_(
            "Include spend from every key of the account in the activity history, not only this key."
        ),
    )
    # A platform-provisioned key lives in ``openrouter_api_key`` like an own key; these say so,
    # name it upstream (OpenRouter identifies a key by its SHA-256 hash) and mirror its settings.
    api_key_source = models.CharField(
        _("API key source"), max_length=10, choices=KeySource.choices, default=KeySource.OWN
    )
    platform_key_hash = models.CharField(_("platform key hash"), max_length=64, blank=True)
    platform_key_limit_usd = models.DecimalField(
        _("platform key monthly limit (USD)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    platform_key_disabled = models.BooleanField(_("platform key disabled"), default=False)
    model_chat = models.CharField(_("chat model"), max_length=200, blank=True)
    model_lead_enrichment = models.CharField(_("lead enrichment model"), max_length=200, blank=True)
    model_review_analysis = models.CharField(_("review analysis model"), max_length=200, blank=True)
    model_sms_classification = models.CharField(_("SMS classification model"), max_length=200, blank=True)
    model_message_generation = models.CharField(_("message generation model"), max_length=200, blank=True)
    model_generic = models.CharField(_("generic prompt model"), max_length=200, blank=True)

    class Meta:
        db_table = "user_ai_settings"
        verbose_name = _("AI settings")
        verbose_name_plural = _("AI settings")
        constraints = [
            models.UniqueConstraint(fields=["user"], name="ai_settings_one_per_user"),
            # A platform key always has its upstream hash (so it can be deleted); an own key never.
            models.CheckConstraint(
                condition=(
                    models.Q(api_key_source=KeySource.OWN, platform_key_hash="")
                    | (models.Q(api_key_source=KeySource.PLATFORM) & ~models.Q(platform_key_hash=""))
                ),
                name="ai_settings_platform_key_has_hash",
            ),
            models.CheckConstraint(
                condition=models.Q(platform_key_limit_usd__isnull=True)
                | models.Q(platform_key_limit_usd__gte=0),
                name="ai_settings_platform_limit_not_negative",
            ),
        ]
        permissions = [
            (
                "manage_platform_key",
                _("Can create, rotate, limit, disable and delete platform-provisioned keys"),
            ),
        ]

    def __str__(self) -> str:
        return f"AI settings for user {self.user_id}"

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_last4)

    @property
    def has_management_key(self) -> bool:
        return bool(self.management_key_last4)

    @property
    def has_platform_key(self) -> bool:
        return self.api_key_source == KeySource.PLATFORM

    def model_for(self, use_case: str) -> str:
        """The model override for ``use_case``, or ``""`` when the tenant has none."""
        field = USE_CASE_MODEL_FIELDS.get(use_case)
        value: Any = getattr(self, field, "") if field else ""
        return str(value or "")


class CreditSource(models.TextChoices):
    """Where a credits figure came from: the account (``/credits``) or one key's limit (``/key``)."""

    ACCOUNT = "account", _("Account balance")
    KEY_LIMIT = "key_limit", _("API key limit")


class CreditSnapshot(UserOwnedModel):
    """The remaining OpenRouter balance at one moment, so it can be charted over time.

    At most one row per user and minute: ``minute`` is ``taken_at`` truncated to the minute and
    unique per user, and the service also skips a snapshot within 60 s of the previous one.
    """

    taken_at = models.DateTimeField(_("taken at"))
    minute = models.DateTimeField(_("minute"), editable=False)
    source = models.CharField(_("source"), max_length=12, choices=CreditSource.choices)
    total_credits = models.DecimalField(
        _("total credits (USD)"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    total_usage = models.DecimalField(
        _("total usage (USD)"), max_digits=20, decimal_places=9, null=True, blank=True
    )
    # Null when the key has no limit (nothing to count down from). Can be negative.
    remaining = models.DecimalField(
        _("remaining (USD)"), max_digits=20, decimal_places=9, null=True, blank=True
    )

    class Meta:
        ordering = ["-taken_at"]
        verbose_name = _("credit snapshot")
        verbose_name_plural = _("credit snapshots")
        constraints = [
            models.UniqueConstraint(fields=["user", "minute"], name="credit_snapshot_one_per_minute"),
        ]
        indexes = [models.Index(fields=["user", "taken_at"], name="credit_snapshot_user_time")]

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M} {self.source} {self.remaining}"


class BudgetPolicy(models.TextChoices):
    """What a call does once its budget is spent."""

    DEGRADE = "degrade", _("Switch to the cheaper model")
    BLOCK = "block", _("Block the call")
    ALLOW_AND_ALERT = "allow_and_alert", _("Allow and alert")


# The largest monthly limit a tenant can set (SEK): anything above is a typing mistake.
BUDGET_LIMIT_MAX_SEK = 10_000_000


class Budget(UserOwnedModel):
    """A tenant's monthly AI budget (``use_case`` empty) or one use case's policy and own limit.

    The tenant row holds the limit for all AI calls, the soft threshold, the default policy and
    fallback model, and the e-mail switch for alerts. A use-case row overrides the policy and
    fallback model for that use case and may add a limit of its own (``monthly_limit_sek`` null:
    only the tenant's limit applies). Months are calendar months in UTC, as the ledger's days.
    """

    use_case = models.CharField(_("use case"), max_length=30, choices=UseCase.choices, blank=True)
    monthly_limit_sek = models.DecimalField(
        _("monthly limit (SEK)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    soft_threshold_percent = models.PositiveSmallIntegerField(_("alert threshold (%)"), default=80)
    policy = models.CharField(
        _("when the budget is spent"), max_length=20, choices=BudgetPolicy.choices, default=BudgetPolicy.BLOCK
    )
    fallback_model = models.CharField(_("cheaper model"), max_length=200, blank=True)
    email_alerts = models.BooleanField(_("e-mail budget and credit alerts"), default=True)

    class Meta:
        db_table = "user_budgets"
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        constraints = [
            models.UniqueConstraint(fields=["user", "use_case"], name="budget_one_per_user_and_use_case"),
            models.CheckConstraint(
                condition=models.Q(monthly_limit_sek__isnull=True) | models.Q(monthly_limit_sek__gte=0),
                name="budget_limit_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(soft_threshold_percent__gte=1, soft_threshold_percent__lte=100),
                name="budget_threshold_1_to_100",
            ),
            models.CheckConstraint(
                condition=~models.Q(policy="degrade") | ~models.Q(fallback_model=""),
                name="budget_degrade_has_fallback",
            ),
        ]

    def __str__(self) -> str:
        return f"Budget of user {self.user_id} ({self.use_case or 'all'})"
