from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.periods import MAX_DATE, MIN_DATE
from apps.usage.rollups import rollups_rebuild


def _day(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise CommandError(f"Dates must lie between {MIN_DATE} and {MAX_DATE}.")
    return day


class Command(BaseCommand):
    help = (
        "Recompute the daily usage rollups from the ledger, for everyone or one user, for all days "
        "or the UTC days --start..--end. Idempotent; safe while the gateway is writing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="Username or numeric id; default every user.")
        parser.add_argument("--start", type=_day, help="First UTC day (YYYY-MM-DD).")
        parser.add_argument("--end", type=_day, help="Last UTC day, inclusive (YYYY-MM-DD).")

    def handle(
        self, *args: Any, user: str | None, start: dt.date | None, end: dt.date | None, **options: Any
    ) -> None:
        if start and end and start > end:
            raise CommandError("--start must not be after --end.")
        user_id = self._user_id(user) if user else None
        written = rollups_rebuild(user_id=user_id, start=start, end=end)
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {written} daily usage rows."))

    def _user_id(self, value: str) -> int:
        users = get_user_model().objects
        # cross-tenant: an operator names the tenant to rebuild.
        found = users.filter(pk=int(value)) if value.isdigit() else users.filter(username=value)
        pk = found.values_list("pk", flat=True).first()
        if pk is None:
            raise CommandError(f"No such user: {value!r}")
        return int(pk)
