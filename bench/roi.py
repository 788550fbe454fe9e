"""ROI report and CSV export over three years of data on PostgreSQL.

Usage:  .venv/bin/python bench/roi.py [--database postgres://postgres@127.0.0.1:5432/wt_roi] [--runs 15]

Seeds (once; later runs reuse it) one tenant with 3 years of daily data: 1,000 bookings a day
(1,096,000 bookings) and 1,000,000 ledger rows spread evenly over the same days, plus fixed costs
with an integration start date inside the range. Then measures, in this process:
- the report (``roi_report_build`` through ``GET /api/roi/report/``): p50/p95 for a month, a year
  and the whole 3 years;
- the CSV export (``GET /api/roi/export.csv``): time to the first byte, to the first day's line,
  to the last byte, and peak Python memory (tracemalloc) for 1 month, 1 year and 3 years, to show
  memory does not grow with the range.
Prints the report's figures for the 3 years. Only the given database on 127.0.0.1 is touched;
runs are bounded in count. Goal (issue 11): report p50 <= 200 ms; export first byte <= 200 ms;
export peak memory flat in the range.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wt_roi"
USERNAME = "roi-bench"
START, DAYS = "2023-01-01", 1096  # 2023-01-01 .. 2025-12-31
BOOKINGS_PER_DAY = 1000
LEDGER_ROWS = 1_000_000
RANGES = {
    "1 month": ("2025-12-01", "2025-12-31"),
    "1 year": ("2025-01-01", "2025-12-31"),
    "3 years": ("2023-01-01", "2025-12-31"),
}


def setup(database: str) -> None:
    os.environ["DATABASE_URL"] = database
    os.environ["DJANGO_DEBUG"] = "false"  # no query log growing in memory
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("API_THROTTLE_USER", "100000/min")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed() -> Any:
    from django.core.management import call_command
    from django.db import connection

    from apps.accounts.models import User
    from apps.roi.models import Booking, BookingDay, ROISettings
    from apps.roi.rollups import booking_days_rebuild
    from apps.usage.models import AIUsageLog, DailyUsage

    user, _ = User.objects.get_or_create(username=USERNAME)
    ROISettings.objects.update_or_create(
        user=user,
        defaults={
            "telephony_sek": 4990,
            "sms_sek": 1250,
            "email_sek": 399,
            "support_sek": 2500,
            "integration_cost_sek": 150000,
            "integration_start": "2024-02-29",
        },
    )
    with connection.cursor() as cursor:
        if Booking.objects.for_user(user).count() != DAYS * BOOKINGS_PER_DAY:
            Booking.objects.for_user(user).delete()
            print(f"seeding {DAYS * BOOKINGS_PER_DAY:,} bookings …", flush=True)
            cursor.execute(
                "INSERT INTO roi_booking (created_at, updated_at, user_id, date, value_sek, external_id, description)"
                " SELECT now(), now(), %s, DATE %s + (i / %s), 100 + (i %% 900) + 0.25, 'b-' || i, ''"
                " FROM generate_series(0, %s) AS i",
                [user.pk, START, BOOKINGS_PER_DAY, DAYS * BOOKINGS_PER_DAY - 1],
            )
        if AIUsageLog.objects.for_user(user).count() != LEDGER_ROWS:
            AIUsageLog.objects.for_user(user).delete()
            print(f"seeding {LEDGER_ROWS:,} ledger rows …", flush=True)
            seconds = DAYS * 86400 / LEDGER_ROWS
            cursor.execute(
                "INSERT INTO ai_usage_logs (user_id, request_id, source, provider, model, use_case,"
                " prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, total_tokens,"
                " cost_usd, cost_sek, fx_rate, cost_source, status, error_code, error_message, attempts,"
                " is_fallback, streamed, created_at)"
                " SELECT %s, gen_random_uuid(), 'gateway', CASE WHEN i %% 10 = 0 THEN 'system' ELSE 'openrouter' END,"
                " 'openai/gpt-4o-mini',"
                " (ARRAY['chat','lead_enrichment','review_analysis','sms_classification','message_generation','generic'])[1 + i %% 6],"
                " 100, 50, 0, 0, 150, 0.000123456789, 0.000123456789 * 10.5, 10.5, 'provider_reported', 'success',"
                " '', '', 1, false, false, TIMESTAMPTZ '2023-01-01 00:00:00+00' + (i * %s) * INTERVAL '1 second'"
                " FROM generate_series(0, %s) AS i",
                [user.pk, seconds, LEDGER_ROWS - 1],
            )
        if BookingDay.objects.for_user(user).count() != DAYS:
            print("rebuilding the bookings-per-day rollup …", flush=True)
            booking_days_rebuild(user_id=user.pk)
        if not DailyUsage.objects.for_user(user).exists():
            print("rebuilding the daily usage rollups …", flush=True)
            call_command("rebuild_usage_rollups", verbosity=0)
        cursor.execute("ANALYZE roi_booking")
        cursor.execute("ANALYZE usage_daily")
        cursor.execute("ANALYZE roi_bookingday")
        cursor.execute("ANALYZE ai_usage_logs")
    return user


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm-up: connection, caches, query plans
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def report_bench(client: Any, runs: int) -> None:
    print("\nGET /api/roi/report/                p50 ms    p95 ms")
    for name, (start, end) in RANGES.items():

        def call(start: str = start, end: str = end) -> None:
            response = client.get("/api/roi/report/", {"start": start, "end": end})
            assert response.status_code == 200, response.content

        samples = sorted(timed(call, runs))
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        print(f"  {name:<32} {statistics.median(samples):8.1f}  {p95:8.1f}")


def export_once(client: Any, start: str, end: str, *, trace: bool) -> dict[str, float]:
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    response = client.get("/api/roi/export.csv", {"start": start, "end": end})
    chunks = iter(response.streaming_content)
    next(chunks)
    first_byte = time.perf_counter() - began
    next(chunks)
    first_day = time.perf_counter() - began
    lines, size = 2, 0
    for chunk in chunks:
        lines += 1
        size += len(chunk)
    total = time.perf_counter() - began
    peak = 0.0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    return {
        "first_byte": first_byte * 1000,
        "first_day": first_day * 1000,
        "total": total * 1000,
        "lines": lines,
        "peak": peak,
    }


def export_bench(client: Any, runs: int) -> None:
    print("\nGET /api/roi/export.csv   first byte  first day   full (ms)   lines  peak MiB (traced run)")
    for name, (start, end) in RANGES.items():
        export_once(client, start, end, trace=False)
        samples = [export_once(client, start, end, trace=False) for _ in range(max(3, runs // 3))]
        traced = export_once(client, start, end, trace=True)
        med = {k: statistics.median(s[k] for s in samples) for k in ("first_byte", "first_day", "total")}
        print(
            f"  {name:<22} {med['first_byte']:9.1f}  {med['first_day']:9.1f}  {med['total']:9.1f}"
            f"  {int(traced['lines']):6d}  {traced['peak']:7.2f}"
        )


def figures(user: Any) -> None:
    from apps.core.periods import period_parse
    from apps.roi.selectors import roi_report_build

    start, end = RANGES["3 years"]
    r = roi_report_build(user=user, period=period_parse(start=start, end=end, max_days=3653))
    q = lambda v: f"{v:,.2f}"  # noqa: E731
    print(f"\nReport {start} .. {end} ({r.period.days} days)")
    print(f"  bookings {r.bookings:,}  revenue {q(r.revenue)} SEK")
    print(
        f"  fixed {q(r.fixed.total)} (integration {q(r.fixed.integration)})  AI {q(r.ai_cost)}  OpenRouter {q(r.openrouter_cost)}"
    )
    print(
        f"  total cost {q(r.total_cost)}  profit {q(r.profit)}  ROI {q(r.roi_percent or 0)} %  AI share {q(r.ai_share_percent or 0)} %"
    )
    print(f"  break-even {r.break_even}")
    for p in r.projections:
        print(
            f"  {p.months} months: revenue {q(p.revenue)} costs {q(p.costs)} profit {q(p.profit)} ROI {q(p.roi_percent or 0)} %"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if "127.0.0.1" not in args.database and "localhost" not in args.database:
        raise SystemExit("bench/roi.py only runs against a database on 127.0.0.1")
    setup(args.database)
    from django.test import Client

    user = seed()
    client = Client()
    client.force_login(user)
    report_bench(client, min(args.runs, 50))
    export_bench(client, min(args.runs, 50))
    figures(user)


if __name__ == "__main__":
    main()
