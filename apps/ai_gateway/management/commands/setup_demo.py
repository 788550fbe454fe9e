"""Create (or refresh) the demo tenant for development, pointed at the local emulator.

Prints the login. With the emulator running, it also makes real calls through the gateway
(``simulate_usage``), syncs the emulator's history of the demo key through the real activity sync
(``sync_openrouter_activity``), and fills the ROI pages with bookings and fixed costs
(``seed_demo_bookings``, a command of the ROI app, named rather than imported: ROI sits above the
gateway), so every page has data on first login. A second run adds nothing: no calls when the demo already has some, no booking twice.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.emulator.demo import DEMO
from apps.integrations.services import ai_settings_update
from apps.usage.models import AIUsageLog

# Calls simulate_usage makes on a fresh demo: every use case several times, some streamed, a few
# failures and fallbacks, so the dashboards have something to show.
DEMO_CALLS = 60


class Command(BaseCommand):
    help = "Create the demo user (password printed) with the emulator's demo keys; make a few demo calls."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--no-calls", action="store_true", help="Do not make demo AI calls.")

    def handle(self, *args: Any, username: str, no_calls: bool, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("setup_demo is for development only (DEBUG is off).")
        password = secrets.token_urlsafe(9)
        user, _created = User.objects.get_or_create(
            username=username, defaults={"company_name": "Klippoteket AB"}
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        # Through the same service as the AI tab: encrypted, audited, and tested against the
        # emulator so the tab shows the keys as connected.
        ai_settings_update(
            user=user,
            actor=user,
            api_key=DEMO.inference_key,
            management_key=DEMO.management_key,
            use_system_fallback=True,
            verify=True,
        )
        if not no_calls and not AIUsageLog.objects.for_user(user).exists():
            call_command("simulate_usage", user=username, calls=DEMO_CALLS, stdout=self.stdout)
        # OpenRouter's own record of the key's earlier days, through the real sync (idempotent).
        call_command("sync_openrouter_activity", user=username, stdout=self.stdout)
        call_command("seed_demo_bookings", user=username, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"\n  Demo login:  username {username}   password {password}\n"))
