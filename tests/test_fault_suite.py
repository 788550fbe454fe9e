"""The live fault suite (bench/faults.py) as a test: every fault of the reliability list injected
into the running app (gunicorn, the emulator on loopback, a Celery worker), on the database this
test run uses (a throwaway SQLite file, or a throwaway PostgreSQL database beside the test one),
with the ledger invariant checked after each fault and nothing surviving the run."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.live


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_args() -> list[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return ["--database", "sqlite"]
    parts = urlsplit(url)
    name = re.sub(r"[^a-z0-9_]", "_", (parts.path.lstrip("/") or "postgres").lower())
    return [
        "--database",
        "postgres",
        "--pg-server",
        f"{parts.scheme}://{parts.netloc}",
        # Its own database beside the test run's, dropped and created by the suite.
        "--pg-database",
        f"{name}_faults_{os.getpid()}",
    ]


def test_every_fault_is_injected_into_the_running_app_and_survived() -> None:
    command = [
        sys.executable,
        str(ROOT / "bench" / "faults.py"),
        "--app-port",
        str(_free_port()),
        "--emulator-port",
        str(_free_port()),
        *_database_args(),
    ]
    result = subprocess.run(  # noqa: S603 - our own interpreter on our own script
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    summary = re.search(r"^(\d+) injected, (\d+) survived$", result.stdout, re.MULTILINE)
    assert summary, output[-6000:]
    injected, survived = int(summary.group(1)), int(summary.group(2))
    failed = [line for line in result.stdout.splitlines() if line.lstrip().startswith("FAIL")]
    assert (injected, survived, failed) == (injected, injected, []), output[-6000:]
    assert injected >= 40  # every fault of the list (bench/faults.py prints each one)
    assert result.returncode == 0, output[-6000:]
    for expected in ("gunicorn worker SIGKILLed mid-call", "client disconnects mid-stream", "fallback"):
        assert expected in result.stdout
