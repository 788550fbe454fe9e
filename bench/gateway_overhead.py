"""Gateway overhead: the same chat request (a) straight to the emulator with our client and
(b) through POST /api/v1/chat/completions served by gunicorn on PostgreSQL, in one run.

Usage:  .venv/bin/python bench/gateway_overhead.py [--requests 400] [--concurrency 8]

Starts the emulator and gunicorn on loopback ports, creates a throwaway PostgreSQL database
(``openrouter_bench``), measures, prints p50/p95 for each path and the overhead (b - a), and stops
everything it started. Only 127.0.0.1 is contacted; request counts and time are bounded.
Goal (issue 5): sequential overhead p50 <= 2.5 ms, p95 <= 6 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
EMULATOR_PORT = 18788
APP_PORT = 18000
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DB_URL = "postgres://postgres@127.0.0.1:5432/openrouter_bench"
BODY = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "Hej! Har ni öppet på lördag?"}],
}
MAX_SECONDS = 300


def env() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": DB_URL,
        "CACHE_URL": "redis://127.0.0.1:6379/9",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/10",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OPENROUTER_BASE_URL": f"http://127.0.0.1:{EMULATOR_PORT}/api/v1",
        "API_THROTTLE_AI": "100000/min",
        "API_THROTTLE_USER": "100000/min",
        "LOG_LEVEL": "WARNING",
    }


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def prepare_database(environment: dict[str, str]) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS openrouter_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE openrouter_bench")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment, check=True)
    script = (
        "from apps.accounts.models import User;"
        "from apps.accounts.services import api_token_create;"
        "from apps.integrations.models import AISettings;"
        "from apps.emulator.demo import DEMO;"
        "u=User.objects.create(username='bench');"
        "AISettings.objects.create(user=u, openrouter_api_key=DEMO.inference_key, api_key_last4='bnch');"
        "print(api_token_create(user=u, name='bench').plaintext)"
    )
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def timed(call: Callable[[], None], n: int, concurrency: int) -> list[float]:
    def one(_: int) -> float:
        start = time.perf_counter()
        call()
        return (time.perf_counter() - start) * 1000

    if concurrency == 1:
        return [one(i) for i in range(n)]
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(n)))


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    environment = env()
    started = time.monotonic()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    PY,
                    "manage.py",
                    "openrouter_emulator",
                    "--port",
                    str(EMULATOR_PORT),
                    "--generation-delay",
                    "0",
                ],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.DEVNULL,
            )
        )
        token = prepare_database(environment)
        procs.append(
            subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "gunicorn"),
                    "config.wsgi:application",
                    "-b",
                    f"127.0.0.1:{APP_PORT}",
                    "-w",
                    str(args.workers),
                    "-k",
                    args.worker_class,
                    "--threads",
                    str(args.threads),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=environment,
            )
        )
        wait_for(f"http://127.0.0.1:{EMULATOR_PORT}/api/v1/models")
        wait_for(f"http://127.0.0.1:{APP_PORT}/health/")
        run(args, token)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
        print(f"\n(total {time.monotonic() - started:.0f} s)")
        if time.monotonic() - started > MAX_SECONDS:
            print("warning: the run took longer than its bound", file=sys.stderr)


def run(args: argparse.Namespace, token: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from apps.emulator.demo import DEMO
    from apps.integrations.openrouter import OpenRouterClient

    direct = OpenRouterClient(DEMO.inference_key, base_url=f"http://127.0.0.1:{EMULATOR_PORT}/api/v1")
    gateway = httpx.Client(
        base_url=f"http://127.0.0.1:{APP_PORT}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )

    def call_direct() -> None:
        direct.chat(dict(BODY))

    def call_gateway() -> None:
        response = gateway.post("/api/v1/chat/completions", json=BODY)
        response.raise_for_status()

    for call in (call_direct, call_gateway):  # warm up connections, caches and code paths
        timed(call, 40, 1)
    print(f"{'path':<34}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}")
    results: dict[tuple[str, int], list[float]] = {}
    for concurrency in (1, args.concurrency):
        for name, call in (("a: client -> emulator", call_direct), ("b: gunicorn+PG gateway", call_gateway)):
            samples = timed(call, args.requests, concurrency)
            results[(name[0], concurrency)] = samples
            label = f"{name} (c={concurrency})"
            print(f"{label:<34}{len(samples):>6}{pct(samples, 50):>10.2f}{pct(samples, 95):>10.2f}")
    print()
    for concurrency in (1, args.concurrency):
        a, b = results[("a", concurrency)], results[("b", concurrency)]
        print(
            f"overhead b - a (c={concurrency}): p50 {pct(b, 50) - pct(a, 50):+.2f} ms, "
            f"p95 {pct(b, 95) - pct(a, 95):+.2f} ms"
        )


if __name__ == "__main__":
    main()
