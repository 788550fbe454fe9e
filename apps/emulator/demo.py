"""The demo tenant: fixed keys that development settings can name, and two months of history.

The keys are constants (not secrets): they only ever open this local emulator. Settings and the
demo-data command refer to them as ``DEMO.inference_key`` and so on.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .billing import TokenUsage, compute_cost
from .catalogue import Catalogue
from .state import Account, ApiKey, UsageEvent


@dataclass(frozen=True)
class DemoKeys:
    inference_key: str
    management_key: str
    system_key: str
    user_id: str
    system_user_id: str
    credits: Decimal
    history_days: int


def _demo_key(role: str) -> str:
    """A key in OpenRouter's format, derived from a public phrase: plainly not a real credential."""
    return "sk-or-v1-" + hashlib.sha256(f"openrouter-emulator-demo:{role}".encode()).hexdigest()


DEMO = DemoKeys(
    inference_key=_demo_key("inference"),
    management_key=_demo_key("management"),
    system_key=_demo_key("system"),
    user_id="user_2zR8xQy7LmNpVb3KdWfT1hGcJsE",
    system_user_id="user_3aS9yRz8MnOqWc4LeXgU2iHdKtF",
    credits=Decimal(25),
    history_days=60,
)

# (model, requests per day range, prompt tokens per request range, completion tokens range)
_HISTORY_MIX = (
    ("openai/gpt-4o-mini", (8, 40), (300, 1500), (40, 400)),
    ("anthropic/claude-haiku-4.5", (2, 12), (500, 2500), (80, 600)),
    ("google/gemini-2.5-flash", (0, 15), (400, 2000), (50, 500)),
    ("deepseek/deepseek-chat-v3.1", (0, 6), (300, 1200), (60, 300)),
)


def seed_history(account: Account, key: ApiKey, catalogue: Catalogue, today: date, days: int) -> None:
    """Plausible usage for the ``days`` UTC days before ``today``, charged to ``key``.

    The numbers are pseudo-random with a fixed seed per day offset, so they are the same on every run
    and every total is exact (costs are tokens x catalogue prices).
    """
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        rng = random.Random(f"demo-history:{offset}")
        for slug, requests, prompt, completion in _HISTORY_MIX:
            count = rng.randint(*requests)
            if count:
                _add_day(
                    account, key, catalogue, day, slug, count, rng.randint(*prompt), rng.randint(*completion)
                )


def _add_day(
    account: Account,
    key: ApiKey,
    catalogue: Catalogue,
    day: date,
    slug: str,
    count: int,
    prompt: int,
    completion: int,
) -> None:
    model = catalogue.get(slug)
    if model is None:
        return
    usage = TokenUsage(prompt_tokens=prompt * count, completion_tokens=completion * count)
    cost = compute_cost(model, usage).total
    account.usage += cost
    key.add_spend(day, cost)
    account.events.append(
        UsageEvent(
            day=day,
            key_hash=key.hash,
            model=model.id,
            model_permaslug=model.canonical_slug,
            endpoint_id=model.endpoint_id,
            provider_name=model.provider,
            usage=cost,
            requests=count,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            reasoning_tokens=0,
            cached_tokens=0,
        )
    )
