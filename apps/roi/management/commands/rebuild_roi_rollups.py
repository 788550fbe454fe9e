"""Recompute the bookings-per-day rollup from the bookings (idempotent; safe to run any time)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.roi.rollups import booking_days_rebuild


class Command(BaseCommand):
    help = "Recompute roi.BookingDay from roi.Booking (all tenants, or one with --user-id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user-id", type=int, default=None)

    def handle(self, *args: Any, user_id: int | None = None, **options: Any) -> None:
        written = booking_days_rebuild(user_id=user_id)
        self.stdout.write(f"{written} booking days written")
