"""The WSGI application: records every request, applies scripted faults, routes to the handlers."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import errors, faults
from .chat import handle_chat
from .control import handle_control
from .core import Core
from .faults import Fault
from .history_api import handle_activity, handle_generation
from .ids import key_hash
from .keys_api import handle_credits, handle_key, handle_keys
from .models_api import handle_models, models_not_found
from .state import RecordedRequest
from .wsgi import NOT_FOUND_PAGE, Request, Response

if TYPE_CHECKING:
    from .emulator import Emulator

IN_PROCESS = "openrouter_emulator.in_process"
CONTROL_PREFIX = "/_emulator/"
StartResponse = Callable[..., Any]
Handler = Callable[[Core, Request], Response]


class SimulatedReadTimeout(Exception):
    """Raised in-process instead of stalling; the transport turns it into ``httpx.ReadTimeout``."""


_ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/chat/completions"): handle_chat,
    ("GET", "/credits"): handle_credits,
    ("GET", "/key"): handle_key,
    ("GET", "/auth/key"): handle_key,  # the legacy path serves the same body
    ("GET", "/activity"): handle_activity,
    ("GET", "/generation"): handle_generation,
    ("GET", "/keys"): lambda core, request: handle_keys(core, request, None),
    ("POST", "/keys"): lambda core, request: handle_keys(core, request, None),
}
_KEY_METHODS = {"GET", "PATCH", "DELETE"}


class App:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.core = emulator.core

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        response = self._respond_safely(request)
        if response.stall:
            response = self._stall(response, in_process=bool(environ.get(IN_PROCESS)))
        headers = list(response.headers)
        if isinstance(response.body, bytes):
            headers.append(("Content-Length", str(len(response.body))))
        start_response(response.status_line, headers)
        return [response.body] if isinstance(response.body, bytes) else response.body

    def _respond_safely(self, request: Request) -> Response:
        try:
            return self._respond(request)
        except Exception:  # a bug in the emulator must still produce an HTTP answer
            traceback.print_exc(file=request.environ.get("wsgi.errors") or sys.stderr)
            return errors.error_response(500, "Internal Server Error")

    def _respond(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX) and self.core.config.control_endpoints:
            return handle_control(self.emulator, request)
        self._record(request)
        api_path = request.api_path
        handler = self._route(request.method, api_path)
        if api_path is None or handler is None:
            return self._not_found(api_path)
        fault = (
            None if api_path == faults.CHAT_PATH else self.core.faults.take(api_path, self._key_hash(request))
        )
        if fault is None:
            return handler(self.core, request)
        return self._faulty(fault, lambda: handler(self.core, request))

    def _route(self, method: str, api_path: str | None) -> Handler | None:
        if api_path is None:
            return None
        if method == "GET" and api_path == "/models":
            return lambda core, request: handle_models(core.catalogue, request)
        if api_path.startswith("/keys/") and api_path.count("/") == 2 and method in _KEY_METHODS:
            key_part = api_path.removeprefix("/keys/")
            return lambda core, request: handle_keys(core, request, key_part)
        return _ROUTES.get((method, api_path))

    @staticmethod
    def _not_found(api_path: str | None) -> Response:
        if api_path is not None and api_path.startswith("/models/"):
            return models_not_found()
        return Response.html(404, NOT_FOUND_PAGE)

    @staticmethod
    def _faulty(fault: Fault, run: Callable[[], Response]) -> Response:
        """A fault on an endpoint other than chat: replace the answer, or run it and spoil it."""
        replacements: dict[str, Callable[[Fault], Response]] = {
            "rate_limit": faults.generic_error,
            "status": faults.generic_error,
            "html": faults.html_page,
            "non_json": faults.non_json,
            "error_200": lambda f: faults.error_200(f, None, None),
        }
        if fault.kind in replacements:
            return replacements[fault.kind](fault)
        response = run()
        if fault.kind == "slow_trickle":
            response.body = faults.trickle(response.body, float(fault.params.get("delay", 0.5)))
        elif fault.kind == "truncated":
            response.body = faults.truncate(response.body)
        response.stall = fault.kind == "read_timeout"
        return response

    def _stall(self, response: Response, *, in_process: bool) -> Response:
        """The request was processed (and billed); the answer does not arrive in time."""
        body = b"".join(response.iter_body())
        if in_process:
            raise SimulatedReadTimeout
        time.sleep(self.core.config.read_timeout_sleep)
        return Response(response.status, body, response.headers)

    @staticmethod
    def _key_hash(request: Request) -> str | None:
        token = request.bearer
        return key_hash(token) if token else None

    def _record(self, request: Request) -> None:
        recorded = RecordedRequest(
            method=request.method,
            path=request.api_path or request.path,
            query=dict(request.query),
            key_hash=self._key_hash(request),
            body=request.json_or_none(),
            # Never keep a plaintext key in the ledger.
            headers={k: v for k, v in request.headers.items() if k != "authorization"},
            received_at=self.core.now(),
        )
        with self.core.state.lock:
            self.core.state.requests.append(recorded)
