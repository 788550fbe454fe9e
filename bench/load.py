"""Sustained load on POST /api/v1/chat/completions with an exact ledger check.

Usage:  .venv/bin/python bench/load.py [--rate 100] [--seconds 120] [--stream] [--probe]

gunicorn (gthread: ``--workers`` processes x ``--threads`` threads, chosen for 2 cores: the
calls wait on the upstream most of the time) serves the app on PostgreSQL; the emulator answers
on loopback after ``--latency-ms`` (50). An open-loop generator sends ``--rate`` calls a second
for ``--seconds`` (bounded by ``--max-requests``) from a thread pool, each on its own schedule
(a slow answer does not slow the next send). With ``--probe`` it first tries rising rates for 10 s
each and runs the full length at the highest that kept up with 0 errors.

Then the ledger check: the bench tenant's rows = calls made, no duplicate request or generation
id, no row left pending, every row a success, and the sum of cost_usd = the emulator's own ledger
(GET /_emulator/ledger) exactly. Exit status 1 when the check or the run failed.
Only 127.0.0.1 is contacted; the database (``--database``) is dropped and created anew.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from harness import BODY, PG_SERVER, Processes, app_env, pct, prepare_database, start_emulator, start_gunicorn

MAX_SECONDS = 300
PROBE_RATES = (50, 100, 150, 200, 250, 300)
PROBE_SECONDS = 10


@dataclass
class Run:
    rate: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    late: int = 0  # calls sent more than 100 ms after their slot: the generator could not keep up
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def sent(self) -> int:
        return len(self.latencies) + len(self.errors)

    @property
    def achieved(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def one_call(client: httpx.Client, *, stream: bool) -> None:
    if not stream:
        response = client.post("/api/v1/chat/completions", json=BODY)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code} {response.text[:200]}")
        return
    with client.stream("POST", "/api/v1/chat/completions", json={**BODY, "stream": True}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code} {response.read()[:200]!r}")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    if lines[-1] != "data: [DONE]" or any('"error"' in line for line in lines):
        raise RuntimeError(f"stream did not end cleanly: {lines[-2:]}")


def drive(app_url: str, token: str, *, rate: float, seconds: float, stream: bool, max_requests: int) -> Run:
    """Open loop: call ``i`` is sent at ``start + i / rate`` whatever the earlier calls are doing."""
    run = Run(rate=rate, seconds=seconds)
    total = min(int(rate * seconds), max_requests)
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(
                base_url=app_url,
                headers={"Authorization": f"Bearer {token}", "X-Use-Case": "chat"},
                timeout=30,
            )
        return local.client  # type: ignore[no-any-return]

    def task(i: int) -> None:
        slot = start + i / rate
        delay = slot - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent = time.perf_counter()
        try:
            one_call(client(), stream=stream)
        except Exception as exc:  # every failure is counted and shown, never hidden
            with run.lock:
                run.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            return
        with run.lock:
            run.latencies.append((time.perf_counter() - sent) * 1000)
            if sent - slot > 0.1:
                run.late += 1

    # Enough threads for every call in flight at the target rate, with a wide margin.
    threads = min(256, max(32, int(rate * 2)))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        # Each thread opens its keep-alive connection before the clock starts: a storm of new
        # connections (the first calls took 1-4.6 s, connect retries) is not the steady state.
        opened = threading.Barrier(threads)

        def connect(_: int) -> None:
            client().get("/health/").raise_for_status()
            opened.wait(timeout=120)

        list(pool.map(connect, range(threads)))
        start = time.perf_counter() + 0.2
        list(pool.map(task, range(total)))
    run.elapsed = time.perf_counter() - start
    return run


def report(name: str, run: Run, latency_ms: float) -> None:
    lat = run.latencies
    print(
        f"{name}: target {run.rate:.0f}/s for {run.seconds:.0f} s -> {run.sent} calls, "
        f"{len(run.errors)} errors, {run.late} sent late, achieved {run.achieved:.1f} ok/s"
    )
    if len(lat) >= 2:
        print(
            f"  latency p50 {pct(lat, 50):.1f} ms p95 {pct(lat, 95):.1f} ms max {max(lat):.1f} ms; "
            f"overhead over the emulator's {latency_ms:.0f} ms: p50 {pct(lat, 50) - latency_ms:+.1f} ms, "
            f"p95 {pct(lat, 95) - latency_ms:+.1f} ms (mean {statistics.fmean(lat) - latency_ms:+.1f})"
        )
        slow = [(i, ms) for i, ms in enumerate(run.latencies) if ms > 1000]
        if slow:
            print(f"  {len(slow)} calls over 1 s, finishing as calls no. {[i for i, _ in slow][:20]}")
    for error in sorted(set(run.errors))[:5]:
        print(f"  error: {error}")


def kept_up(run: Run) -> bool:
    return not run.errors and run.late <= run.sent * 0.01 and run.achieved >= run.rate * 0.97


def ledger_check(database: str, emulator_url: str, *, calls: int) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{database}") as conn:
        rows, requests, generations, pending, not_success, total = conn.execute(
            "SELECT count(*), count(DISTINCT request_id), count(DISTINCT generation_id), "
            "count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status <> 'success'), "
            "coalesce(sum(cost_usd), 0) FROM ai_usage_logs"
        ).fetchone()
    emulator = httpx.get(f"{emulator_url}/_emulator/ledger", timeout=60).json()
    emulator_total = Decimal(emulator["total_cost"])
    emulator_generations = len(emulator["generations"])
    checks = {
        f"rows = calls made ({rows} = {calls})": rows == calls,
        f"no duplicate request id ({requests} distinct)": requests == rows,
        f"no duplicate generation id ({generations} distinct)": generations == rows,
        f"rows = emulator generations ({rows} = {emulator_generations})": rows == emulator_generations,
        f"no row left pending ({pending})": pending == 0,
        f"every row a success ({not_success} not)": not_success == 0,
        f"cost sum = emulator ledger exactly ({Decimal(total)} = {emulator_total})": Decimal(total)
        == emulator_total,
    }
    for text, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {text}")
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100, help="calls per second")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--max-requests", type=int, default=40_000)
    parser.add_argument("--stream", action="store_true", help="streamed (SSE) calls")
    parser.add_argument("--probe", action="store_true", help="find the highest rate first")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--port-base", type=int, default=18020, help="uses this port and the next")
    parser.add_argument("--database", default="openrouter_load")
    parser.add_argument("--redis-db", type=int, default=9)
    args = parser.parse_args()
    if not 0 < args.rate <= 1000 or not 0 < args.seconds <= 180:
        raise SystemExit("--rate must be in (0, 1000] and --seconds in (0, 180]")
    emulator_port, app_port = args.port_base, args.port_base + 1
    env = app_env(database=args.database, redis_db=args.redis_db, emulator_port=emulator_port)
    emulator_url, app_url = f"http://127.0.0.1:{emulator_port}", f"http://127.0.0.1:{app_port}"
    began = time.monotonic()
    procs = Processes()
    ok = False
    try:
        key = start_emulator(procs, port=emulator_port, env=env, extra=["--latency-ms", str(args.latency_ms)])
        token = prepare_database(env, database=args.database, inference_key=key)
        start_gunicorn(
            procs, port=app_port, env=env, workers=args.workers, worker_class="gthread", threads=args.threads
        )
        mode = "streamed" if args.stream else "non-streamed"
        print(
            f"{mode} calls; gunicorn gthread {args.workers}x{args.threads}; emulator latency {args.latency_ms:.0f} ms"
        )
        warm = drive(app_url, token, rate=20, seconds=2, stream=args.stream, max_requests=100)
        calls = warm.sent
        rate = args.rate
        if args.probe:
            best = 0.0
            for probe_rate in PROBE_RATES:
                probe = drive(
                    app_url,
                    token,
                    rate=probe_rate,
                    seconds=PROBE_SECONDS,
                    stream=args.stream,
                    max_requests=args.max_requests,
                )
                calls += probe.sent
                report(f"probe {probe_rate}/s", probe, args.latency_ms)
                if not kept_up(probe):
                    break
                best = probe_rate
            if not best:
                raise SystemExit("not even the lowest probe rate kept up")
            rate = best
        run = drive(
            app_url,
            token,
            rate=rate,
            seconds=args.seconds,
            stream=args.stream,
            max_requests=args.max_requests,
        )
        calls += run.sent
        report(f"sustained ({mode})", run, args.latency_ms)
        print(f"ledger check over all {calls} calls of this run (warm-up and probes included):")
        ok = ledger_check(args.database, emulator_url, calls=calls) and not run.errors
        print(
            json.dumps(
                {
                    "mode": mode,
                    "rate": rate,
                    "achieved": round(run.achieved, 1),
                    "errors": len(run.errors),
                    "ledger_ok": ok,
                }
            )
        )
    finally:
        procs.stop()
        print(f"(total {time.monotonic() - began:.0f} s)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
