"""The live fault suite: every upstream fault and ledger hazard of the reliability list, injected
into the RUNNING app, with the ledger invariant checked after each one.

Usage:  .venv/bin/python bench/faults.py [--database sqlite|postgres] [--app-port 19250]
                                         [--emulator-port 19251] [--only NAME ...] [--concurrent 50]

Starts, on loopback only: the OpenRouter emulator (``manage.py openrouter_emulator``, scripted
through its ``/_emulator/…`` control endpoints), gunicorn (one gthread worker, so a SIGKILL hits
the call in flight), and a Celery worker (the ``/generation`` settlement), on a throwaway SQLite
file or PostgreSQL database. Each fault gets its own tenant (an emulator account with an
inference and a management key, a user with an API token), so its rows and the emulator's own
ledger for its key can be compared exactly. Prints one line per fault and
``N injected, N survived``; exit status 1 when any fault was not survived.

The invariant after each fault: one ledger row per logical call, none left ``pending``, the right
status / error_code / attempts / is_fallback / provider, the emulator saw the expected number of
attempts, and for every call the emulator billed the row's tokens and cost equal the emulator's
own generation (settled by the worker through ``/generation``, or by the next day's activity sync
when the app never learnt the generation id). A failure OpenRouter did not bill never costs more
than zero.

Two things are simulated rather than waited for: the 15 minutes after which the sweeper expires
a pending row (the sweeper service runs with a zero threshold; the idempotency record is
back-dated by that threshold), and the next UTC day (the emulator's clock is moved one day ahead
through its control endpoint, so today is a completed day of ``/activity``, and the sync runs with
tomorrow as its "today", exactly as the nightly run would). The whole run takes about a minute.
Every process it starts is stopped at the end (by its own pid).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import (
    BODY,
    GUNICORN,
    PG_SERVER,
    PY,
    ROOT,
    Processes,
    _drain,
    start_emulator,
    start_gunicorn,
    wait_for,
)

CELERY = str(ROOT / ".venv" / "bin" / "celery")
CHAT = "/chat/completions"
# The gateway's read timeout in this run, and how long the emulator stalls a read_timeout answer.
READ_TIMEOUT = 2
STALL = 4
# Every wait is bounded; these are upper bounds, never expectations of speed.
WAIT = 40.0


class Broken(AssertionError):
    """A fault the app did not survive; the message says which part of the invariant failed."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise Broken(message)


