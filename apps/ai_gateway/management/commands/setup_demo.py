"""Create (or refresh) the demo tenant for development, pointed at the local emulator.

Prints the login. With the emulator running, it also makes a few real calls through the gateway
so every page has real data; each run adds nothing when the demo already has calls.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.ai_gateway import features
from apps.ai_gateway.errors import GatewayError
from apps.emulator.demo import DEMO
from apps.integrations.services import ai_settings_update
from apps.usage.models import AIUsageLog

DEMO_CALLS: list[tuple[Callable[..., Any], dict[str, Any]]] = [
    (
        features.lead_enrich,
        {"company": "Klippoteket AB", "website": "klippoteket.se", "notes": "Frisörkedja i Göteborg"},
    ),
    (
        features.reviews_analyze,
        {
            "reviews": ["Fantastisk klippning, trevlig personal!", "Fick vänta 20 minuter."],
            "business_name": "Klippoteket",
        },
    ),
    (features.sms_classify, {"text": "Hej, kan jag boka en tid på fredag eftermiddag?"}),
    (
        features.message_generate,
        {
            "channel": "sms",
            "tone": "friendly",
            "length": "short",
            "brief": "Påminnelse om bokad tid i morgon kl 14",
            "recipient_name": "Anna",
        },
    ),
    (
        features.prompt_run,
        {"prompt": "Ge tre idéer för att få fler återkommande kunder till en frisörsalong."},
    ),
]


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
            self._demo_calls(user)
        self.stdout.write(self.style.SUCCESS(f"\n  Demo login:  username {username}   password {password}\n"))

    def _demo_calls(self, user: User) -> None:
        for run, kwargs in DEMO_CALLS:
            try:
                run(user=user, **kwargs)
            except GatewayError as exc:
                self.stdout.write(self.style.WARNING(f"  demo call skipped: {exc.message}"))
                return
        self.stdout.write(f"  Made {len(DEMO_CALLS)} demo AI calls through the gateway.")
