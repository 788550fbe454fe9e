"""A logging filter that masks secrets before they are written: anything shaped like an OpenRouter
key, a bearer token, and the value of a credential-named query parameter (``?api_key=…``, which
the API refuses but the access log would otherwise keep in plain text)."""

from __future__ import annotations

import logging
import re

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
