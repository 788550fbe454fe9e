"""The emulator server's ``--latency-ms``: chat completions wait, other endpoints do not."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.emulator import server


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [environ["PATH_INFO"].encode()]


def test_only_chat_completions_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(server.time, "sleep", waits.append)
    app = server.with_latency(_app, 0.05)
    started: list[str] = []
    assert app({"PATH_INFO": "/api/v1/chat/completions"}, lambda status, headers: started.append(status)) == [
        b"/api/v1/chat/completions"
    ]
    assert app({"PATH_INFO": "/api/v1/models"}, lambda status, headers: started.append(status)) == [
        b"/api/v1/models"
    ]
    assert waits == [0.05]
    assert started == ["200 OK", "200 OK"]


def test_a_negative_latency_is_refused() -> None:
    with pytest.raises(CommandError, match="cannot be negative"):
        call_command("openrouter_emulator", "--latency-ms", "-1")
