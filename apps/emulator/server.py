"""Serve the emulator on a loopback port with a threaded stdlib server.

``wsgiref`` writes straight to the socket (its handler's write buffer is off), so SSE chunks leave
as soon as the stream generator yields them; a thread per request lets slow streams and 50
concurrent callers run side by side.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .emulator import Emulator


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hung client must not keep the process alive on shutdown
    allow_reuse_address = True
    request_queue_size = 256  # load tests open many connections at once


class QuietHandler(WSGIRequestHandler):
    """Logs one line per request only when asked to (the default request log is noisy)."""

    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)


def make_emulator_server(emulator: Emulator, host: str, port: int, *, verbose: bool = False) -> WSGIServer:
    handler = type("Handler", (QuietHandler,), {"verbose": verbose})
    return make_server(host, port, emulator.wsgi_app, server_class=ThreadingWSGIServer, handler_class=handler)


def serve_in_thread(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> tuple[WSGIServer, str]:
    """Start a server on a background thread; returns it and its base URL (``…/api/v1``).

    For live tests: call ``server.shutdown()`` and ``server.server_close()`` when done.
    """
    server = make_emulator_server(emulator, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="openrouter-emulator", daemon=True
    )
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{bound_host!s}:{bound_port}/api/v1"
