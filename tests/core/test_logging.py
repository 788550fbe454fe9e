"""Secrets never reach a log line: a refused ?api_key=… in the access log is masked (item 12)."""

from __future__ import annotations

import logging

import pytest

from apps.core.logging import RedactSecretsFilter, redact


@pytest.mark.parametrize(
    "line",
    [
        '"GET /api/v1/models?api_key=orp_abcdefghijklmnop HTTP/1.1" 401 58',
        '"GET /api/usage/logs/?page=2&token=s3cr3t-value HTTP/1.1" 401 58',
        '"GET /api/usage/logs/?access_token=s3cr3t-value HTTP/1.1" 401 58',
        '"GET /api/v1/models?key=sk-or-v1-0123456789abcdef HTTP/1.1" 401 58',
    ],
)
def test_item12_access_log_lines_mask_credentials_in_the_query(line: str) -> None:
    logger = logging.getLogger("django.server")
    handlers = [h for h in logger.handlers if not type(h).__module__.startswith(("_pytest", "tests."))]
    assert handlers
    assert all(any(isinstance(f, RedactSecretsFilter) for f in h.filters) for h in handlers)
    record = logger.makeRecord("django.server", logging.INFO, __file__, 1, "%s", (line,), None)
    for handler in handlers:
        assert handler.filter(record)
        written = handler.format(record)
        assert "s3cr3t" not in written
        assert "abcdefghijklmnop" not in written
        assert "0123456789abcdef" not in written
        assert "[redacted]" in written


def test_redact_keeps_harmless_parameters() -> None:
    assert redact("GET /api/usage/logs/?monkey=banana&page=2") == "GET /api/usage/logs/?monkey=banana&page=2"


def test_item12_gunicorn_access_log_leaves_out_the_query_string() -> None:
    import runpy
    from pathlib import Path

    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert "%(U)s" in conf["access_log_format"]
    assert "%(r)s" not in conf["access_log_format"]
    assert "%(q)s" not in conf["access_log_format"]
