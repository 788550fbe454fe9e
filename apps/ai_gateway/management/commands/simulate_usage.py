"""``manage.py simulate_usage [--user demo] [--calls N]``: a realistic mix of AI calls for one tenant.

Every call goes through the real gateway (:func:`apps.ai_gateway.services.complete`), so each is
one ledger row priced exactly as a user's call would be. The mix covers every use case in turn;
chat and generic prompts are streamed every other round; with fault injection on (the default
when OpenRouter is the local emulator) a few calls fail (a 400: neither retried nor fallen back)
and a few fall back to the system provider (the tenant's key answers 503 on every attempt).
Faults are scripted through the emulator's ``/_emulator/faults`` control endpoint, for the
tenant's key only, so the fallback provider and other tenants are untouched.
"""

from __future__ import annotations

import hashlib
import ipaddress
import sys
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from apps.accounts.models import User
from apps.ai_gateway import use_cases
from apps.ai_gateway.errors import GatewayError
from apps.ai_gateway.services import Completion, complete
from apps.core import http
from apps.core.formatting import format_usd
from apps.integrations.models import UseCase
from apps.integrations.selectors import OpenRouterKeyUnavailable, openrouter_api_key_get
from apps.usage.models import AIUsageLog

# The client tries a failing call at most this many times (its retry policy's max_attempts); a
# fault that answers every attempt makes the gateway fall back to the system provider.
FALLBACK_FAULT_TIMES = 4

# Sample inputs of a hair salon chain, per use case (the user message the feature would send).
SAMPLES: dict[str, list[str]] = {
    UseCase.CHAT: [
        "Hur formulerar jag ett erbjudande till kunder som inte bokat på ett halvår?",
        "Vilka öppettider brukar frisörer ha i december?",
        "Ge mig tre idéer till ett inlägg på Instagram om vårens färgtrender.",
    ],
    UseCase.LEAD_ENRICHMENT: [
        "Company: Salong Lugn AB\nWebsite: salonglugn.se\nNotes: Två salonger i Malmö",
        "Company: Barber & Co\nWebsite: barberco.se",
        "Company: Hårstudion i Umeå\nNotes: Söker nytt bokningssystem",
    ],
    UseCase.REVIEW_ANALYSIS: [
        "Reviews of Klippoteket:\n- Fantastisk klippning, trevlig personal!\n- Fick vänta 20 minuter.",
        "Reviews of Klippoteket:\n- Bästa färgningen jag gjort.\n- Dyrt men värt det.",
    ],
    UseCase.SMS_CLASSIFICATION: [
        "SMS: Hej, kan jag boka en tid på fredag eftermiddag?",
        "SMS: Jag måste tyvärr avboka min tid i morgon.",
        "SMS: Grattis! Du har vunnit en iPhone, klicka här.",
    ],
    UseCase.MESSAGE_GENERATION: [
        "Write an SMS (at most 320 characters) to Anna. Tone: friendly. Length: one or two "
        "sentences.\nWhat it is about: Påminnelse om bokad tid i morgon kl 14",
        "Write an e-mail. Tone: formal. Length: a short paragraph.\nWhat it is about: Nya priser från 1 mars",
    ],
    UseCase.GENERIC: [
        "Ge tre idéer för att få fler återkommande kunder till en frisörsalong.",
        "Sammanfatta fördelarna med onlinebokning i två meningar.",
    ],
}
ORDER = [
    UseCase.CHAT,
    UseCase.LEAD_ENRICHMENT,
    UseCase.REVIEW_ANALYSIS,
    UseCase.SMS_CLASSIFICATION,
    UseCase.MESSAGE_GENERATION,
    UseCase.GENERIC,
]
STREAMED = {UseCase.CHAT, UseCase.GENERIC}
# Models a tenant might choose per call (every one in OpenRouter's catalogue), so the cost per
# model has more than one slice.
MODELS = (
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4.5",
    "google/gemini-2.5-flash",
    "deepseek/deepseek-chat-v3.1",
)


@dataclass(frozen=True)
class Planned:
    use_case: str
    user_content: str
    stream: bool
    model: str
    fault: str  # "", "fail" or "fallback"


def plan(calls: int, *, faults: bool) -> list[Planned]:
    """The calls to make: use cases and models in turn, streaming every other round for chat and generic;
    with ``faults`` the 4th of every ten falls back and the 8th fails."""
    planned = []
    for index in range(calls):
        use_case = ORDER[index % len(ORDER)]
        round_ = index // len(ORDER)
        samples = SAMPLES[use_case]
        fault = ""
        if faults and index % 10 == 3:
            fault = "fallback"
        elif faults and index % 10 == 7:
            fault = "fail"
        planned.append(
            Planned(
                use_case=use_case,
                user_content=samples[round_ % len(samples)],
                stream=use_case in STREAMED and round_ % 2 == 0,
                model=MODELS[index % len(MODELS)],
                fault=fault,
            )
        )
    return planned


