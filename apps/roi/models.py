"""ROI inputs: the tenant's fixed costs (ROISettings) and bookings (revenue) pushed by partners or entered by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UserOwnedManager, UserOwnedModel

# Amounts above these are typing mistakes, not businesses: refused with a clear message.
MAX_MONTHLY_COST_SEK = Decimal("10000000")
MAX_INTEGRATION_COST_SEK = Decimal("100000000")
MAX_BOOKING_SEK = Decimal("100000000")


def _money(verbose_name: str | object, *, maximum: Decimal) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(
        verbose_name,  # type: ignore[arg-type]
        max_digits=14,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(maximum)],
    )


class ROISettings(UserOwnedModel):
    """One per user: monthly fixed costs (SEK) and the one-time integration cost with its start date.

    AI cost is not here on purpose: it always comes from the usage ledger, never from manual input.
    """

    telephony_sek = _money(_("telephony per month (SEK)"), maximum=MAX_MONTHLY_COST_SEK)
    sms_sek = _money(_("SMS per month (SEK)"), maximum=MAX_MONTHLY_COST_SEK)
    email_sek = _money(_("e-mail per month (SEK)"), maximum=MAX_MONTHLY_COST_SEK)
    support_sek = _money(_("support per month (SEK)"), maximum=MAX_MONTHLY_COST_SEK)
    integration_cost_sek = _money(_("one-time integration cost (SEK)"), maximum=MAX_INTEGRATION_COST_SEK)
    integration_start = models.DateField(_("integration start date"), null=True, blank=True)

    class Meta:
        verbose_name = _("ROI settings")
        verbose_name_plural = _("ROI settings")
        constraints = [
            models.UniqueConstraint(fields=["user"], name="roisettings_one_per_user"),
            models.CheckConstraint(
                condition=models.Q(telephony_sek__gte=0)
                & models.Q(sms_sek__gte=0)
                & models.Q(email_sek__gte=0)
                & models.Q(support_sek__gte=0)
                & models.Q(integration_cost_sek__gte=0),
                name="roisettings_costs_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"ROI settings #{self.pk}"


class Booking(UserOwnedModel):
    """A booking that brought revenue. ``external_id`` lets partners push idempotently."""

    date = models.DateField(_("date"))
    value_sek = models.DecimalField(
        _("value (SEK)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_BOOKING_SEK)],
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True, null=True)  # noqa: DJ001 (NULL: many bookings without an id must not clash)
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "external_id"], name="booking_external_id_unique_per_user"
            ),
            models.CheckConstraint(condition=models.Q(value_sek__gte=0), name="booking_value_not_negative"),
        ]
        indexes = [models.Index(fields=["user", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.value_sek} SEK"


class BookingDay(models.Model):
    """Bookings summed per (user, date): derived data the report reads instead of every booking.

    ``apps.roi.rollups`` keeps it equal to the bookings in the same transaction as every booking
    write; ``rebuild_roi_rollups`` recomputes it. Days without bookings have no row.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    bookings = models.PositiveIntegerField()
    revenue_sek = models.DecimalField(max_digits=20, decimal_places=2)

    objects: UserOwnedManager[Any] = UserOwnedManager()

    class Meta:
        verbose_name = _("bookings per day")
        verbose_name_plural = _("bookings per day")
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="bookingday_one_per_user_and_date")
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.bookings} bookings"
