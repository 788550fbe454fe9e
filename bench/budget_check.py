"""The budget check alone, in process: what ``budget_check`` + ``reservation_settle`` cost per call
for a tenant with a budget, against the shared cache the deployment uses (Redis with
``--redis-db``, else locmem), beside the no-budget path (one per-process look-up).

Usage:  .venv/bin/python bench/budget_check.py [--calls 3000] [--redis-db 10] [--database NAME]

Creates (and drops at the end) a throwaway PostgreSQL database. The model catalogue comes from
the emulator mounted in process (no sockets); only 127.0.0.1 is contacted. Goal (issue 15): the
budget check adds at most 0.3 ms p50 to a call.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from decimal import Decimal

from harness import PG_SERVER, PY, ROOT, pct


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--redis-db", type=int, default=None, help="Redis database to use (never flushed)")
    parser.add_argument("--database", default="budget_check_bench", help="dropped and created anew")
    args = parser.parse_args()
    if not 1 <= args.calls <= 100_000 or not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        raise SystemExit("--calls must be 1..100000 and --database a plain name")
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {args.database}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{args.database}"
    if args.redis_db is not None:
        os.environ["CACHE_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    try:
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
        measure(args.calls)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")


def measure(calls: int) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache

    from apps.accounts.models import User
    from apps.core import http
    from apps.emulator import Emulator
    from apps.integrations.models import Budget
    from apps.usage.budgets import budget_check, reservation_settle

    messages = [{"role": "user", "content": "Hej! Har ni öppet på lördag?"}]
    params = {"max_tokens": 300}
    plain = User.objects.create(username="plain")
    budgeted = User.objects.create(username="budgeted")
    Budget.objects.create(user=budgeted, monthly_limit_sek=Decimal("1000000"), policy="block")
    # The shared cache is never cleared here (it may be shared); the limit is far above any spend
    # a previous run could have left under the same user ids.

    def one(user_id: int) -> float:
        start = time.perf_counter()
        decision = budget_check(
            user_id=user_id,
            use_case="chat",
            provider="openrouter",
            model="openai/gpt-4o-mini",
            messages=messages,
            params=params,
        )
        if decision is not None:
            reservation_settle(decision.reservation, cost_sek=Decimal("0.0012"))
        return (time.perf_counter() - start) * 1000

    with http.mount(settings.OPENROUTER_BASE_URL, Emulator().transport()):
        for user_id in (plain.pk, budgeted.pk):  # warm: catalogue, prices, rules, spend
            for _ in range(50):
                one(user_id)
        backend = type(cache._connections[cache._alias]).__name__ if hasattr(cache, "_connections") else "?"
        print(f"shared cache: {backend}; {calls} calls each")
        rows = {}
        for label, user_id in (("no budget", plain.pk), ("with a budget", budgeted.pk)):
            samples = [one(user_id) for _ in range(calls)]
            rows[label] = samples
            print(f"{label:<16} p50 {pct(samples, 50):.3f} ms  p95 {pct(samples, 95):.3f} ms")
        added = pct(rows["with a budget"], 50) - pct(rows["no budget"], 50)
        print(f"budget check adds p50 {added:+.3f} ms per call (goal <= 0.3 ms)")
        if os.environ.get("BUDGET_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(lambda: [one(budgeted.pk) for _ in range(500)])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
