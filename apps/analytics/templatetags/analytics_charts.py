"""Chart series (parallel lists) as rows, for the tables that stand in for charts."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def series_rows(series: dict[str, Any]) -> list[dict[str, Any]]:
    labels = series.get("labels", [])
    return [
        {"label": label, "sek": series["sek"][i], "usd": series["usd"][i], "share": series["share"][i]}
        for i, label in enumerate(labels)
    ]
