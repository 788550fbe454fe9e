"""The canary sweep over the whole suite: key material never leaves the server.

Rule: an OpenRouter key (API or management) never appears in any response, page, admin screen, log
line, error report, task argument, stored row or e-mail. Tests use the canary keys below; this pytest
plugin watches every channel while every test runs and fails the test (at teardown) in which any
12+ character piece of a canary showed up, naming the channel. Leaks outside a test (session
fixtures) fail the session at its end.

Channels watched, session-wide:
- logs: every logger at DEBUG, each record's message, arguments, exception and Django's error
  report of it (the technical 500 text with frame locals, as sent to admins);
- responses: status line headers and bodies (streamed ones chunk by chunk) of every request Django
  handles: test clients, the API client, schemathesis' WSGI calls, live servers;
- rows: every saved model instance's stored fields (audit rows, ledger, snapshots...); encrypted
  columns are checked as ciphertext, as they are stored;
- task arguments: every Celery task sent (``apply_async``/``delay``);
- e-mails: every message sent through Django's mail backends.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

# Letters that never occur in the emulator's hex keys, so a hit can only be the canary.
CANARY_API = "sk-or-v1-KanarieApiQxZ" + "Wk7Pm" * 8 + "Yq2"
CANARY_MANAGEMENT = "sk-or-v1-KanarieMgmtJvR" + "Hs4Ln" * 8 + "Tb6"
CANARIES = (CANARY_API, CANARY_MANAGEMENT)
PIECE = 12


def pieces(secret: str, size: int = PIECE) -> set[str]:
    """Every ``size``-character substring (any longer leak contains one of them)."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


PIECES = frozenset().union(*(pieces(c) for c in CANARIES))
_PATTERN = re.compile("|".join(re.escape(p) for p in sorted(PIECES)))


def found_in(text: str) -> list[str]:
    return sorted({m.group(0) for m in _PATTERN.finditer(text)})


def assert_no_canary(text: str, where: str) -> None:
    found = found_in(text)
    assert not found, f"key material in {where}: {found[:3]}"


@dataclass
class Sweep:
    """What the sweep saw: leaks (channel, excerpt) not yet reported, and how much it checked."""

    leaks: list[tuple[str, str]] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    def check(self, channel: str, text: str) -> None:
        self.checked[channel] = self.checked.get(channel, 0) + 1
        found = found_in(text)
        if found:
            self.leaks.append((channel, found[0]))

    def take(self) -> list[tuple[str, str]]:
        leaks, self.leaks = self.leaks, []
        return leaks


SWEEP = Sweep()


class _LogHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.rendering = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self.rendering, "active", False):
            return  # records logged while rendering an error report (template lookups) are ours
        self.rendering.active = True
        try:
            parts = [str(record.msg), repr(record.args)]
            if record.exc_info and record.exc_info[1] is not None:
                parts.append(logging.Formatter().formatException(record.exc_info))
                if record.levelno >= logging.ERROR:
                    parts.append(_error_report(record))
            SWEEP.check(f"log {record.name}", "\n".join(parts))
        except Exception:  # the sweep never breaks the code it watches
            SWEEP.leaks.append((f"log {record.name}", "record could not be rendered"))
        finally:
            self.rendering.active = False


def _error_report(record: logging.LogRecord) -> str:
    """The error report Django can send for this record: text, and HTML with frame locals (filtered
    by Django's sensitive-variable rules, as they would be)."""
    from django.views.debug import ExceptionReporter

    exc_type, exc_value, tb = record.exc_info  # type: ignore[misc]
    reporter = ExceptionReporter(getattr(record, "request", None), exc_type, exc_value, tb)
    return f"{reporter.get_traceback_text()}\n{reporter.get_traceback_html()}"


_HANDLER = _LogHandler()


def _watch_logs() -> None:
    """Every logger at DEBUG into the sweep; loggers that do not propagate get the handler too."""
    root = logging.getLogger()
    if _HANDLER not in root.handlers:
        root.addHandler(_HANDLER)
    root.setLevel(logging.DEBUG)
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        if logger.level > logging.DEBUG:
            logger.setLevel(logging.DEBUG)
        if not logger.propagate and _HANDLER not in logger.handlers:
            logger.addHandler(_HANDLER)
    # Handlers configured above DEBUG still filter what they write; the sweep sees everything.


def _streamed(chunks: Iterable[bytes], channel: str) -> Iterator[bytes]:
    tail = b""
    for chunk in chunks:
        text = tail + (chunk if isinstance(chunk, bytes) else str(chunk).encode())
        SWEEP.check(channel, text.decode(errors="replace"))
        tail = text[-(PIECE * 4) :]  # a piece split across chunks is still found
        yield chunk


