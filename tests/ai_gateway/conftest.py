from __future__ import annotations

from typing import Any


def chat_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path == "/chat/completions"]


HELLO = [{"role": "user", "content": "Hej! Har ni öppet på lördag?"}]
