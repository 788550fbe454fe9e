"""The API's one JSON parser: hostile bodies become a 400 in the error shape, never a 500."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request body of this API is legitimately nested deeper than this (a tool's JSON Schema
# included); anything deeper is refused before any code walks it recursively.
MAX_DEPTH = 64


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as infinity: not a number any field accepts
        raise ValueError(text)
    return value


def _constant(text: str) -> Any:
    raise ValueError(text)  # NaN, Infinity and -Infinity are not JSON


def json_problem(data: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why ``data`` is refused, or None: nested deeper than ``limit``, or a NUL character in a
    text or key (PostgreSQL cannot store it, and no caller needs it). Walked without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return _("The body contains a NUL character.")
            continue
        if isinstance(value, Mapping):
            children: list[Any] = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return _("The JSON body is nested too deeply.")
        stack.extend((child, depth + 1) for child in children)
    return None


def parse_json_body(raw: bytes, encoding: str = "utf-8") -> Any:
    """``raw`` as JSON under :class:`SafeJSONParser`'s rules; ``ParseError`` with the reason."""
    try:
        data = json.loads(raw.decode(encoding), parse_float=_finite, parse_constant=_constant)
    except RecursionError:
        raise ParseError(_("The JSON body is nested too deeply.")) from None
    except (ValueError, LookupError):  # UnicodeDecodeError, JSONDecodeError; an unknown charset
        raise ParseError(_("The body is not valid JSON.")) from None
    problem = json_problem(data)
    if problem:
        raise ParseError(problem)
    return data


class SafeJSONParser(JSONParser):
    """JSON with no NaN/Infinity, no overflowing numbers, no NUL and at most ``MAX_DEPTH`` levels."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return parse_json_body(stream.read(), encoding)
