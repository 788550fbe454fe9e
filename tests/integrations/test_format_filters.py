from __future__ import annotations

from django.utils import translation

from apps.integrations.templatetags.integrations_format import reset_window


def test_limit_windows_read_in_the_users_language() -> None:
    with translation.override("sv"):
        assert [reset_window(w) for w in ("daily", "weekly", "monthly")] == ["daglig", "veckovis", "månatlig"]
    with translation.override("en"):
        assert reset_window("monthly") == "monthly"
    assert reset_window(None) == ""
