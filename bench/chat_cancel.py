"""Chat cancel end to end: a browser-like client closes the chat's event stream mid-answer and
the gateway must close upstream and end the ledger row ``cancelled`` under gunicorn (gthread).

Usage:  .venv/bin/python bench/chat_cancel.py [--app-port 18010] [--emulator-port 18791] [--delay 0.5]

Starts the emulator (slow_trickle fault: one chunk every ``--delay`` s) and gunicorn on loopback,
with a throwaway SQLite database; logs in, sends one chat message, reads three events, hangs up,
then prints how long the server took to cancel upstream and the ledger row's status. Stops
everything it started. Only 127.0.0.1 is contacted; it sends one chat message; each wait is bounded (startup 90 s, cancel 30 s).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PASSWORD = "bench-cancel-pass-1"


def _wait(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app-port", type=int, default=18010)
    parser.add_argument("--emulator-port", type=int, default=18791)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    emu_url = f"http://127.0.0.1:{args.emulator_port}"
    app_url = f"http://127.0.0.1:{args.app_port}"
    workdir = tempfile.mkdtemp(prefix="chat-cancel-")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir}/db.sqlite3",
        "OPENROUTER_BASE_URL": f"{emu_url}/api/v1",
        "SYSTEM_AI_BASE_URL": f"{emu_url}/api/v1",
    }
    started: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        emu_log = open(Path(workdir) / "emulator.log", "w")  # noqa: SIM115 - closed with the process
        started.append(
            subprocess.Popen(
                [PY, "manage.py", "openrouter_emulator", "--port", str(args.emulator_port)],
                cwd=ROOT,
                env=env,
                stdout=emu_log,
                stderr=subprocess.STDOUT,
            )
        )
        _wait(f"{emu_url}/api/v1/models")
        key = re.search(r"demo inference key: (\S+)", (Path(workdir) / "emulator.log").read_text())
        assert key, "the emulator did not print its demo key"
        setup = (
            "from apps.accounts.models import User\n"
            "from apps.integrations.services import ai_settings_update\n"
            f"u = User.objects.create_user('bench-cancel', password={PASSWORD!r})\n"
            f"ai_settings_update(user=u, actor=u, api_key={key.group(1)!r}, verify=False)\n"
        )
        subprocess.run(
            [PY, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True
        )
        started.append(
            subprocess.Popen(
                [
                    GUNICORN,
                    "config.wsgi:application",
                    "-b",
                    f"127.0.0.1:{args.app_port}",
                    "-w",
                    "1",
                    "-k",
                    "gthread",
                    "--threads",
                    "2",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        _wait(f"{app_url}/health/")
        httpx.post(
            f"{emu_url}/_emulator/faults", json={"kind": "slow_trickle", "delay": args.delay}
        ).raise_for_status()

        client = httpx.Client(base_url=app_url, timeout=30)
        token = _csrf(client.get("/accounts/login/").text)
        client.post(
            "/accounts/login/",
            data={"username": "bench-cancel", "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        token = _csrf(client.get("/dashboard/ai/chat/").text)
        began = time.monotonic()
        events = 0
        with client.stream(
            "POST",
            "/dashboard/ai/chat/send/",
            data={"message": "Tell me a long story", "csrfmiddlewaretoken": token},
        ) as response:
            for line in response.iter_lines():
                events += line.startswith("data: ")
                if events == 3:
                    break
        hung_up = time.monotonic() - began
        client.close()
        cancelled_at = None
        while time.monotonic() - began < 30:
            generations = httpx.get(f"{emu_url}/_emulator/ledger").json()["generations"]
            if generations and generations[-1]["cancelled"]:
                cancelled_at = time.monotonic() - began
                break
            time.sleep(0.1)
        row = (
            subprocess.run(
                [
                    PY,
                    "manage.py",
                    "shell",
                    "-c",
                    "from apps.usage.models import AIUsageLog as L; r = L.objects.get(); print(r.status, r.error_code)",
                ],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        print(f"hung up after {hung_up:.2f} s (3 events); chunk every {args.delay} s")
        if cancelled_at is None:
            print("upstream NOT cancelled within 30 s")
        else:
            print(f"upstream cancelled {cancelled_at - hung_up:.2f} s after the hang-up")
        print(f"ledger row: {row}")
        return 0 if cancelled_at is not None and row.startswith("cancelled") else 1
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
