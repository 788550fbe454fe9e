"""Activity sync at night-time scale: N users x D days x M models, Celery worker on Redis.

Usage:  .venv/bin/python bench/sync.py [--users 200] [--days 30] [--models 20] [--concurrency 2]
                                       [--rerun] [--full-backfill]

Serves the OpenRouter emulator on a loopback port (this process, a thread) with one account per
user, an API key and a management key, and D completed UTC days of M models of spend each;
recreates the PostgreSQL database ``wt_sync``; starts a Celery worker (prefork, ``--concurrency``
processes) on Redis db 5; then measures two things:

1. The backfill: one sync per user of every day up to the day before yesterday (D-1 days; every
   row is new), as the state after last night's sync. ``--full-backfill`` syncs all D days instead
   (the night then only re-reads unchanged days: the best case). ``--rerun`` syncs the same days a
   second time (it must write nothing).
2. The night: OpenRouter revises the day before yesterday for every user (one model's spend and
   requests grow), then the real Beat fan-out (``sync_nightly_fan_out``: one task per user with a
   management key for the previous two days) runs until every run has ended: yesterday is new,
   the day before is re-synced with its revision, and the day before that is re-read too (a run
   always re-syncs the day before the last synced day): 3 days per user. This is the night's
   work of issue 9's goal.

Per pass: total wall time (the first request queued .. the last run ended), per-user time
(p50/p95/max of the runs' own started..finished), rows written, the CPU seconds the worker
processes and this process (emulator and fan-out) used, and the load average before and after
(the machine is shared: compare figures only at a similar load). Afterwards the ledger must equal
OpenRouter's bill for every user. Only 127.0.0.1 is contacted; every wait is bounded.
Goal (issue 9): the night's work for 200 users in under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
EMULATOR_PORT = 19400
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DB_NAME = "wt_sync"
REDIS = "redis://127.0.0.1:6379/5"
MAX_WAIT_SECONDS = 1500


def environment() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "CACHE_URL": REDIS,
        "CELERY_BROKER_URL": REDIS,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OPENROUTER_BASE_URL": f"http://127.0.0.1:{EMULATOR_PORT}/api/v1",
        "LOG_LEVEL": "WARNING",
    }


def start_emulator(users: int, days: int, models: int) -> tuple[Any, Any, list[tuple[str, str]]]:
    """The emulator with one account per user and its history; returns (server, emulator, keys)."""
    from apps.emulator import Emulator
    from apps.emulator.server import serve_in_thread
    from apps.emulator.state import UsageEvent

    emulator = Emulator()
    today = dt.datetime.now(dt.UTC).date()
    rng = random.Random(9)
    keys: list[tuple[str, str]] = []
    for n in range(users):
        account = emulator.add_account(credits=Decimal(1000))
        api_key = emulator.add_key(account, kind="inference", name=f"bench-{n}")
        management_key = emulator.add_key(account, kind="management", name=f"bench-{n}-mgmt")
        key_hash = emulator.key_hash(api_key)
        for offset in range(1, days + 1):
            day = today - dt.timedelta(days=offset)
            for m in range(models):
                model = f"bench/model-{m:02d}"
                account.events.append(
                    UsageEvent(
                        day=day,
                        key_hash=key_hash,
                        model=model,
                        model_permaslug=f"{model}-20260101",
                        endpoint_id=f"endpoint-{m:02d}",
                        provider_name="Bench",
                        usage=Decimal(rng.randint(1, 10**7)) / Decimal(10**9),
                        requests=rng.randint(1, 40),
                        prompt_tokens=rng.randint(100, 50_000),
                        completion_tokens=rng.randint(10, 5_000),
                        reasoning_tokens=0,
                        cached_tokens=0,
                    )
                )
        keys.append((api_key, management_key))
    server, _url = serve_in_thread(emulator, "127.0.0.1", EMULATOR_PORT)
    return server, emulator, keys


def prepare_database(env: dict[str, str], keys: list[tuple[str, str]]) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from apps.accounts.models import User
    from apps.integrations.models import AISettings

    users = User.objects.bulk_create([User(username=f"bench{n:03d}") for n in range(len(keys))])
    AISettings.objects.bulk_create(
        AISettings(
            user=user,
            openrouter_api_key=api_key,
            api_key_last4=api_key[-4:],
            openrouter_management_key=management_key,
            management_key_last4=management_key[-4:],
        )
        for user, (api_key, management_key) in zip(users, keys, strict=True)
    )


def start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen[bytes]:
    # Tasks left in the queue by an interrupted run would name runs of the old database.
    celery = str(ROOT / ".venv" / "bin" / "celery")
    subprocess.run(
        [celery, "-A", "config", "purge", "-f"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children (the prefork pool), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def revise_day(emulator: Any, day: dt.date) -> None:
    """OpenRouter revises a recent day: for every account, one model's spend and requests grow."""
    with emulator.core.state.lock:
        for account in emulator.core.state.accounts:
            index = next(i for i, e in enumerate(account.events) if e.day == day)
            event = account.events[index]
            account.events[index] = dataclasses.replace(
                event, usage=event.usage + Decimal("0.000123"), requests=event.requests + 1
            )


