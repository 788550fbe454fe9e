"""A logging filter that masks anything shaped like an OpenRouter key before it is written."""

from __future__ import annotations

import logging
import re

_KEY_PATTERN = re.compile(r"sk-or-(?:v1-)?[A-Za-z0-9_-]{8,}")
_BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def redact(text: str) -> str:
    text = _KEY_PATTERN.sub("sk-or-…[redacted]", text)
    return _BEARER_PATTERN.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
