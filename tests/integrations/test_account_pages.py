"""The AI tab's account card (credits, key limits) and model list, fresh, stale and failing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.integrations.services import ai_settings_update

pytestmark = pytest.mark.django_db

ACCOUNT = "/dashboard/integrations/ai/account/"
MODELS = "/dashboard/integrations/ai/models/"


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize("url", [ACCOUNT, MODELS])
def test_anonymous_users_are_sent_to_login(db: Any, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_without_keys_the_account_card_invites_to_configure(page_a: Client, emulator: Any) -> None:
    response = page_a.get(ACCOUNT)
    assert response.status_code == 200
    text = _text(response)
    assert "Add your OpenRouter API key to see your credits, key limits and usage here." in text
    assert 'hx-get="/dashboard/integrations/ai/configure/"' in text
    assert emulator.requests == []


def test_with_a_management_key_the_card_shows_the_account_balance(
    page_a: Client, user_a: Any, clock: Any, emulator: Any, account: Any, management_key: str
) -> None:
    api_key = emulator.add_key(account, kind="inference", limit=Decimal(20), limit_reset="monthly")
    ai_settings_update(
        user=user_a, actor=user_a, api_key=api_key, management_key=management_key, verify=False
    )
    account.usage = Decimal("42.738215")
    text = _text(page_a.get(ACCOUNT))
    assert 'data-source="account"' in text
    assert '<div class="stat" id="ai-credits-remaining">$57.26</div>' in text
    assert "<dt>Total credits</dt> <dd>$100.00</dd> <dt>Total used</dt> <dd>$42.74</dd>" in text
    assert "The account's balance, read with your management key." in text
    assert "<dt>Limit</dt> <dd> $20.00 (monthly) </dd>" in text
    assert '<dd id="ai-key-limit-remaining">$20.00</dd>' in text
    assert text.count('data-freshness="fresh"') == 2
    assert "Updated just now." in text


def test_without_a_management_key_the_card_says_it_shows_the_keys_limit(
    page_a: Client, user_a: Any, clock: Any, emulator: Any, account: Any
) -> None:
    api_key = emulator.add_key(account, kind="inference", limit=Decimal("7.5"))
    ai_settings_update(user=user_a, actor=user_a, api_key=api_key, verify=False)
    text = _text(page_a.get(ACCOUNT))
    assert 'data-source="key_limit"' in text
    assert "Remaining on this API key" in text
    assert '<div class="stat" id="ai-credits-remaining"> $7.50 </div>' in text
    assert "This is the API key's own spending limit, not the account balance." in text
    assert "<dt>Limit</dt> <dd> $7.50 (total) </dd>" in text


def test_when_openrouter_fails_the_card_shows_the_last_value_with_its_age(
    page_a: Client, user_a: Any, clock: Any, emulator: Any, inference_key: str, management_key: str
) -> None:
    ai_settings_update(
        user=user_a, actor=user_a, api_key=inference_key, management_key=management_key, verify=False
    )
    page_a.get(ACCOUNT)
    emulator.inject("status", times=20, path="/credits", status=503)
    emulator.inject("html", times=20, path="/key", status=502)
    clock.shift(dt.timedelta(minutes=6))
    response = page_a.get(ACCOUNT)
    assert response.status_code == 200
    text = _text(response)
    assert '<div class="stat" id="ai-credits-remaining">$100.00</div>' in text
    assert text.count('data-freshness="stale"') == 2
    assert "Showing the last known value, from 6 minutes ago." in text
    assert "OpenRouter or the model provider is temporarily unavailable." in text
    assert "The model provider returned an error." in text


def test_when_openrouter_fails_and_nothing_is_known_the_card_says_so(
    page_a: Client, user_a: Any, clock: Any, emulator: Any, inference_key: str
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    emulator.inject("status", times=20, path="/key", status=503)
    response = page_a.get(ACCOUNT)
    assert response.status_code == 200
    text = _text(response)
    assert 'id="ai-credits-remaining"' not in text
    assert text.count('<p class="notice notice-err" data-freshness="missing">') == 2


def test_an_unreadable_stored_key_is_explained(
    page_a: Client, user_a: Any, inference_key: str, settings: Any
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    settings.FIELD_ENCRYPTION_KEYS = ["bmV3LWtleS1uZXctZmllbGQta2V5LTAwMDAwMDAwMDA="]
    text = _text(page_a.get(ACCOUNT))
    assert "Your stored OpenRouter API key can no longer be read." in text


def test_the_card_reads_with_the_users_own_keys(
    page_a: Client, user_a: Any, user_b: Any, clock: Any, emulator: Any, inference_key: str
) -> None:
    other = emulator.add_account(credits=Decimal(3))
    key_b = emulator.add_key(other, kind="inference", limit=Decimal(1))
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    ai_settings_update(user=user_b, actor=user_b, api_key=key_b, verify=False)
    text = _text(page_a.get(ACCOUNT))
    assert "No limit" in text
    assert "$1.00" not in text
    assert {r.key_hash for r in emulator.requests} == {emulator.key_hash(inference_key)}


def test_the_account_card_query_count_is_pinned(
    page_a: Client, user_a: Any, clock: Any, inference_key: str
) -> None:
    ai_settings_update(user=user_a, actor=user_a, api_key=inference_key, verify=False)
    page_a.get(ACCOUNT)
    with CaptureQueriesContext(connection) as cached:
        page_a.get(ACCOUNT)
    # session + user, the settings row, the API key (for neither: both values are cached).
    assert len(cached) <= 4


# ------------------------------------------------------------------ models


def test_the_model_list_shows_prices_per_million_tokens(page_a: Client, clock: Any, emulator: Any) -> None:
    response = page_a.get(MODELS)
    assert response.status_code == 200
    text = _text(response)
    assert '<p class="muted small" id="ai-models-count"> 10 of 10 models match. </p>' in text
    row = text.split('<tr data-model="openai/gpt-4o-mini">')[1].split("</tr>")[0]
    assert "OpenAI: GPT-4o-mini" in row
    assert '<td class="num">128,000</td> <td class="num">$0.15</td> <td class="num">$0.60</td>' in row
    assert "text, image, file → text" in row
    free = text.split('<tr data-model="openai/gpt-oss-120b:free">')[1].split("</tr>")[0]
    assert '<td class="num">Free</td> <td class="num">Free</td>' in free
    claude = text.split('<tr data-model="anthropic/claude-sonnet-4.6">')[1].split("</tr>")[0]
    assert '<td class="num">$3.00</td> <td class="num">$15.00</td>' in claude


def test_the_model_list_in_swedish_uses_swedish_numbers(user_a: Any, clock: Any, emulator: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(user_a)
    text = _text(client.get(MODELS))
    row = text.split('<tr data-model="openai/gpt-4o-mini">')[1].split("</tr>")[0]
    assert "$0,15" in row
    assert "128 000" in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"search": "claude"}, ["anthropic/claude-haiku-4.5", "anthropic/claude-sonnet-4.6"]),
        ({"max_price": "0,5"}, ["openai/gpt-oss-120b", "openai/gpt-oss-120b:free"]),
        ({"max_price": "0.5", "search": "free"}, ["openai/gpt-oss-120b:free"]),
        ({"modality": "audio", "search": "claude"}, []),
        ({"max_price": "cheap"}, None),  # not applied (and said so): every model
        ({"max_price": "-1"}, None),
    ],
)
def test_the_model_list_can_be_searched_and_filtered(
    page_a: Client, clock: Any, emulator: Any, query: dict[str, str], expected: list[str] | None
) -> None:
    text = _text(page_a.get(MODELS, query))
    shown = re.findall(r'<tr data-model="([^"]+)">', text)
    if expected is None:
        assert len(shown) == 10
    else:
        assert shown == expected
    if expected == []:
        assert "No model matches these filters." in text


@pytest.mark.parametrize("value", ["abc", "-1", "NaN", "1,2,3", "Infinity"])
def test_an_invalid_max_price_is_reported_not_ignored(
    page_a: Client, clock: Any, emulator: Any, value: str
) -> None:
    response = page_a.get(MODELS, {"max_price": value})
    assert response.status_code == 200
    text = _text(response)
    assert (
        '<p class="msg msg-error" role="alert" id="ai-models-price-error"> Max price must be a number '
        "of dollars per million tokens, 0 or more (e.g. 1 or 0,5). It was not applied. </p>"
    ) in text
    assert len(re.findall(r'<tr data-model="([^"]+)">', text)) == 10


@pytest.mark.parametrize("query", [{}, {"max_price": ""}, {"max_price": " "}, {"max_price": "0,5"}])
def test_a_valid_or_empty_max_price_shows_no_message(
    page_a: Client, clock: Any, emulator: Any, query: dict[str, str]
) -> None:
    assert "ai-models-price-error" not in _text(page_a.get(MODELS, query))


def test_an_invalid_max_price_is_reported_in_swedish(user_a: Any, clock: Any, emulator: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(user_a)
    text = _text(client.get(MODELS, {"max_price": "abc"}))
    assert "Maxpriset måste vara ett tal" in text


def test_model_modalities_are_in_the_readers_language(
    page_a: Client, user_a: Any, clock: Any, emulator: Any
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(user_a)
    text = _text(client.get(MODELS))
    row = text.split('<tr data-model="openai/gpt-4o-mini">')[1].split("</tr>")[0]
    assert '<td class="small">text, bild, fil → text</td>' in row
    english = _text(page_a.get(MODELS))
    row = english.split('<tr data-model="openai/gpt-4o-mini">')[1].split("</tr>")[0]
    assert '<td class="small">text, image, file → text</td>' in row


def test_search_text_is_escaped(page_a: Client, clock: Any, emulator: Any) -> None:
    text = _text(page_a.get(MODELS, {"search": "<script>alert(1)</script>"}))
    assert "<script>alert" not in text


def test_a_failing_catalogue_is_reported_in_place(page_a: Client, clock: Any, emulator: Any) -> None:
    emulator.inject("status", times=20, path="/models", status=503)
    response = page_a.get(MODELS)
    assert response.status_code == 200
    text = _text(response)
    assert '<p class="notice notice-err" data-freshness="missing">' in text
    assert "ai-models-table" not in text


def test_the_model_list_makes_no_queries_beyond_the_session(
    page_a: Client, clock: Any, emulator: Any
) -> None:
    page_a.get(MODELS)
    with CaptureQueriesContext(connection) as queries:
        page_a.get(MODELS, {"search": "gpt"})
    assert len(queries) <= 2
