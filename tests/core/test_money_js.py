"""static/js/money.js (chart tooltips, the chat's cost line) must read exactly like the Python
formatter for the same value and language. Runs the module in Node; skipped where Node is absent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from apps.core import formatting

NODE = shutil.which("node")
MODULE = Path(settings.BASE_DIR) / "static" / "js" / "money.js"
HARNESS = """
const fs = require("fs");
global.window = {};
global.document = { documentElement: { lang: process.argv[2] } };
eval(fs.readFileSync(process.argv[1], "utf8"));
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(([fn, v]) => window.Money[fn](v))));
"""
VALUES = [
    None,
    "",
    "0",
    "0.000031",
    "0.000258000000",
    "-0.0000315",
    "0.00000885",
    "0.02123",
    "0.0999",
    "0.125",
    "0.15",
    "42.738215",
    "4033.5",
    "-1.5",
    "1234567.005",
]
PYTHON = {
    "usd": formatting.format_usd,
    "sek": formatting.format_sek,
    "tokens": formatting.format_tokens,
    "percent": formatting.format_percent,
}


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
@pytest.mark.parametrize("language", ["sv", "en", "sv-SE", "en-US"])
def test_js_formatter_mirrors_python(language: str) -> None:
    cases = [[name, value] for name in ("usd", "sek") for value in VALUES]
    cases += [["tokens", value] for value in (None, 0, 999, 12345, 1048576)]
    cases += [["percent", value] for value in (None, "0", "0.125", "12.3456", "-0.05")]
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [str(NODE), "-e", HARNESS, str(MODULE), language],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    expected = [PYTHON[name](value, language=language) for name, value in cases]
    assert json.loads(result.stdout) == expected
