"""An ``httpx`` transport that serves the emulator in-process (no sockets, no threads)."""

from __future__ import annotations

from typing import Any

import httpx

from .app import IN_PROCESS, App, SimulatedReadTimeout, StartResponse


class EmulatorTransport(httpx.WSGITransport):
    """``WSGITransport`` plus the read-timeout fault.

    The request reaches the emulator and is processed in full (so it is recorded and, on chat,
    billed), then the caller gets ``httpx.ReadTimeout`` instead of the answer, exactly what a
    client sees when a real server is too slow.
    """

    def __init__(self, app: App) -> None:
        super().__init__(app=_mark_in_process(app))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except SimulatedReadTimeout:
            raise httpx.ReadTimeout("timed out (emulated read timeout)", request=request) from None


def _mark_in_process(app: App) -> Any:
    def in_process_app(environ: dict[str, Any], start_response: StartResponse) -> Any:
        environ[IN_PROCESS] = True
        return app(environ, start_response)

    return in_process_app
