from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from apps.core.templatetags import money
from apps.integrations.templatetags import integrations_format

NB = "\u00a0"
MONEY_FILTERS = ("usd", "sek", "tokens", "percent", "per_million")


def _render(source: str, **context: object) -> str:
    return Template("{% load money %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "sv",
            f"$0|$0,000031|$4{NB}033,50|-$1,50|—|0{NB}kr|0,021{NB}kr|4{NB}033,00{NB}kr|12{NB}345|12,5{NB}%|—",
        ),
        ("en", f"$0|$0.000031|$4,033.50|-$1.50|—|0{NB}kr|0.021{NB}kr|4,033.00{NB}kr|12,345|12.5%|—"),
    ],
)
def test_filters_follow_the_active_language(language: str, expected: str) -> None:
    source = (
        "{{ zero|usd }}|{{ tiny|usd }}|{{ big|usd }}|{{ negative|usd }}|{{ none|usd }}|"
        "{{ zero|sek }}|{{ small_sek|sek }}|{{ sek_big|sek }}|{{ count|tokens }}|{{ ratio|percent }}|"
        "{{ none|percent }}"
    )
    with translation.override(language):
        text = _render(
            source,
            zero=Decimal(0),
            tiny=Decimal("0.000031"),
            big=Decimal("4033.5"),
            negative=Decimal("-1.5"),
            none=None,
            small_sek=Decimal("0.02123"),
            sek_big=Decimal(4033),
            count=12345,
            ratio=Decimal("0.125"),
        )
    assert text == expected


def test_per_million_words_free_and_variable() -> None:
    with translation.override("en"):
        assert money.per_million(Decimal("0.00000015")) == "$0.15"
        assert money.per_million(Decimal(0)) == "Free"
        assert money.per_million(Decimal(-1)) == "Variable"
        assert money.per_million(None) == "—"
    with translation.override("sv"):
        assert money.per_million(Decimal("0.00000015")) == "$0,15"
        assert money.per_million(Decimal(0)) == "Gratis"


def _templates() -> list[Path]:
    roots = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR, "apps").glob("*/templates")]
    return sorted(p for root in roots for p in root.rglob("*.html"))


def test_money_filters_live_only_in_core() -> None:
    assert set(MONEY_FILTERS) <= set(money.register.filters)
    assert not set(MONEY_FILTERS) & set(integrations_format.register.filters)
    assert "thousands" not in integrations_format.register.filters


def test_every_template_using_a_number_filter_loads_core_money() -> None:
    used = re.compile(r"\|\s*(" + "|".join(MONEY_FILTERS) + r")\b")
    templates = _templates()
    assert templates
    offenders = []
    for path in templates:
        text = path.read_text()
        loads = {name for line in re.findall(r"{%\s*load ([^%]+)%}", text) for name in line.split()}
        if used.search(text) and "money" not in loads:
            offenders.append(str(path))
    assert offenders == []


def test_pages_with_charts_or_chat_load_the_js_formatter_first() -> None:
    pages = [p for p in _templates() if "js/charts.js" in p.read_text() or "js/chat.js" in p.read_text()]
    assert len(pages) >= 2
    for path in pages:
        text = path.read_text()
        user = min(i for i in (text.find("js/charts.js"), text.find("js/chat.js")) if i >= 0)
        assert 0 <= text.find("js/money.js") < user, path
