"""``manage.py sync_openrouter_activity``: sync OpenRouter's activity now, in this process.

Thin: parses the options, requests one run per user (joining an active one) and runs it through
the same service as the Celery task, with a progress bar and a summary line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from apps.integrations.selectors import activity_sync_settings
from apps.usage.models import SyncRun, SyncTrigger
from apps.usage.sync import sync_range_clamp, sync_run_execute, sync_run_request


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Sync OpenRouter's activity (completed UTC days of the last 30) and reconcile the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="Username or id of one user.")
        who.add_argument("--all-users", action="store_true", help="Every user with a management key.")
        parser.add_argument("--start", type=_date, help="First UTC day (default: 30 days ago).")
        parser.add_argument("--end", type=_date, help="Last UTC day (default: yesterday).")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = sync_range_clamp(start=options["start"], end=options["end"])
        users = self._users(options)
        runs: list[SyncRun] = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=not self.stdout.isatty(),
        ) as bar:
            for user in users:
                run, _created = sync_run_request(
                    user=user, start=start, end=end, trigger=SyncTrigger.COMMAND, enqueue=False
                )
                task = bar.add_task(str(user.get_username()), total=None)

                def progress(r: SyncRun, t: TaskID = task) -> None:
                    bar.update(t, completed=r.days_done, total=r.days_total)

                runs.append(sync_run_execute(run_id=run.pk, progress=progress))
        for run in runs:
            if run.error:
                self.stderr.write(f"user {run.user_id}: {run.state}: {run.error}")
        self.stdout.write(_summary(runs, start, end))

    def _users(self, options: dict[str, Any]) -> list[Any]:
        users = get_user_model().objects
        if options["all_users"]:
            # cross-tenant: an operator syncs every tenant with a management key or a platform key.
            ids = activity_sync_settings().values_list("user_id", flat=True)
            return list(users.filter(pk__in=ids).order_by("pk"))
        value = options["user"]
        found = users.filter(username=value).first()
        if found is None and value.isdigit():
            found = users.filter(pk=int(value)).first()
        if found is None:
            raise CommandError(f"No such user: {value!r}")
        return [found]


def _summary(runs: list[SyncRun], start: dt.date, end: dt.date) -> str:
    states = [run.state for run in runs]
    return (
        f"Synced {start}..{end} for {len(runs)} user(s): "
        f"{states.count('succeeded')} succeeded, {states.count('failed')} failed, "
        f"{states.count('needs_attention')} need attention; "
        f"{sum(r.days_done for r in runs)} days, {sum(r.records for r in runs)} records, "
        f"{sum(r.adjustments for r in runs)} adjustment rows, {sum(r.settled for r in runs)} calls settled."
    )
