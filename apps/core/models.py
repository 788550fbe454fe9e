"""Base models every app builds on, the dated FX rate table and the audit log."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from apps.accounts.models import User

_M = TypeVar("_M", bound=models.Model)


class BaseModel(models.Model):
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False, db_index=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class UserOwnedQuerySet(models.QuerySet[_M]):
    def for_user(self, user: User | Any) -> UserOwnedQuerySet[_M]:
        """Rows owned by ``user``; nothing at all for anonymous or missing users."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user_id=user.pk)


class UserOwnedManager(models.Manager[_M]):
    def get_queryset(self) -> UserOwnedQuerySet[_M]:
        return UserOwnedQuerySet(self.model, using=self._db)

    def for_user(self, user: User | Any) -> UserOwnedQuerySet[_M]:
        return self.get_queryset().for_user(user)


class UserOwnedModel(BaseModel):
    """A row that belongs to one tenant. Read it through ``Model.objects.for_user(user)``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )

    objects: UserOwnedManager[Any] = UserOwnedManager()

    class Meta:
        abstract = True


class FxRate(models.Model):
    """The USD→SEK rate in force from ``valid_from`` (a UTC date) until the next row."""

    valid_from = models.DateField(_("valid from"), unique=True)
    usd_sek = models.DecimalField(_("USD → SEK"), max_digits=12, decimal_places=6)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("FX rate")
        verbose_name_plural = _("FX rates")
        constraints = [
            models.CheckConstraint(condition=models.Q(usd_sek__gt=Decimal(0)), name="fxrate_positive")
        ]

    def __str__(self) -> str:
        return f"{self.valid_from}: 1 USD = {self.usd_sek} SEK"


class AuditAction(models.TextChoices):
    KEY_CREATED = "key_created", _("Key created")
    KEY_REPLACED = "key_replaced", _("Key replaced")
    KEY_REMOVED = "key_removed", _("Key removed")
    KEYS_ROTATED = "keys_rotated", _("Encryption keys rotated")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    PLATFORM_KEY_CREATED = "platform_key_created", _("Platform key created")
    PLATFORM_KEY_ROTATED = "platform_key_rotated", _("Platform key rotated")
    PLATFORM_KEY_LIMIT_CHANGED = "platform_key_limit_changed", _("Platform key limit changed")
    PLATFORM_KEY_DISABLED = "platform_key_disabled", _("Platform key disabled")
    PLATFORM_KEY_ENABLED = "platform_key_enabled", _("Platform key enabled")
    PLATFORM_KEY_DELETED = "platform_key_deleted", _("Platform key deleted")


class AuditEvent(models.Model):
    """An immutable record of a security-relevant change. Never holds secret material."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("affected user"),
    )
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    target = models.CharField(_("target"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"


class Notification(UserOwnedModel):
    """An in-app notification (also e-mailed when the tenant wants alerts by e-mail).

    One per (user, event, period): ``event`` names what happened (e.g. ``budget_soft``) and
    ``period`` when it counts (e.g. the month ``2026-11``), so an alert job that runs again, or
    two processes that notice the same crossing at once, cannot notify twice.
    """

    event = models.CharField(_("event"), max_length=60)
    period = models.CharField(_("period"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    level = models.CharField(_("level"), max_length=10, default="warning")
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "event", "period"], name="notification_once_per_period"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return f"{self.event} {self.period} for user {self.user_id}"