def _check_response(response: Any, request: Any) -> Any:
    channel = f"response {getattr(request, 'method', '')} {getattr(request, 'path', '')}"
    SWEEP.check(channel, "\n".join(f"{k}: {v}" for k, v in response.items()))
    if getattr(response, "streaming", False):
        response.streaming_content = _streamed(response.streaming_content, channel)
    else:
        SWEEP.check(channel, response.content.decode(errors="replace"))
    return response


def _wrap_handler() -> list[Callable[[], None]]:
    from django.core.handlers.base import BaseHandler

    sync_original = BaseHandler.get_response
    async_original = BaseHandler.get_response_async

    def get_response(self: Any, request: Any) -> Any:
        return _check_response(sync_original(self, request), request)

    async def get_response_async(self: Any, request: Any) -> Any:
        response = await async_original(self, request)
        if getattr(response, "is_async", False):
            return response  # async streams are consumed by the server; their rows and logs are checked
        return _check_response(response, request)

    BaseHandler.get_response = get_response  # type: ignore[method-assign]
    BaseHandler.get_response_async = get_response_async  # type: ignore[method-assign]

    def undo() -> None:
        BaseHandler.get_response = sync_original  # type: ignore[method-assign]
        BaseHandler.get_response_async = async_original  # type: ignore[method-assign]

    return [undo]


def _on_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    from apps.core.fields import EncryptedTextField

    # Encrypted columns are stored as ciphertext (what the instance holds in memory is plaintext).
    values = (
        repr(getattr(instance, f.attname, None))
        for f in sender._meta.concrete_fields
        if not isinstance(f, EncryptedTextField)
    )
    SWEEP.check(f"row {sender._meta.label}", "\n".join(values))


def _wrap_tasks() -> list[Callable[[], None]]:
    from celery.app.task import Task

    original = Task.apply_async

    def apply_async(self: Any, args: Any = None, kwargs: Any = None, *rest: Any, **options: Any) -> Any:
        SWEEP.check(f"task {self.name}", f"{args!r} {kwargs!r}")
        return original(self, args, kwargs, *rest, **options)

    Task.apply_async = apply_async  # type: ignore[method-assign]

    def undo() -> None:
        Task.apply_async = original  # type: ignore[method-assign]

    return [undo]


def _wrap_mail() -> list[Callable[[], None]]:
    from django.core.mail.backends.base import BaseEmailBackend
    from django.core.mail.backends.locmem import EmailBackend

    undo = []
    for backend in {EmailBackend, *BaseEmailBackend.__subclasses__()}:
        original = backend.send_messages

        def send_messages(self: Any, messages: Any, _original: Any = original) -> Any:
            for message in messages:
                SWEEP.check("e-mail", message.message().as_string())
            return _original(self, messages)

        backend.send_messages = send_messages  # type: ignore[method-assign]
        undo.append(lambda b=backend, o=original: setattr(b, "send_messages", o))
    return undo


_UNDO: list[Callable[[], None]] = []


@pytest.fixture(scope="session", autouse=True)
def _canary_sweep_installed() -> Iterator[Sweep]:
    from django.db.models.signals import post_save

    _watch_logs()
    _UNDO.extend(_wrap_handler() + _wrap_tasks() + _wrap_mail())
    post_save.connect(_on_save, dispatch_uid="canary-sweep")
    yield SWEEP
    post_save.disconnect(dispatch_uid="canary-sweep")
    while _UNDO:
        _UNDO.pop()()


@pytest.fixture(autouse=True)
def _canary_sweep(_canary_sweep_installed: Sweep) -> Iterator[Sweep]:
    """Fails the test in which key material left the server, naming the channel."""
    _watch_logs()  # loggers created since the last test
    _canary_sweep_installed.take()  # anything before this test is reported by the session hook
    yield _canary_sweep_installed
    leaks = _canary_sweep_installed.take()
    if leaks:
        listed = "; ".join(f"{channel}: {piece!r}" for channel, piece in leaks[:5])
        pytest.fail(f"canary key material left the server ({len(leaks)}x): {listed}", pytrace=False)


@pytest.fixture
def canary_sweep(_canary_sweep: Sweep) -> Sweep:
    """The session's sweep, for tests that prove it catches a leak (they take() what they caused)."""
    return _canary_sweep


def pytest_terminal_summary(terminalreporter: Any) -> None:
    by_channel: dict[str, int] = {}
    for channel, count in SWEEP.checked.items():
        kind = channel.split(" ", 1)[0]
        by_channel[kind] = by_channel.get(kind, 0) + count
    if by_channel:
        figures = ", ".join(f"{count} {kind}" for kind, count in sorted(by_channel.items()))
        terminalreporter.write_line(f"canary sweep: checked {figures}; 12+ character pieces: {len(PIECES)}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    leaks = SWEEP.take()
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        listed = "; ".join(f"{channel}: {piece!r}" for channel, piece in leaks[:5])
        print(f"\ncanary key material left the server outside any test ({len(leaks)}x): {listed}")