def _spec(use_case: str) -> use_cases.Spec:
    if use_case == UseCase.SMS_CLASSIFICATION:
        return use_cases.sms_spec(use_cases.default_sms_categories())
    specs: dict[str, use_cases.Spec] = {
        UseCase.CHAT: use_cases.CHAT,
        UseCase.LEAD_ENRICHMENT: use_cases.LEAD_ENRICHMENT,
        UseCase.REVIEW_ANALYSIS: use_cases.REVIEW_ANALYSIS,
        UseCase.MESSAGE_GENERATION: use_cases.MESSAGE_GENERATION,
        UseCase.GENERIC: use_cases.GENERIC,
    }
    return specs[use_case]


def is_local(base_url: str) -> bool:
    """True for a loopback host or a ``.test`` name: only then is OpenRouter the emulator."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost" or host.endswith(".test"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _raw_stream(stream: Any) -> Any:
    """The stream under Django's OutputWrapper(s): the progress bar redraws a line in place, which
    the wrapper's newline-per-write would break."""
    while hasattr(stream, "_out"):
        stream = stream._out
    return stream or sys.stdout


class Command(BaseCommand):
    help = "Make a realistic mix of AI calls through the gateway for one user (with a progress bar)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", default="demo", help="username (default: demo)")
        parser.add_argument("--calls", type=int, default=60, help="number of calls (default: 60)")
        parser.add_argument(
            "--faults",
            choices=("auto", "on", "off"),
            default="auto",
            help="inject failures and fallbacks through the emulator (auto: when OpenRouter is local)",
        )

    def handle(self, *args: Any, user: str, calls: int, faults: str, **options: Any) -> None:
        if not 1 <= calls <= 10_000:
            raise CommandError("--calls must be between 1 and 10000.")
        tenant = User.objects.filter(username=user).first()
        if tenant is None:
            raise CommandError(f"No user {user!r}.")
        try:
            key = openrouter_api_key_get(user=tenant)
        except OpenRouterKeyUnavailable:
            raise CommandError(f"User {user!r} has no OpenRouter API key on the AI tab.") from None
        first_id = AIUsageLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        inject = faults == "on" or (faults == "auto" and is_local(settings.OPENROUTER_BASE_URL))
        outcomes: Counter[str] = Counter()
        console = Console(file=_raw_stream(self.stdout), force_terminal=False)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            bar = progress.add_task("AI calls", total=calls)
            for planned in plan(calls, faults=inject):
                if planned.fault:
                    self._inject(key, planned)
                outcomes[self._call(tenant, planned)] += 1
                progress.advance(bar)
        self._summary(tenant, outcomes, first_id)

    def _inject(self, key: str, planned: Planned) -> None:
        """Script the emulator for the tenant's key (faults match on the SHA-256 of the key)."""
        if planned.fault == "fallback":
            fault = {"kind": "status", "status": 503, "times": FALLBACK_FAULT_TIMES}
        else:
            fault = {"kind": "status", "status": 400, "times": 1}
        parts = urlsplit(settings.OPENROUTER_BASE_URL)
        origin = f"{parts.scheme}://{parts.netloc}"
        body = {**fault, "key_hash": hashlib.sha256(key.encode()).hexdigest()}
        with http.client(base_url=origin, timeout=5.0) as client:
            response = http.send(client, client.build_request("POST", "/_emulator/faults", json=body))
        if response.status_code != 201:
            raise CommandError(
                f"The emulator refused a fault ({response.status_code}); run with --faults off "
                "when OpenRouter is not the emulator."
            )

    def _call(self, user: User, planned: Planned) -> str:
        spec = _spec(planned.use_case)
        messages = [
            {"role": "system", "content": spec.system_prompt},
            {"role": "user", "content": planned.user_content},
        ]
        params: dict[str, Any] = {}
        response_format = spec.response_format()
        if response_format:
            params["response_format"] = response_format
        try:
            result = complete(
                user=user,
                use_case=planned.use_case,
                messages=messages,
                model=planned.model,
                stream=planned.stream,
                **params,
            )
            if isinstance(result, Completion):
                return "fallback" if result.is_fallback else "success"
            for _chunk in result:
                pass
            return "fallback" if result.is_fallback else "success"
        except GatewayError:
            return "failed"

    def _summary(self, user: User, outcomes: Counter[str], first_id: int) -> None:
        rows = AIUsageLog.objects.for_user(user).filter(pk__gt=first_id)
        spent = sum((row.cost_usd or Decimal(0) for row in rows), Decimal(0))
        self.stdout.write(
            f"  {outcomes['success']} succeeded, {outcomes['fallback']} served by the fallback provider, "
            f"{outcomes['failed']} failed; {format_usd(spent, language='en')} recorded in the ledger."
        )
