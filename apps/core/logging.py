"""A logging filter that masks secrets before they are written: anything shaped like an OpenRouter
key, a bearer token, and the value of a credential-named query parameter (``?api_key=…``, which
the API refuses but the access log would otherwise keep in plain text)."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

_KEY_PATTERN = re.compile(r"sk-or-(?:v1-)?[A-Za-z0-9_-]{8,}")
_API_TOKEN_PATTERN = re.compile(r"orp_[A-Za-z0-9_-]{8,}")  # this app's own API tokens
_BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
# The query parameters the API refuses credentials in (apps.accounts.authentication), plus
# common spellings; matched in URLs and in urlencoded bodies alike.
_QUERY_SECRET_PATTERN = re.compile(
    r"(?i)((?:^|[?&;\s\"'])(?:token|api_key|apikey|api-key|access_token|key|password|secret)=)[^&\s\"';]+"
)


def redact(text: str) -> str:
    text = _KEY_PATTERN.sub("sk-or-…[redacted]", text)
    text = _API_TOKEN_PATTERN.sub("orp_…[redacted]", text)
    text = _QUERY_SECRET_PATTERN.sub(r"\1[redacted]", text)
    return _BEARER_PATTERN.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports (the DEBUG page, error e-mails) without keys or tokens.

    ``sensitive_post_parameters``/``sensitive_variables`` mark the key-saving views and services;
    this also cleanses any POST value or frame variable (in any frame, DRF's and the HTTP
    client's included) whose text holds something shaped like a key or token.
    """

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        params = super().get_post_parameters(request)
        if not params:
            return params
        params = params.copy()
        for name in list(params):
            text = str(params.getlist(name) if hasattr(params, "getlist") else params[name])
            if redact(text) != text:
                params[name] = self.cleansed_substitute
        return params

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            try:
                text = repr(value)
            except Exception:  # a broken __repr__ must not hide the report
                text = ""
            cleansed.append((name, self.cleansed_substitute if redact(text) != text else value))
        return cleansed
