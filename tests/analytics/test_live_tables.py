"""The OpenRouter dashboard's poll brings the model statistics and data quality along (out of band).

Found by the browser journey: after a live update the metrics said 8 calls while the model table
said 7, and after a finished sync the data-quality card still read "No sync with OpenRouter's
activity yet" until a reload.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.test import Client

from apps.usage.models import SyncRun, SyncState
from tests.factories import AISettingsFactory, AIUsageLogFactory

LIVE = "/dashboard/openrouter/live/?preset=today"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_the_poll_carries_the_tables_out_of_band(user_a: Any, page_a: Client) -> None:
    AISettingsFactory(user=user_a, openrouter_management_key="sk-or-v1-" + "m" * 64)
    AIUsageLogFactory.create_batch(2, user=user_a, created_at=_now(), model="openai/gpt-oss-120b")
    html = page_a.get(LIVE).content.decode()
    assert '<div id="or-tables" hx-swap-oob="true">' in html
    stats = html.split('id="or-model-stats"')[1]
    assert re.search(r'<td class="mono">openai/gpt-oss-120b</td>\s*<td class="num">2</td>', stats)
    assert "Ingen synk mot OpenRouters aktivitet ännu." in html
    SyncRun.objects.create(
        user=user_a, start=_now().date(), end=_now().date(), trigger="manual", state=SyncState.SUCCEEDED
    )
    html = page_a.get(LIVE).content.decode()
    assert "Ingen synk mot OpenRouters aktivitet ännu." not in html
    assert "(Lyckades)" in html
    assert 'href="#or-activity"' in html


def test_the_page_itself_has_the_tables_in_band(user_a: Any, page_a: Client) -> None:
    AIUsageLogFactory(user=user_a, created_at=_now())
    html = page_a.get("/dashboard/openrouter/?preset=today").content.decode()
    assert '<div id="or-tables">' in html
    assert "hx-swap-oob" not in html


def test_the_poll_shows_only_my_calls(user_a: Any, user_b: Any, page_a: Client) -> None:
    AIUsageLogFactory(user=user_a, created_at=_now(), model="openai/gpt-oss-120b")
    AIUsageLogFactory(user=user_b, created_at=_now(), model="moonshotai/kimi-k2.5", cost_usd=Decimal(9))
    html = page_a.get(LIVE).content.decode()
    assert "openai/gpt-oss-120b" in html
    assert "moonshotai/kimi-k2.5" not in html
