"""A structured result's long values (pre-line) start on the label's line, without a blank line.

Found by the browser journey: "Sammanfattning" and "Föreslaget nästa steg" showed an empty first
line, because the template's own line breaks sat inside the pre-line ``dd``.
"""

from __future__ import annotations

import re
from typing import Any


def test_every_result_value_is_the_dds_whole_text(page_a: Any, configured_a: Any, emulator: Any) -> None:
    html = page_a.post(
        "/dashboard/ai/lead-enrichment/", {"company": "Klippoteket AB"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    cells = re.findall(r"<dd data-field=\"(\w+)\"( class=\"prose\")?>(.*?)</dd>", html, re.S)
    assert [key for key, _prose, _text in cells] == ["company", "industry", "size", "summary", "next_step"]
    assert [key for key, prose, _text in cells if prose] == ["summary", "next_step"]
    for key, _prose, text in cells:
        assert text, key
        assert text == text.strip(), key


def test_a_ratio_reads_as_a_percent_with_nothing_around_it(
    page_a: Any, configured_a: Any, emulator: Any
) -> None:
    html = page_a.post(
        "/dashboard/ai/sms-classification/",
        {"text": "Jag vill avboka (cancellation)"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert '<dd data-field="confidence">50,0\u00a0%</dd>' in html
