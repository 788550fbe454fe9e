"""``manage.py seed_demo_bookings [--user demo] [--days 90]``: a salon's bookings for the ROI pages.

Bookings are pseudo-random with a fixed seed per day, so every run produces the same ones; each
carries an ``external_id`` (``demo-<date>-<n>``), so a second run adds nothing: the partner-push
idempotency rule (one booking per user and external id).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.accounts.models import User
from apps.roi.models import Booking, ROISettings
from apps.roi.services import booking_create, roi_settings_update

# (description, price in SEK): a hair salon's services.
SERVICES = (
    ("Klippning", Decimal("495.00")),
    ("Klippning och färg", Decimal("1295.00")),
    ("Slingor", Decimal("1595.00")),
    ("Skäggtrimning", Decimal("295.00")),
    ("Barnklippning", Decimal("295.00")),
)

# A small salon's monthly fixed costs in SEK, and the platform's one-time integration fee, which
# started 60 days ago so the ROI report shows a break-even point.
DEMO_FIXED_COSTS = {
    "telephony_sek": Decimal("450.00"),
    "sms_sek": Decimal("200.00"),
    "email_sek": Decimal("150.00"),
    "support_sek": Decimal("990.00"),
    "integration_cost_sek": Decimal("5000.00"),
}


def demo_bookings(today: dt.date, days: int) -> list[tuple[str, dt.date, str, Decimal]]:
    """(external id, date, description, value) for the ``days`` UTC days up to and including today."""
    bookings = []
    for offset in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=offset)
        rng = random.Random(f"demo-bookings:{day.isoformat()}")
        for n in range(rng.randint(1, 6)):
            description, price = rng.choice(SERVICES)
            bookings.append((f"demo-{day.isoformat()}-{n}", day, description, price))
    return bookings


class Command(BaseCommand):
    help = "Fill the ROI pages of a (demo) user: a few hundred bookings and fixed costs (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", default="demo")
        parser.add_argument("--days", type=int, default=90)

    def handle(self, *args: Any, user: str, days: int, **options: Any) -> None:
        if not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366.")
        owner = User.objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user {user!r}.")
        existing = set(
            Booking.objects.for_user(owner)
            .filter(external_id__startswith="demo-")
            .values_list("external_id", flat=True)
        )
        created = 0
        for external_id, day, description, value in demo_bookings(timezone.now().date(), days):
            if external_id not in existing:
                booking_create(
                    user=owner, date=day, value_sek=value, description=description, external_id=external_id
                )
                created += 1
        self.stdout.write(f"  {created} demo bookings added.")
        if not ROISettings.objects.filter(user=owner).exists():
            start = timezone.now().date() - dt.timedelta(days=60)
            roi_settings_update(user=owner, values={**DEMO_FIXED_COSTS, "integration_start": start})
            self.stdout.write("  ROI fixed costs filled in.")
