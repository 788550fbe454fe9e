"""Minimal WSGI request/response types; the emulator needs no framework."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from . import jsonfmt

API_PREFIX = "/api/v1"
Body = bytes | Iterable[bytes]
JSON_TYPE = "application/json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    environ: dict[str, Any] = field(repr=False)

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=str(environ.get("PATH_INFO", "")) or "/",
            query=dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)),
            headers=_headers(environ),
            raw_body=_read_body(environ),
            environ=environ,
        )

    @property
    def api_path(self) -> str | None:
        """The path below ``/api/v1`` (``/chat/completions``), or ``None`` outside the API."""
        if self.path == API_PREFIX or self.path.startswith(API_PREFIX + "/"):
            return self.path[len(API_PREFIX) :] or "/"
        return None

    @property
    def bearer(self) -> str | None:
        """The token from ``Authorization: Bearer …``; ``""`` when the header has another form."""
        header = self.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def json(self) -> Any:
        """The parsed body; ``None`` when there is none. Raises ``ValueError`` on malformed JSON."""
        if not self.raw_body.strip():
            return None
        return json.loads(self.raw_body)

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {}
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            headers[name[5:].replace("_", "-").lower()] = str(value)
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers[name.replace("_", "-").lower()] = str(environ[name])
    return headers


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    return stream.read(length) if stream is not None and length > 0 else b""


@dataclass
class Response:
    status: int
    body: Body = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Set when the answer must not arrive in time (the read-timeout fault): the app processes the
    # request in full, then stalls instead of answering.
    stall: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
        return cls(status, jsonfmt.dumps_bytes(payload), [("Content-Type", JSON_TYPE), *(headers or [])])

    @classmethod
    def html(cls, status: int, page: str) -> Response:
        return cls(status, page.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")])

    @property
    def status_line(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Error"
        return f"{self.status} {phrase}"

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def iter_body(self) -> Iterator[bytes]:
        if isinstance(self.body, bytes):
            yield self.body
        else:
            yield from self.body


NOT_FOUND_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>404: This page could not be found</title></head>
<body><h1>404</h1><h2>This page could not be found.</h2></body></html>
"""