def eventually(probe: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``probe`` until it returns something truthy (bounded); raise ``Broken`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Broken(f"timed out waiting for {what}")
        time.sleep(0.1)


# ----------------------------------------------------------------------------- the environment


def _database_url(args: argparse.Namespace, workdir: Path) -> str:
    if args.database == "sqlite":
        return f"sqlite:///{workdir / 'faults.sqlite3'}"
    import psycopg

    name = args.pg_database
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    with psycopg.connect(f"{args.pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{args.pg_server}/{name}"


def _drop_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.pg_database} WITH (FORCE)")


def live_env(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    """The app's environment: development settings without DEBUG (they ship the broker that needs
    no server: kombu's filesystem transport, here in the run's own folder), a fresh encryption key,
    OpenRouter and the system fallback provider both on the emulator."""
    from cryptography.fernet import Fernet

    from apps.emulator.demo import DEMO

    emulator = f"http://127.0.0.1:{args.emulator_port}/api/v1"
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CACHE_URL", "DATABASE_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "faults-" + "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": _database_url(args, workdir),
            "CACHE_URL": args.cache_url,
            "CELERY_BROKER_DIR": str(workdir / "celery"),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "OPENROUTER_BASE_URL": emulator,
            "SYSTEM_AI_BASE_URL": emulator,
            # The emulator's fixed system key: it opens only this local emulator.
            "SYSTEM_AI_API_KEY": DEMO.system_key,
            "OPENROUTER_TIMEOUT_SECONDS": str(READ_TIMEOUT),
            "OPENROUTER_DEADLINE_SECONDS": "30",
            "API_THROTTLE_AI": "1000000/min",
            "API_THROTTLE_USER": "1000000/min",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def start_worker(procs: Processes, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = procs.start(
        [
            CELERY,
            "-A",
            "config",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
    )
    _drain(proc)
    return proc


def quick_stop(procs: Processes) -> None:
    """SIGQUIT to gunicorn and the worker: both stop at once (no graceful drain is needed after
    the run), then the harness stops everything it started and waits for it."""
    for proc in procs.procs:
        args = proc.args
        if proc.poll() is None and isinstance(args, list) and args[0] in (CELERY, GUNICORN):
            proc.send_signal(signal.SIGQUIT)
    procs.stop()


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# ----------------------------------------------------------------------------- the live run


@dataclass
class Tenant:
    user: Any
    key: str
    key_hash: str
    token: str
    management_key: str
    syncable: bool = True


class Live:
    def __init__(self, app_url: str, emulator_url: str, gunicorn: subprocess.Popen[str]) -> None:
        self.app = app_url
        self.origin = emulator_url
        self.gunicorn = gunicorn
        self.http = httpx.Client(timeout=60)
        self.concurrent = 50
        self.tenants: list[Tenant] = []

    # --- the emulator ---------------------------------------------------------------------

    def inject(self, kind: str, tenant: Tenant | None = None, **params: Any) -> None:
        body = {"kind": kind, **params}
        if tenant is not None:
            body["key_hash"] = tenant.key_hash
        response = self.http.post(f"{self.origin}/_emulator/faults", json=body)
        check(response.status_code == 201, f"the emulator refused fault {body}: {response.text}")

    def requests_for(self, tenant: Tenant | None, path: str = CHAT) -> list[dict[str, Any]]:
        rows = self.http.get(f"{self.origin}/_emulator/requests").json()["requests"]
        return [r for r in rows if r["path"] == path and (tenant is None or r["key_hash"] == tenant.key_hash)]

    def generations(self, key_hash: str | None = None) -> list[dict[str, Any]]:
        rows = self.http.get(f"{self.origin}/_emulator/ledger").json()["generations"]
        return [g for g in rows if key_hash is None or g["key_hash"] == key_hash]

    def set_clock(self, offset_seconds: int) -> None:
        response = self.http.post(f"{self.origin}/_emulator/clock", json={"offset_seconds": offset_seconds})
        check(response.status_code == 200, f"the emulator clock did not move: {response.text}")

    # --- tenants and calls ----------------------------------------------------------------

    def tenant(self, *, fallback: bool = False, configured: bool = True, key: str | None = None) -> Tenant:
        from apps.accounts.models import User
        from apps.accounts.services import api_token_create
        from apps.emulator.ids import key_hash
        from apps.integrations.models import AISettings

        keys = self.http.post(f"{self.origin}/_emulator/accounts", json={"credits": "100"}).json()["keys"]
        inference = key or keys["inference"]
        user = User.objects.create(username=f"fault-{len(self.tenants) + 1}")
        if configured:
            AISettings.objects.create(
                user=user,
                openrouter_api_key=inference,
                api_key_last4=inference[-4:],
                openrouter_management_key=keys["management"],
                management_key_last4=keys["management"][-4:],
                use_system_fallback=fallback,
            )
        token = api_token_create(user=user, name="faults").plaintext
        tenant = Tenant(user, inference, key_hash(inference), token, keys["management"], configured)
        self.tenants.append(tenant)
        return tenant

    def headers(self, tenant: Tenant, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tenant.token}", "X-Use-Case": "chat", **extra}

    def call(self, tenant: Tenant, body: dict[str, Any] | None = None, /, **headers: str) -> httpx.Response:
        return self.http.post(
            f"{self.app}/api/v1/chat/completions", json=body or BODY, headers=self.headers(tenant, **headers)
        )

    @contextmanager
    def stream(self, tenant: Tenant, **headers: str) -> Iterator[httpx.Response]:
        with self.http.stream(
            "POST",
            f"{self.app}/api/v1/chat/completions",
            json={**BODY, "stream": True},
            headers=self.headers(tenant, **headers),
        ) as response:
            yield response

    def stream_events(self, tenant: Tenant, **headers: str) -> tuple[httpx.Response, list[str]]:
        with self.stream(tenant, **headers) as response:
            response.read()  # kept, so an error answer (JSON) can be read too
        events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
        return response, events


# ----------------------------------------------------------------------------- the invariant


def gateway_rows(tenant: Tenant) -> list[Any]:
    from apps.usage.models import AIUsageLog, UsageSource

    return list(AIUsageLog.objects.filter(user=tenant.user, source=UsageSource.GATEWAY).order_by("pk"))


def settled_rows(tenant: Tenant, count: int) -> list[Any]:
    """The tenant's rows once ``count`` exist and none is pending (a JSON answer's row is written
    after the response was sent)."""
    from apps.usage.models import UsageStatus

    def probe() -> list[Any] | None:
        rows = gateway_rows(tenant)
        done = len(rows) >= count and all(r.status != UsageStatus.PENDING for r in rows)
        return rows if done else None

    return eventually(probe, f"{count} finished ledger row(s)")


def priced(tenant: Tenant, pk: int) -> Any:
    """The row once its cost is final (the worker settles billed failures via /generation)."""
    from apps.usage.cost import cost_is_settled
    from apps.usage.models import AIUsageLog

    def probe() -> Any:
        row = AIUsageLog.objects.get(pk=pk, user=tenant.user)
        return row if cost_is_settled(usd=row.cost_usd, source=row.cost_source) else None

    return eventually(probe, f"the cost of row {pk} to be settled")


def same_as_generation(row: Any, generation: dict[str, Any]) -> None:
    got = (row.prompt_tokens, row.completion_tokens, row.cost_usd)
    want = (generation["prompt_tokens"], generation["completion_tokens"], Decimal(generation["cost"]))
    check(got == want, f"row {row.pk} has tokens/cost {got}, the emulator billed {want}")


def invariant(
    live: Live,
    tenant: Tenant,
    *,
    status: str,
    attempts: int | None = 1,
    error_code: str = "",
    is_fallback: bool = False,
    provider: str = "openrouter",
    billed: bool,
    upstream_calls: int | None = None,
    awaits_reconciliation: bool = False,
) -> Any:
    """Check the one row of one logical call against what the emulator saw and billed."""
    rows = settled_rows(tenant, 1)
    check(len(rows) == 1, f"{len(rows)} ledger rows for one call")
    row = rows[0]
    got = (row.status, row.error_code, row.is_fallback, row.provider)
    want = (status, error_code, is_fallback, provider)
    check(got == want, f"row is (status, error_code, is_fallback, provider)={got}, expected {want}")
    if attempts is not None:
        check(row.attempts == attempts, f"row has attempts={row.attempts}, expected {attempts}")
    calls = len(live.requests_for(tenant))
    expected_calls = upstream_calls if upstream_calls is not None else (attempts or 1)
    if is_fallback:
        expected_calls = (attempts or 1) - 1
    check(calls == expected_calls, f"the emulator saw {calls} chat attempts, expected {expected_calls}")
    generations = live.generations(tenant.key_hash)
    if is_fallback:
        generations = [g for g in live.generations() if g["id"] == row.generation_id]
    if not billed:
        check(
            generations == [], f"the emulator billed {len(generations)} generation(s) for an unbilled fault"
        )
        check(row.cost_usd is None or row.cost_usd == 0, f"an unbilled failure costs {row.cost_usd}")
        return row
    check(len(generations) == 1, f"the emulator billed {len(generations)} generations, expected 1")
    if awaits_reconciliation:
        # The app never learnt the generation id: unknown (never a silent 0) until the sync.
        check(row.cost_usd is None, f"row cost {row.cost_usd} before reconciliation, expected unknown")
        return row
    row = priced(tenant, row.pk)
    same_as_generation(row, generations[0])
    return row


def reconcile(live: Live, tenant: Tenant) -> Any:
    """The next day's activity sync for ``tenant`` (the emulator's clock one day ahead)."""
    from apps.usage.models import SyncTrigger
    from apps.usage.sync import sync_run_execute, sync_run_request, utc_today

    today = utc_today()
    live.set_clock(86400)
    try:
        run, _ = sync_run_request(
            user=tenant.user, start=today, end=today, trigger=SyncTrigger.COMMAND, enqueue=False
        )
        run = sync_run_execute(run_id=run.pk, today=today + dt.timedelta(days=1))
    finally:
        live.set_clock(0)
    check(run.state == "succeeded", f"the sync ended {run.state}: {run.error}")
    return run


def timed_out_then_reconciled(live: Live, tenant: Tenant) -> Any:
    """A read timeout's row: one ``timeout`` row left for reconciliation, which then settles it to
    exactly what the emulator billed. Returns the settled row."""
    invariant(
        live,
        tenant,
        status="timeout",
        attempts=1,
        error_code="read_timeout",
        billed=True,
        awaits_reconciliation=True,
    )
    reconcile(live, tenant)
    row = gateway_rows(tenant)[0]
    same_as_generation(row, live.generations(tenant.key_hash)[0])
    return row


def day_totals_match(live: Live, tenant: Tenant) -> str:
    """After the sync: the tenant's ledger (gateway rows and adjustment rows) for today equals
    what the emulator billed its key, to the last decimal; no row is left without a cost."""
    from apps.usage.models import AIUsageLog, UsageSource

    # The system fallback provider bills its own account, never the tenant's key.
    rows = list(AIUsageLog.objects.filter(user=tenant.user).exclude(provider="system"))
    unknown = [r.pk for r in rows if r.cost_usd is None]
    check(not unknown, f"rows {unknown} still have no cost after reconciliation")
    ledger = sum((r.cost_usd or Decimal(0) for r in rows), Decimal(0))
    billed = sum((Decimal(g["cost"]) for g in live.generations(tenant.key_hash)), Decimal(0))
    check(ledger == billed, f"ledger total {ledger} != emulator's {billed}")
    adjustments = [r for r in rows if r.source == UsageSource.ACTIVITY_SYNC and r.cost_usd]
    check(not adjustments, f"an adjustment of {[r.cost_usd for r in adjustments]} was needed")
    return f"day total {ledger} USD = emulator's"


def error_of(response: httpx.Response) -> tuple[int, str]:
    try:
        body = response.json()
    except ValueError:
        raise Broken(f"{response.status_code} answer is not JSON: {response.text[:200]!r}") from None
    check(isinstance(body, dict) and "error" in body, f"not the error shape: {body}")
    error = body["error"]
    check({"code", "message"} <= set(error), f"error without code/message: {error}")
    check("<" not in error["message"], f"raw markup reached the caller: {error['message']!r}")
    return response.status_code, error["code"]


# ----------------------------------------------------------------------------- the faults

FAULTS: list[tuple[str, Callable[[Live], str]]] = []


def fault(name: str) -> Callable[[Callable[[Live], str]], Callable[[Live], str]]:
    def register(fn: Callable[[Live], str]) -> Callable[[Live], str]:
        FAULTS.append((name, fn))
        return fn

    return register


@fault("429 x3 with Retry-After, then 200")
def f_429_then_200(live: Live) -> str:
    t = live.tenant()
    live.inject("rate_limit", t, times=3, retry_after=1)
    r = live.call(t)
    check(r.status_code == 200, f"answered {r.status_code}: {r.text[:200]}")
    row = invariant(live, t, status="success", attempts=4, billed=True)
    return f"200, one row, attempts {row.attempts}, cost {row.cost_usd}"


@fault("429 beyond the retry budget")
def f_429_budget(live: Live) -> str:
    t = live.tenant()
    # Three quick 429s (jittered backoff), then one whose Retry-After the caller must be given.
    live.inject("rate_limit", t, times=3)
    live.inject("rate_limit", t, retry_after=1)
    r = live.call(t)
    check(error_of(r) == (429, "rate_limited"), f"answered {error_of(r)}")
    check(r.headers.get("Retry-After") == "1", f"Retry-After {r.headers.get('Retry-After')!r}")
    invariant(live, t, status="rate_limited", attempts=4, error_code="rate_limited", billed=False)
    return "429 with Retry-After, one rate_limited row, 4 attempts"


def _5xx_then_200(status: int) -> Callable[[Live], str]:
    def run(live: Live) -> str:
        t = live.tenant()
        live.inject("status", t, status=status, times=2)
        r = live.call(t)
        check(r.status_code == 200, f"answered {r.status_code}: {r.text[:200]}")
        invariant(live, t, status="success", attempts=3, billed=True)
        return "200 after jittered backoff, one success row, 3 attempts"

    return run


fault("502 x2, then 200")(_5xx_then_200(502))
fault("503 x2, then 200")(_5xx_then_200(503))


def _not_retried(kind: str, answer: int, code: str, row_code: str, **params: Any) -> Callable[[Live], str]:
    def run(live: Live) -> str:
        t = live.tenant()
        live.inject(kind, t, **params)
        r = live.call(t)
        check(error_of(r) == (answer, code), f"answered {error_of(r)}, expected {(answer, code)}")
        message = r.json()["error"]["message"]
        invariant(live, t, status="error", attempts=1, error_code=row_code, billed=False)
        return f"{answer} {code} ({message[:60]}…), not retried"

    return run


fault("400 invalid model: not retried")(
    _not_retried("status", 400, "invalid_request", "invalid_request", status=400)
)
fault("402 out of credits: not retried")(
    _not_retried("insufficient_credits", 402, "insufficient_credits", "insufficient_credits")
)
fault("403 key limit: not retried")(_not_retried("key_limit", 403, "key_limit", "key_limit"))
fault("403 moderation: not retried")(_not_retried("moderation", 403, "moderation", "moderation"))


@fault("401 bad key: not retried")
def f_401(live: Live) -> str:
    t = live.tenant(key="sk-or-v1-" + "0" * 64)  # a key the emulator does not know
    r = live.call(t)
    check(error_of(r) == (400, "invalid_key"), f"answered {error_of(r)}")
    invariant(live, t, status="error", attempts=1, error_code="invalid_key", billed=False)
    return "400 invalid_key (the key, not the call, is wrong), not retried"


@fault("read timeout after sending (billed)")
def f_read_timeout(live: Live) -> str:
    t = live.tenant()
    live.inject("read_timeout", t)
    r = live.call(t, **{"Idempotency-Key": "faults-rt"})
    check(error_of(r) == (504, "maybe_billed"), f"answered {error_of(r)}")
    check(r.headers.get("x-should-retry") == "false", "no x-should-retry: false on a maybe-billed 504")
    # A partner's retry with the same key must not pay twice: the stored 504 is replayed.
    again = live.call(t, **{"Idempotency-Key": "faults-rt"})
    check(error_of(again) == (504, "maybe_billed"), f"the retry answered {error_of(again)}")
    check(again.headers.get("Idempotent-Replayed") == "true", "the retry was not a replay")
    check(again.headers.get("x-should-retry") == "false", "the replayed 504 lost x-should-retry: false")
    row = timed_out_then_reconciled(live, t)
    return f"504 x-should-retry false, row timeout; reconciled to {row.cost_usd} USD. " + day_totals_match(
        live, t
    )


def _unreadable_200(kind: str, *, billed: bool, **params: Any) -> Callable[[Live], str]:
    def run(live: Live) -> str:
        t = live.tenant()
        live.inject(kind, t, **params)
        r = live.call(t)
        status, code = error_of(r)
        check(status == 502, f"answered {status} {code}")
        check(r.headers.get("x-should-retry") == "false", "a maybe-billed 502 without x-should-retry: false")
        row = invariant(live, t, status="error", attempts=1, error_code="bad_response", billed=billed)
        return f"502 {code} generic message, row error, cost {row.cost_usd}"

    return run


fault("200 with an HTML body")(_unreadable_200("html", billed=False, status=200))
fault("200 with a non-JSON body")(_unreadable_200("non_json", billed=False))
fault("200 with a truncated body (billed)")(_unreadable_200("truncated", billed=True))


@fault("stream cut off mid-way (billed)")
def f_stream_truncated(live: Live) -> str:
    t = live.tenant()
    live.inject("truncated", t)
    response, events = live.stream_events(t)
    check(response.status_code == 200 and events[-1:] == ["[DONE]"], "the stream did not end with [DONE]")
    last = json.loads(events[-2])
    check("error" in last, f"a cut-off stream ended without an error event: {last}")
    row = invariant(live, t, status="error", attempts=1, error_code="incomplete_stream", billed=True)
    return f"error event then [DONE]; row error incomplete_stream, settled to {row.cost_usd} USD"


@fault("stream read timeout before the first byte (billed)")
def f_stream_read_timeout(live: Live) -> str:
    t = live.tenant()
    live.inject("read_timeout", t)
    response, _ = live.stream_events(t)
    check(error_of(response) == (504, "maybe_billed"), f"answered {error_of(response)}")
    check(response.headers.get("x-should-retry") == "false", "no x-should-retry: false")
    timed_out_then_reconciled(live, t)
    return "504 JSON before any event, x-should-retry false; reconciled. " + day_totals_match(live, t)


@fault("stream: 429 x3, then 200 (retried before the first byte)")
def f_stream_429(live: Live) -> str:
    t = live.tenant()
    live.inject("rate_limit", t, times=3)
    response, events = live.stream_events(t)
    check(response.status_code == 200 and events[-1:] == ["[DONE]"], "the stream did not end")
    check(not any('"error"' in e for e in events), "an error event in a retried stream")
    invariant(live, t, status="success", attempts=4, billed=True)
    return "one stream, one success row, 4 attempts"


@fault("502 HTML page from the edge, then 200")
def f_html_502(live: Live) -> str:
    t = live.tenant()
    live.inject("html", t, status=502)
    r = live.call(t)
    check(r.status_code == 200, f"answered {r.status_code}: {r.text[:200]}")
    invariant(live, t, status="success", attempts=2, billed=True)
    return "retried like any 502; one success row, 2 attempts"


@fault("JSON 200 with finish_reason error (billed)")
def f_json_finish_error(live: Live) -> str:
    t = live.tenant()
    live.inject("midstream_error", t)
    r = live.call(t)
    status, code = error_of(r)
    check(status == 502, f"answered {status} {code}")
    row = invariant(live, t, status="error", attempts=1, error_code="error_in_200", billed=True)
    return f"502 {code}; row error with the tokens reported ({row.completion_tokens}), {row.cost_usd} USD"


@fault("200 carrying {error}")
def f_error_200(live: Live) -> str:
    t = live.tenant()
    live.inject("error_200", t)
    r = live.call(t)
    status, code = error_of(r)
    check(status == 502, f"answered {status} {code}")
    invariant(live, t, status="error", attempts=1, error_code="error_in_200", billed=False)
    return f"502 {code}, row error error_in_200"


@fault("stream ending with finish_reason error")
def f_midstream(live: Live) -> str:
    t = live.tenant()
    live.inject("midstream_error", t)
    response, events = live.stream_events(t)
    check(response.status_code == 200, f"stream answered {response.status_code}")
    check(events and events[-1] == "[DONE]", "the stream did not end with [DONE]")
    last = json.loads(events[-2])
    check("error" in last, f"the stream's last event is not an error: {last}")
    row = invariant(live, t, status="error", attempts=1, error_code="error_in_200", billed=True)
    return f"error event then [DONE]; row error with the partial tokens {row.completion_tokens}"


@fault("usage missing in a 200")
def f_missing_usage(live: Live) -> str:
    t = live.tenant()
    live.inject("missing_usage", t)
    r = live.call(t)
    check(r.status_code == 200, f"answered {r.status_code}")
    row = invariant(live, t, status="success", attempts=1, billed=True)
    check(row.cost_source == "generation_lookup", f"cost source {row.cost_source}")
    return f"200; row filled from /generation: {row.cost_usd} USD"


@fault("stream with finish_reason and [DONE] but no usage")
def f_stream_missing_usage(live: Live) -> str:
    t = live.tenant()
    live.inject("missing_usage", t)
    response, events = live.stream_events(t)
    check(response.status_code == 200 and events[-1:] == ["[DONE]"], "the stream did not end")
    check(not any('"error"' in e for e in events), "a complete answer without usage was called an error")
    row = invariant(live, t, status="success", attempts=1, billed=True)
    check(row.cost_source == "generation_lookup", f"cost source {row.cost_source}")
    return f"a success, flagged unpriced, filled from /generation: {row.cost_usd} USD"


@fault("stream closed after the content, without finish, usage or [DONE] (billed)")
def f_stream_no_usage(live: Live) -> str:
    t = live.tenant()
    live.inject("stream_no_usage", t)
    response, events = live.stream_events(t)
    check(response.status_code == 200 and events[-1:] == ["[DONE]"], "the stream did not end")
    check("error" in json.loads(events[-2]), "an unfinished stream was passed off as complete")
    row = invariant(live, t, status="error", attempts=1, error_code="incomplete_stream", billed=True)
    return f"error event, row error incomplete_stream, filled from /generation: {row.cost_usd} USD"


@fault("client disconnects mid-stream")
def f_disconnect(live: Live) -> str:
    t = live.tenant()
    live.inject("slow_trickle", t, delay=0.2)
    seen = 0
    with live.stream(t) as response:
        for line in response.iter_lines():
            seen += line.startswith("data: ")
            if seen == 2:
                break
    generation = eventually(
        lambda: [g for g in live.generations(t.key_hash) if g["cancelled"]], "the emulator to see the hang-up"
    )[0]
    row = invariant(live, t, status="cancelled", attempts=1, error_code="cancelled", billed=True)
    return f"upstream closed, row cancelled; {generation['completion_tokens']} partial tokens, {row.cost_usd} USD"


@fault("idempotent retry (JSON)")
def f_idempotent(live: Live) -> str:
    t = live.tenant()
    first = live.call(t, **{"Idempotency-Key": "faults-1"})
    second = live.call(t, **{"Idempotency-Key": "faults-1"})
    check(first.status_code == second.status_code == 200, f"{first.status_code}/{second.status_code}")
    check(second.headers.get("Idempotent-Replayed") == "true", "the retry was not a replay")
    check(first.json() == second.json(), "the replay differs from the first answer")
    invariant(live, t, status="success", attempts=1, billed=True)
    return "one upstream call, the retry replayed byte for byte"


@fault("idempotent retry (stream)")
def f_idempotent_stream(live: Live) -> str:
    t = live.tenant()
    _, first = live.stream_events(t, **{"Idempotency-Key": "faults-s"})
    replay, second = live.stream_events(t, **{"Idempotency-Key": "faults-s"})
    check(replay.headers.get("Idempotent-Replayed") == "true", "the retry was not a replay")
    check(first == second and first[-1] == "[DONE]", "the replayed stream differs")
    invariant(live, t, status="success", attempts=1, billed=True)
    return f"one upstream call, {len(first)} events replayed"


@fault("concurrent retries with one Idempotency-Key")
def f_idempotent_race(live: Live) -> str:
    t = live.tenant()
    live.inject("slow_trickle", t, delay=0.15)  # the first call is still running when the others arrive
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: live.call(t, **{"Idempotency-Key": "faults-race"}), range(4)))
    statuses = sorted(r.status_code for r in answers)
    check(statuses.count(200) >= 1 and set(statuses) <= {200, 409}, f"statuses {statuses}")
    for r in answers:
        if r.status_code == 409:
            check(error_of(r)[1] == "idempotency_in_progress", f"409 with {error_of(r)}")
    invariant(live, t, status="success", attempts=1, billed=True)
    return f"answers {statuses}: one upstream call, the others 409 in progress or replayed"


@fault("idempotent retry after a 429 runs again")
def f_idempotent_after_429(live: Live) -> str:
    t = live.tenant()
    live.inject("rate_limit", t, times=4)
    first = live.call(t, **{"Idempotency-Key": "faults-429"})
    check(error_of(first) == (429, "rate_limited"), f"answered {error_of(first)}")
    second = live.call(t, **{"Idempotency-Key": "faults-429"})
    check(second.status_code == 200, f"the retry answered {second.status_code}")
    check(second.headers.get("Idempotent-Replayed") is None, "a certainly unbilled 429 was replayed")
    rows = settled_rows(t, 2)
    check([r.status for r in rows] == ["rate_limited", "success"], f"rows {[r.status for r in rows]}")
    check(len(live.requests_for(t)) == 5, f"{len(live.requests_for(t))} upstream attempts, expected 4 + 1")
    (generation,) = live.generations(t.key_hash)
    same_as_generation(priced(t, rows[1].pk), generation)
    return "429 (not billed) forgotten; the retry ran once: two rows, two logical calls"


@fault("caller-supplied ledger identifiers")
def f_caller_ids(live: Live) -> str:
    import uuid

    t = live.tenant()
    theirs = str(uuid.uuid4())
    r = live.call(t, **{"X-Request-Id": theirs})
    check(r.status_code == 200, f"answered {r.status_code}")
    row = invariant(live, t, status="success", attempts=1, billed=True)
    check(str(row.request_id) != theirs, "the row took the caller's request id")
    refused = [
        live.call(t, {**BODY, field: value})
        for field, value in (("request_id", theirs), ("id", 1), ("log_id", 1), ("generation_id", "gen-1"))
    ]
    for answer in refused:
        check(error_of(answer) == (400, "invalid_request"), f"an id field answered {error_of(answer)}")
    check(len(gateway_rows(t)) == 1, "a refused body wrote a row")
    check(len(live.requests_for(t)) == 1, "a refused body reached upstream")
    return "X-Request-Id ignored (row has its own); id fields in the body refused with 400"


@fault("feature endpoint (/api/ai/prompt/): read timeout")
def f_feature_timeout(live: Live) -> str:
    t = live.tenant()
    live.inject("read_timeout", t)
    r = live.http.post(f"{live.app}/api/ai/prompt/", json={"prompt": "Hej!"}, headers=live.headers(t))
    check(error_of(r) == (504, "maybe_billed"), f"answered {error_of(r)}")
    check(r.headers.get("x-should-retry") == "false", "no x-should-retry: false")
    timed_out_then_reconciled(live, t)
    return "504 x-should-retry false, row timeout, reconciled. " + day_totals_match(live, t)


@fault("feature endpoint (/api/ai/prompt/): 503 then 200")
def f_feature_503(live: Live) -> str:
    t = live.tenant()
    live.inject("status", t, status=503)
    r = live.http.post(f"{live.app}/api/ai/prompt/", json={"prompt": "Hej!"}, headers=live.headers(t))
    check(r.status_code == 200, f"answered {r.status_code}: {r.text[:200]}")
    row = invariant(live, t, status="success", attempts=2, billed=True)
    usage = r.json()["usage"]
    check(Decimal(str(usage["cost_usd"])) == row.cost_usd, f"the answer says {usage}, the row {row.cost_usd}")
    return "200 after one retry; the answer's usage equals the row"


@fault("no stored key")
def f_no_key(live: Live) -> str:
    t = live.tenant(configured=False)
    before = len(live.requests_for(None))
    r = live.call(t)
    check(error_of(r) == (400, "openrouter_not_configured"), f"answered {error_of(r)}")
    check(len(live.requests_for(None)) == before, "an upstream call was made without a key")
    check(gateway_rows(t) == [], "a ledger row for a call that was never made")
    return "400 'configure your OpenRouter key', no upstream call"


@fault("stored key fails to decrypt")
def f_undecryptable(live: Live) -> str:
    from django.db import connection

    from apps.integrations.models import AISettings

    t = live.tenant()
    table = AISettings._meta.db_table
    with connection.cursor() as cursor:
        # Ciphertext under a key the app does not hold (a lost or rotated-away encryption key).
        # Raw SQL: the ORM would encrypt the value. The table name is the model's; values are bound.
        sql = f"UPDATE {table} SET openrouter_api_key = %s WHERE user_id = %s"  # nosec B608
        cursor.execute(sql, ["gAAAAABnot-a-token-under-our-keys", t.user.pk])
    t.syncable = False  # its sync would need the key it can no longer read
    before = len(live.requests_for(None))
    r = live.call(t)
    check(error_of(r) == (400, "openrouter_not_configured"), f"answered {error_of(r)}")
    check(len(live.requests_for(None)) == before, "an upstream call was made with an unreadable key")
    check(gateway_rows(t) == [], "a ledger row for a call that was never made")
    return "400 'enter your key again', no upstream call"


def _fallback(kind: str, **params: Any) -> Callable[[Live], str]:
    def run(live: Live) -> str:
        t = live.tenant(fallback=True)
        live.inject(kind, t, times=4, **params)
        r = live.call(t)
        check(r.status_code == 200, f"answered {r.status_code}: {r.text[:200]}")
        row = invariant(
            live, t, status="success", attempts=5, is_fallback=True, provider="system", billed=True
        )
        return f"system provider answered; one row is_fallback, its own cost {row.cost_usd} USD"

    return run


fault("fallback after 502 beyond the budget")(_fallback("status", status=502))


@fault("stream fallback after 503 beyond the budget")
def f_stream_fallback(live: Live) -> str:
    t = live.tenant(fallback=True)
    live.inject("status", t, status=503, times=4)
    response, events = live.stream_events(t)
    check(response.status_code == 200 and events[-1:] == ["[DONE]"], "the fallback stream did not end")
    row = invariant(live, t, status="success", attempts=5, is_fallback=True, provider="system", billed=True)
    return f"system provider streamed; one row is_fallback, {row.cost_usd} USD"


fault("fallback after 429 beyond the budget")(_fallback("rate_limit"))


@fault("ledger cannot be written")
def f_ledger_down(live: Live) -> str:
    from django.db import connection

    from apps.usage.models import AIUsageLog

    t = live.tenant()
    table = AIUsageLog._meta.db_table
    if connection.vendor == "postgresql":
        create = [
            "CREATE FUNCTION faults_ledger_down() RETURNS trigger AS "
            "$$ BEGIN RAISE EXCEPTION 'ledger down'; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER faults_ledger_down BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION faults_ledger_down()",
        ]
        drop = [f"DROP TRIGGER faults_ledger_down ON {table}", "DROP FUNCTION faults_ledger_down()"]
    else:
        create = [
            f"CREATE TRIGGER faults_ledger_down BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'ledger down'); END"
        ]
        drop = ["DROP TRIGGER faults_ledger_down"]
    with connection.cursor() as cursor:
        for statement in create:
            cursor.execute(statement)
    try:
        r = live.call(t)
    finally:
        with connection.cursor() as cursor:
            for statement in drop:
                cursor.execute(statement)
    check(error_of(r) == (503, "ledger_unavailable"), f"answered {error_of(r)}")
    check(live.requests_for(t) == [], "the provider was called although no row could be written")
    check(gateway_rows(t) == [], "a row appeared")
    return "503 ledger_unavailable, the provider was not called"


@fault("50 concurrent calls for one user")
def f_concurrent(live: Live) -> str:
    t = live.tenant()
    n = live.concurrent
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda _: live.call(t).status_code, range(n)))
    check(statuses == [200] * n, f"statuses {sorted(set(statuses))}")
    rows = settled_rows(t, n)
    check(len(rows) == n, f"{len(rows)} rows for {n} calls")
    check({r.status for r in rows} == {"success"}, "not every row is a success")
    generations = live.generations(t.key_hash)
    ledger = (
        sum(r.prompt_tokens + r.completion_tokens for r in rows),
        sum((r.cost_usd for r in rows), Decimal(0)),
    )
    billed = (
        sum(g["prompt_tokens"] + g["completion_tokens"] for g in generations),
        sum((Decimal(g["cost"]) for g in generations), Decimal(0)),
    )
    check(len(generations) == n, f"the emulator billed {len(generations)} generations")
    check(ledger == billed, f"ledger {ledger} != emulator {billed}")
    check({r.generation_id for r in rows} == {g["id"] for g in generations}, "generation ids differ")
    return f"{n} rows; {ledger[0]} tokens and {ledger[1]} USD = the emulator's ledger exactly"


@fault("gunicorn worker SIGKILLed mid-call")
def f_killed(live: Live) -> str:
    from apps.ai_gateway.models import IdempotencyRecord
    from apps.usage.services import STALE_PENDING_AFTER, usage_expire_stale_pending

    t = live.tenant()
    live.inject("slow_trickle", t, delay=0.5)
    before = children(live.gunicorn.pid)
    check(len(before) == 1, f"gunicorn has workers {before}, expected one")
    got_events = threading.Event()

    def caller() -> None:
        try:
            with live.stream(t, **{"Idempotency-Key": "faults-kill"}) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        got_events.set()
        except httpx.HTTPError:
            pass  # the worker died under it: the connection breaks

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    check(got_events.wait(WAIT), "the stream never started")
    os.kill(before[0], signal.SIGKILL)
    thread.join(WAIT)
    rows = gateway_rows(t)
    check(len(rows) == 1 and rows[0].status == "pending", f"after the kill: {[r.status for r in rows]}")
    eventually(lambda: live.generations(t.key_hash), "the emulator to bill the broken stream")
    eventually(lambda: children(live.gunicorn.pid) not in ([], before), "gunicorn to replace the worker")
    wait_for(f"{live.app}/health/")

    # A retry while the dead worker's key is fresh: still in progress, no second upstream call.
    r = live.http.post(
        f"{live.app}/api/v1/chat/completions",
        json={**BODY, "stream": True},
        headers=live.headers(t, **{"Idempotency-Key": "faults-kill"}),
    )
    check(error_of(r) == (409, "idempotency_in_progress"), f"fresh retry answered {error_of(r)}")
    check(len(live.requests_for(t)) == 1, "the fresh retry called upstream")

    # The sweeper (15 minutes later, simulated by a zero threshold) closes the pending row.
    check(usage_expire_stale_pending() == 0, "the sweeper expired a fresh pending row")
    check(usage_expire_stale_pending(older_than=dt.timedelta(0)) == 1, "the sweeper expired nothing")
    row = gateway_rows(t)[0]
    check(
        (row.status, row.error_code) == ("timeout", "stale_pending"),
        f"swept to {row.status} {row.error_code}",
    )
    check(row.cost_usd is None, f"swept row costs {row.cost_usd}, expected unknown")

    # The same 15 minutes release the idempotency key: the next retry takes it over and runs once.
    IdempotencyRecord.objects.filter(user=t.user, key="faults-kill").update(
        updated_at=IdempotencyRecord.objects.get(user=t.user, key="faults-kill").updated_at
        - STALE_PENDING_AFTER
        - dt.timedelta(seconds=1)
    )
    _, events = live.stream_events(t, **{"Idempotency-Key": "faults-kill"})
    check(events[-1:] == ["[DONE]"], "the retry after the takeover did not complete")
    rows = settled_rows(t, 2)
    check(len(rows) == 2 and rows[1].status == "success", f"rows after the retry: {[r.status for r in rows]}")
    check(len(live.requests_for(t)) == 2, "the retry did not call upstream exactly once")

    reconcile(live, t)
    killed, retried = gateway_rows(t)
    generations = {g["id"]: g for g in live.generations(t.key_hash)}
    check(retried.generation_id in generations, "the retry's generation is not the emulator's")
    same_as_generation(retried, generations.pop(retried.generation_id))
    (lost,) = generations.values()
    check(killed.cost_source == "activity", f"the killed call settled as {killed.cost_source}")
    same_as_generation(killed, lost)
    return (
        f"row pending → sweeper timeout → 409 then takeover → reconciled to {killed.cost_usd} USD "
        f"({lost['completion_tokens']} tokens). " + day_totals_match(live, t)
    )


@fault("next day's sync reconciles every tenant")
def f_reconcile_all(live: Live) -> str:
    from apps.usage.models import AIUsageLog

    tenants = [t for t in live.tenants if t.syncable]
    for t in tenants:
        reconcile(live, t)
        day_totals_match(live, t)
    unknown = AIUsageLog.objects.filter(cost_usd__isnull=True).count()
    check(unknown == 0, f"{unknown} rows still without a cost")
    return f"{len(tenants)} tenants: every day total equals the emulator's, no row without a cost"


# ----------------------------------------------------------------------------- running it


def after_each(live: Live) -> None:
    """Whatever the fault: it was really injected (the emulator used every scripted failure) and
    no ledger row of any tenant is left pending."""
    from apps.usage.models import AIUsageLog, UsageStatus

    left = live.http.get(f"{live.origin}/_emulator/faults").json()["faults"]
    check(left == [], f"scripted faults never reached upstream: {left}")
    eventually(
        lambda: not AIUsageLog.objects.filter(status=UsageStatus.PENDING).exists(), "no pending row anywhere"
    )


def run_suite(live: Live, names: list[str]) -> tuple[int, int]:
    injected = survived = 0
    for name, fn in FAULTS:
        if names and not any(n.lower() in name.lower() for n in names):
            continue
        injected += 1
        started = time.monotonic()
        try:
            detail = fn(live)
        except Broken as exc:
            print(f"  FAIL  {name}: {exc}", flush=True)
        except Exception:
            print(f"  FAIL  {name}: crashed\n{traceback.format_exc()}", flush=True)
        else:
            try:
                after_each(live)
            except Broken as exc:
                print(f"  FAIL  {name}: {exc}", flush=True)
                continue
            survived += 1
            print(f"  ok    {name} ({time.monotonic() - started:.1f} s): {detail}", flush=True)
    return injected, survived


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-server", default=PG_SERVER)
    parser.add_argument("--pg-database", default="faults_suite")
    parser.add_argument("--cache-url", default="locmemcache://faults")
    parser.add_argument("--app-port", type=int, default=19250)
    parser.add_argument("--emulator-port", type=int, default=19251)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument(
        "--only", nargs="*", default=[], help="run the faults whose name contains one of these"
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (database, broker)")
    args = parser.parse_args(argv)

    # On tmpfs when there is one: the throwaway SQLite file and broker need no disk flushes.
    shm = Path("/dev/shm")  # nosec B108 - mkdtemp below makes a private (0700) folder in it
    workdir = Path(tempfile.mkdtemp(prefix="faults-", dir=shm if shm.is_dir() else None))
    procs = Processes()
    try:
        began = time.monotonic()
        env = live_env(args, workdir)
        os.environ.update(env)
        # The database is migrated while the emulator starts (it needs none).
        migrate = subprocess.Popen([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env)
        start_emulator(procs, port=args.emulator_port, env=env, extra=["--read-timeout-sleep", str(STALL)])
        print(f"emulator up after {time.monotonic() - began:.1f} s", flush=True)
        if migrate.wait() != 0:
            raise SystemExit("migrate failed")
        print(f"migrated after {time.monotonic() - began:.1f} s", flush=True)
        start_worker(procs, env)
        import django

        # This process reads the ledger itself: its Django starts while gunicorn boots.
        setup = threading.Thread(target=django.setup)
        setup.start()
        start_gunicorn(procs, port=args.app_port, env=env, workers=1, worker_class="gthread", threads=8)
        setup.join()
        print(f"gunicorn up after {time.monotonic() - began:.1f} s", flush=True)
        print(f"started in {time.monotonic() - began:.1f} s", flush=True)
        live = Live(
            f"http://127.0.0.1:{args.app_port}", f"http://127.0.0.1:{args.emulator_port}", procs.procs[-1]
        )
        live.concurrent = args.concurrent
        print(f"fault suite on {args.database}: app {live.app}, emulator {live.origin}", flush=True)
        injected, survived = run_suite(live, args.only)
        print(f"{injected} injected, {survived} survived", flush=True)
        return 0 if injected and injected == survived else 1
    finally:
        stopping = time.monotonic()
        quick_stop(procs)
        print(f"stopped in {time.monotonic() - stopping:.1f} s", flush=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            if args.database == "postgres":
                _drop_database(args)


if __name__ == "__main__":
    sys.exit(main())
