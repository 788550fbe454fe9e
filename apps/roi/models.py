"""ROI inputs: bookings (revenue) pushed by partners or entered by hand."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UserOwnedModel


class Booking(UserOwnedModel):
    """A booking that brought revenue. ``external_id`` lets partners push idempotently."""

    date = models.DateField(_("date"))
    value_sek = models.DecimalField(
        _("value (SEK)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
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
