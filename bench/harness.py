"""What the gateway benchmarks share: the emulator and gunicorn on loopback, a throwaway
PostgreSQL database, a bench tenant with a token, timing helpers, and the LiteLLM peer.

Only 127.0.0.1 is contacted. Every process started here is stopped by :class:`Processes`.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
MODEL = "openai/gpt-4o-mini"
BODY = {"model": MODEL, "messages": [{"role": "user", "content": "Hej! Har ni öppet på lördag?"}]}
LITELLM_VENV = BENCH / ".venv-litellm"
LITELLM_MASTER_KEY = "sk-bench-master"  # a local proxy's key, valid for this run only


def app_env(*, database: str, redis_db: int, emulator_port: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{PG_SERVER}/{database}",
        "CACHE_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OPENROUTER_BASE_URL": f"http://127.0.0.1:{emulator_port}/api/v1",
        "API_THROTTLE_AI": "1000000/min",
        "API_THROTTLE_USER": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }


class Processes:
    """Servers started for one run; ``stop()`` ends exactly these (by their own pids)."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, args: list[str], *, env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[str]:
        # Its own process group: stop() ends the server and every process it started (LiteLLM's
        # workers outlived their parent once and held the port for the next run).
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            _signal_group(proc, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=5)
        time.sleep(0.2)
        for proc in self.procs:  # anything of the group still there (a worker that ignored TERM)
            _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _proc_stats() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds used so far) for every process visible."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    return stats


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree (a root pid and its descendants),
    plus every ``postgres`` and ``redis-server`` process (the database and cache servers)."""
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    result: dict[str, float] = {}
    for label, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            total += stats.get(pid, (0, "", 0.0))[2]
            todo.extend(children.get(pid, []))
        result[label] = total
    for server in ("postgres", "redis-server"):
        result[server] = sum(cpu for _, name, cpu in stats.values() if name == server)
    result["bench client"] = stats.get(os.getpid(), (0, "", 0.0))[2]
    return result


def read_until(stream: IO[str] | None, pattern: str, timeout: float = 60) -> re.Match[str]:
    """Read a child's output until a line matches ``pattern`` (the emulator prints its keys)."""
    assert stream is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise SystemExit(f"did not see {pattern!r} in:\n{''.join(seen)[-2000:]}")


def start_emulator(procs: Processes, *, port: int, env: dict[str, str], extra: Sequence[str] = ()) -> str:
    """Start the emulator; returns the demo inference key it printed."""
    proc = procs.start(
        [PY, "manage.py", "openrouter_emulator", "--port", str(port), "--generation-delay", "0", *extra],
        # The emulator app is installed in development and test settings only, never production.
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    key = read_until(proc.stdout, r"demo inference key: (\S+)").group(1)
    _drain(proc)
    wait_for(f"http://127.0.0.1:{port}/api/v1/models")
    return key


def _drain(proc: subprocess.Popen[str]) -> None:
    """Keep reading a child's output so a full pipe never blocks it."""
    import threading

    def run() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Traceback" in line or "ERROR" in line or "Error" in line:
                sys.stderr.write(line)

    threading.Thread(target=run, daemon=True).start()


def start_gunicorn(
    procs: Processes,
    *,
    port: int,
    env: dict[str, str],
    workers: int,
    worker_class: str,
    threads: int,
) -> None:
    proc = procs.start(
        [
            GUNICORN,
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "-k",
            worker_class,
            "--threads",
            str(threads),
            "--backlog",
            "512",
            # Longer than any client's idle keep-alive: a connection closed by the server just as
            # the client reuses it resets a POST the app never saw.
            "--keep-alive",
            "75",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    _drain(proc)
    wait_for(f"http://127.0.0.1:{port}/health/")


def wait_for(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def prepare_database(env: dict[str, str], *, database: str, inference_key: str) -> str:
    """A fresh database with one tenant using ``inference_key``; returns their API token."""
    import psycopg

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
        raise SystemExit(f"not a plain database name: {database!r}")
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return add_tenant(env, username="bench", inference_key=inference_key)


def add_tenant(
    env: dict[str, str], *, username: str, inference_key: str, monthly_budget_sek: str | None = None
) -> str:
    """A tenant on ``inference_key`` (with a blocking monthly budget, when given); their API token."""
    script = (
        "import sys;from decimal import Decimal;"
        "from apps.accounts.models import User;"
        "from apps.accounts.services import api_token_create;"
        "from apps.integrations.models import AISettings, Budget;"
        "key, username, budget = sys.argv[-3:];"
        "u=User.objects.create(username=username);"
        "AISettings.objects.create(user=u, openrouter_api_key=key, api_key_last4='bnch');"
        "budget and Budget.objects.create(user=u, monthly_limit_sek=Decimal(budget), policy='block');"
        "print(api_token_create(user=u, name='bench').plaintext)"
    )
    out = subprocess.run(
        [
            PY,
            "-c",
            f"import django;django.setup();{script}",
            inference_key,
            username,
            monthly_budget_sek or "",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def timed(call: Callable[[], None], n: int, concurrency: int) -> list[float]:
    """Wall time in ms of ``n`` calls, ``concurrency`` at a time."""

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


# ------------------------------------------------------------------------------ LiteLLM peer


def litellm_install() -> Path:
    """``bench/.venv-litellm`` with ``litellm[proxy]``, created on first use (never the project's)."""
    binary = LITELLM_VENV / "bin" / "litellm"
    if binary.exists():
        return binary
    print("installing litellm[proxy] into bench/.venv-litellm (first use only)…", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
    subprocess.run(
        [str(LITELLM_VENV / "bin" / "pip"), "install", "--quiet", "litellm[proxy]"],
        check=True,
    )
    if not binary.exists():
        raise SystemExit("litellm[proxy] installed without its `litellm` command")
    return binary


def start_litellm(
    procs: Processes, *, port: int, emulator_port: int, inference_key: str, workers: int
) -> None:
    """The LiteLLM proxy, no database, one master key, pointed at the same emulator."""
    binary = litellm_install()
    run_dir = BENCH / ".venv-litellm" / "run"
    run_dir.mkdir(exist_ok=True)
    config = run_dir / "config.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"  # LiteLLM's generic OpenAI-compatible provider
        f"      api_base: http://127.0.0.1:{emulator_port}/api/v1\n"
        f"      api_key: {inference_key}\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_MASTER_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )
    # A clean environment: no DATABASE_URL (LiteLLM would use it), no fetch of its price list.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(run_dir),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_LOG": "ERROR",
    }
    proc = procs.start(
        [
            str(binary),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            str(workers),
            # Under gunicorn: uvicorn's own supervisor kills workers whose import outlasts its
            # 5 s health check, which LiteLLM's does on a busy 2-core machine.
            "--run_gunicorn",
        ],
        env=env,
        cwd=run_dir,
    )
    _drain(proc)
    wait_for(f"http://127.0.0.1:{port}/health/liveliness", timeout=180)
