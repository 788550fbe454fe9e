"""Structured results as labelled fields: labels and fixed values in the reader's language."""

from __future__ import annotations

from django.utils import translation

from apps.ai_gateway.presenters import ResultField, result_fields


def test_fields_keep_their_order_and_get_labels_in_swedish() -> None:
    with translation.override("sv"):
        fields = result_fields(
            {
                "sentiment": "negative",
                "topics": ["pris", "kö"],
                "summary": "Dyrt.",
                "suggested_reply": "Förlåt!",
            }
        )
    assert fields == [
        ResultField("sentiment", "Stämning", "negativ", "text"),
        ResultField("topics", "Ämnen", "pris, kö", "text"),
        ResultField("summary", "Sammanfattning", "Dyrt.", "long"),
        ResultField("suggested_reply", "Förslag på svar", "Förlåt!", "long"),
    ]


def test_confidence_stays_a_number_for_the_percent_filter() -> None:
    with translation.override("en"):
        fields = result_fields({"category": "spam", "confidence": 0.93})
    assert fields == [
        ResultField("category", "Category", "spam", "text"),
        ResultField("confidence", "Confidence", 0.93, "ratio"),
    ]


def test_a_tenants_own_category_and_an_unknown_field_are_shown_as_written() -> None:
    with translation.override("sv"):
        fields = result_fields({"category": "leverans", "extra": None})
    assert fields == [
        ResultField("category", "Kategori", "leverans", "text"),
        ResultField("extra", "extra", "—", "text"),
    ]
