"""The Activity history section names OpenRouter's window in ISO dates, like every date beside it.

Found by the browser journey: English read "Completed UTC days Oct. 29, 2026" and so on, next to
date fields and a table in YYYY-MM-DD.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from apps.usage.sync import activity_window
from tests.factories import AISettingsFactory


def test_the_window_reads_in_iso_dates_in_both_languages(user_a: Any) -> None:
    AISettingsFactory(user=user_a, openrouter_management_key="sk-or-v1-" + "m" * 64)
    first, last = activity_window()
    for language, words in (("en", "Completed UTC days"), ("sv", "Avslutade UTC-dygn")):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user_a)
        html = client.get("/dashboard/openrouter/activity/").content.decode()
        assert f"{words} {first.isoformat()} \u2013 {last.isoformat()}" in html, language


def test_another_users_section_shows_no_window_form(user_a: Any, user_b: Any) -> None:
    AISettingsFactory(user=user_a, openrouter_management_key="sk-or-v1-" + "m" * 64)
    client = Client()
    client.force_login(user_b)
    html = client.get("/dashboard/openrouter/activity/").content.decode()
    assert "Avslutade UTC-dygn" not in html