def run_pass(
    label: str, start: dt.date, end: dt.date, worker: subprocess.Popen[bytes], *, nightly: bool = False
) -> None:
    from django.db.models import Count

    from apps.accounts.models import User
    from apps.usage.models import AIUsageLog, SyncRun, SyncTrigger
    from apps.usage.sync import sync_nightly_fan_out, sync_run_request

    runs_before = set(SyncRun.objects.values_list("pk", flat=True))
    rows_before = AIUsageLog.objects.count()
    load_before = _load()
    worker_cpu, own_cpu = _cpu_seconds(worker.pid), time.process_time()
    began = time.monotonic()
    if nightly:
        sync_nightly_fan_out()
    else:
        for user in User.objects.order_by("pk"):
            sync_run_request(user=user, start=start, end=end, trigger=SyncTrigger.COMMAND)
    runs = SyncRun.objects.exclude(pk__in=runs_before)
    while runs.filter(state__in=["queued", "running"]).exists():
        if time.monotonic() - began > MAX_WAIT_SECONDS:
            raise SystemExit(f"{label}: runs still active after {MAX_WAIT_SECONDS} s")
        time.sleep(0.05)
    total = time.monotonic() - began
    worker_cpu, own_cpu = _cpu_seconds(worker.pid) - worker_cpu, time.process_time() - own_cpu
    durations = [
        (r.finished_at - r.started_at).total_seconds()
        for r in runs.exclude(started_at=None).exclude(finished_at=None).only("started_at", "finished_at")
    ]
    states = dict(runs.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    day_sum = sum(runs.values_list("days_done", flat=True))
    records = sum(runs.values_list("records", flat=True))
    adjustments = sum(runs.values_list("adjustments", flat=True))
    new_rows = AIUsageLog.objects.count() - rows_before
    quantiles = (
        statistics.quantiles(durations, n=100, method="inclusive") if len(durations) > 1 else durations * 99
    )
    print(
        f"{label:<26} {runs.count():>4} runs {states}  total {total:6.1f} s  "
        f"per user p50 {quantiles[49]:.2f} s p95 {quantiles[94]:.2f} s max {max(durations):.2f} s  "
        f"days {day_sum}  records {records}  adjustment rows written {adjustments}  new ledger rows {new_rows}"
    )
    print(
        f"{'':<26} CPU: worker {worker_cpu:.1f} s, bench process (emulator, fan-out) {own_cpu:.1f} s;"
        f"  load average before {load_before}, after {_load()}"
    )


def check_ledger(emulator: Any) -> None:
    """Ledger total per user = the emulator's bill for the synced days (exact Decimal)."""
    from apps.integrations.models import AISettings
    from apps.usage.models import AIUsageLog

    expected: dict[str, Decimal] = {}
    with emulator.core.state.lock:
        for account in emulator.core.state.accounts:
            for event in account.events:
                expected[event.key_hash] = expected.get(event.key_hash, Decimal(0)) + event.usage
    mismatches = 0
    for row in AISettings.objects.select_related("user"):
        costs = AIUsageLog.objects.filter(user=row.user).values_list("cost_usd", flat=True)
        if sum(costs, Decimal(0)) != expected[emulator.key_hash(row.openrouter_api_key)]:
            mismatches += 1
    print(
        f"ledger = OpenRouter's bill for {AISettings.objects.count() - mismatches} users, mismatches {mismatches}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rerun", action="store_true", help="also sync the same days a second time")
    parser.add_argument(
        "--full-backfill",
        action="store_true",
        help="backfill all D days (the night then re-reads unchanged days) instead of D-1",
    )
    args = parser.parse_args()
    if not 1 <= args.days <= 30:
        raise SystemExit("--days must be 1..30 (OpenRouter's window)")
    env = environment()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    started = time.monotonic()
    server, emulator, keys = start_emulator(args.users, args.days, args.models)
    worker: subprocess.Popen[bytes] | None = None
    try:
        prepare_database(env, keys)
        print(
            f"seeded {args.users} users x {args.days} days x {args.models} models in {time.monotonic() - started:.1f} s"
        )
        worker = start_worker(env, args.concurrency)
        time.sleep(3)  # the worker connects to Redis and forks its processes
        today = dt.datetime.now(dt.UTC).date()
        first = today - dt.timedelta(days=args.days)
        last = today - dt.timedelta(days=1 if args.full_backfill else 2)
        days = (last - first).days + 1
        run_pass(f"backfill {days} days", first, last, worker)
        if args.rerun:
            run_pass(f"same {days} days again", first, last, worker)
        if not args.full_backfill:
            revise_day(emulator, today - dt.timedelta(days=2))
        run_pass("night (Beat fan-out)", first, last, worker, nightly=True)
        check_ledger(emulator)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        server.shutdown()
        server.server_close()
        print(f"(bench wall time {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
