"""The emulator on a real loopback socket: streaming, disconnects, timeouts, concurrency, control."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from apps.emulator import DEMO, Emulator
from apps.emulator.server import serve_in_thread

from .test_emulator_helpers import chat_body, client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live() -> Iterator[tuple[Emulator, str]]:
    emulator = Emulator(control_endpoints=True, read_timeout_sleep=1.0)
    server, base_url = serve_in_thread(emulator)
    yield emulator, base_url
    server.shutdown()
    server.server_close()


def _wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_stream_chunks_arrive_as_they_are_produced(live: tuple[Emulator, str]) -> None:
    emulator, base_url = live
    key = emulator.add_key(emulator.add_account())
    emulator.inject("slow_trickle", delay=0.1)
    headers = {"Authorization": f"Bearer {key}"}
    started = time.monotonic()
    arrivals = []

    with httpx.stream(
        "POST", f"{base_url}/chat/completions", json=chat_body(stream=True), headers=headers
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic() - started)

    assert len(arrivals) == 10
    # Ten chunks 0.1 s apart: unbuffered, they spread over about 0.9 s however loaded the machine is;
    # buffered until the end, they would arrive together.
    assert arrivals[-1] - arrivals[0] >= 0.5


def test_disconnect_over_a_socket_records_a_cancelled_generation(live: tuple[Emulator, str]) -> None:
    emulator, base_url = live
    key = emulator.add_key(emulator.add_account())
    emulator.inject("slow_trickle", delay=0.05)
    headers = {"Authorization": f"Bearer {key}"}

    with httpx.stream(
        "POST", f"{base_url}/chat/completions", json=chat_body(stream=True), headers=headers
    ) as r:
        lines = r.iter_lines()
        while not next(lines).startswith("data: "):
            pass

    assert _wait_for(lambda: len(emulator.generations) == 1)
    assert emulator.generations[0].cancelled is True
    assert emulator.generations[0].completion_tokens < 9


def test_read_timeout_over_a_socket(live: tuple[Emulator, str]) -> None:
    emulator, base_url = live
    key = emulator.add_key(emulator.add_account())
    emulator.inject("read_timeout")

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{base_url}/chat/completions",
            json=chat_body(),
            headers={"Authorization": f"Bearer {key}"},
            timeout=httpx.Timeout(0.3),
        )

    assert len(emulator.generations) == 1  # processed and billed before the stall


def test_fifty_concurrent_calls_over_sockets(live: tuple[Emulator, str]) -> None:
    emulator, base_url = live
    account = emulator.add_account(credits=Decimal(100))
    key = emulator.add_key(account)

    def call(index: int) -> int:
        body = chat_body(f"Question number {index}", stream=index % 2 == 0)
        return httpx.post(
            f"{base_url}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30.0,  # fifty threads on a busy machine: slow is fine, a lost answer is not
        ).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(call, range(50)))

    assert statuses == [200] * 50
    assert len(emulator.generations) == 50
    registered = emulator.key(key)
    assert registered is not None
    assert account.usage == sum(g.cost for g in emulator.generations) == registered.usage


def test_fifty_concurrent_calls_in_process() -> None:
    emulator = Emulator()
    account = emulator.add_account(credits=Decimal(100))
    key = emulator.add_key(account)

    def call(index: int) -> int:
        with client(emulator, key) as api:
            return api.post("/chat/completions", json=chat_body(f"Question {index}")).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(call, range(50)))

    assert statuses == [200] * 50
    assert len({g.id for g in emulator.generations}) == 50
    assert account.usage == sum(g.cost for g in emulator.generations)


# --- control endpoints -----------------------------------------------------------------------------


def test_control_endpoints_script_faults_and_read_the_ledger(live: tuple[Emulator, str]) -> None:
    emulator, base_url = live
    origin = base_url.removesuffix("/api/v1")
    created = httpx.post(f"{origin}/_emulator/accounts", json={"credits": "5"}).json()
    key = created["keys"]["inference"]
    headers = {"Authorization": f"Bearer {key}"}

    added = httpx.post(
        f"{origin}/_emulator/faults",
        json={"kind": "status", "status": 503, "key_hash": emulator.key_hash(key)},
    )
    pending = httpx.get(f"{origin}/_emulator/faults").json()["faults"]
    failed = httpx.post(f"{base_url}/chat/completions", json=chat_body(), headers=headers)
    served = httpx.post(f"{base_url}/chat/completions", json=chat_body(), headers=headers)
    ledger = httpx.get(f"{origin}/_emulator/ledger").json()

    assert added.status_code == 201
    assert pending == [
        {
            "kind": "status",
            "times": 1,
            "path": "/chat/completions",
            "key_hash": emulator.key_hash(key),
            "status": 503,
        }
    ]
    assert (failed.status_code, served.status_code) == (503, 200)
    assert ledger["requests"] == 2
    assert [g["cost"] for g in ledger["generations"]] == ["0.0000072"]
    assert ledger["total_cost"] == "0.0000072"
    assert ledger["generations"][0]["id"] == served.json()["id"]

    reset = httpx.post(f"{origin}/_emulator/reset")

    assert reset.json() == {"ok": True}
    assert httpx.get(f"{origin}/_emulator/ledger").json() == {
        "requests": 0,
        "generations": [],
        "total_cost": "0",
    }


def test_control_lists_requests_by_key_and_moves_the_clock_a_day(live: tuple[Emulator, str]) -> None:
    emulator, base_url = live
    origin = base_url.removesuffix("/api/v1")
    keys = httpx.post(f"{origin}/_emulator/accounts", json={}).json()["keys"]
    headers = {"Authorization": f"Bearer {keys['inference']}"}
    httpx.post(f"{base_url}/chat/completions", json=chat_body(stream=True), headers=headers)
    today = emulator.core.now().date()

    requests = httpx.get(f"{origin}/_emulator/requests").json()["requests"]
    moved = httpx.post(f"{origin}/_emulator/clock", json={"offset_seconds": 86400})
    activity = httpx.get(
        f"{base_url}/activity",
        params={"date": today.isoformat()},
        headers={"Authorization": f"Bearer {keys['management']}"},
    )
    back = httpx.post(f"{origin}/_emulator/clock", json={"offset_seconds": 0})

    assert [(r["method"], r["path"], r["key_hash"], r["model"], r["stream"]) for r in requests] == [
        ("POST", "/chat/completions", emulator.key_hash(keys["inference"]), chat_body()["model"], True)
    ]
    assert moved.status_code == 200
    assert moved.json()["now"].startswith((today + timedelta(days=1)).isoformat())
    # Today became a completed day: its one generation is in /activity.
    assert [row["requests"] for row in activity.json()["data"]] == [1]
    assert back.json()["offset_seconds"] == 0
    assert emulator.core.now().date() == today
    for body in ({}, {"offset_seconds": "1"}, {"offset_seconds": True}, {"offset_seconds": 10**9}):
        assert httpx.post(f"{origin}/_emulator/clock", json=body).status_code == 400, body


def test_control_endpoint_refuses_bad_faults(live: tuple[Emulator, str]) -> None:
    _, base_url = live
    origin = base_url.removesuffix("/api/v1")

    for body in (
        {"kind": "nope"},
        {"kind": "status", "status": 418},
        {"times": 1},
        {"kind": "html", "times": 0},
    ):
        response = httpx.post(f"{origin}/_emulator/faults", json=body)
        assert response.status_code == 400, body


# --- the management command ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_management_command_serves_the_demo_tenant_without_a_database() -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    command = [
        sys.executable,
        "manage.py",
        "openrouter_emulator",
        "--port",
        str(port),
        "--generation-delay",
        "0",
    ]
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        base_url = f"http://127.0.0.1:{port}/api/v1"
        key = httpx.get(f"{base_url}/key", headers={"Authorization": f"Bearer {DEMO.inference_key}"})
        ledger = httpx.get(f"http://127.0.0.1:{port}/_emulator/ledger")
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert f"OpenRouter emulator on {base_url}" in banner[0]
    assert any(DEMO.management_key in line for line in banner)
    assert key.status_code == 200
    assert key.json()["data"]["creator_user_id"] == DEMO.user_id
    assert ledger.json()["requests"] == 1


def test_the_emulator_runs_without_importing_the_client() -> None:
    import subprocess
    import sys

    code = "import sys; import apps.emulator;print('apps.integrations.openrouter.client' in sys.modules)"
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed script)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
