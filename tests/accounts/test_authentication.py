"""The per-process token cache: fewer queries, never a wrong user, revocation within its bound."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.authentication import TOKEN_CACHE_SECONDS
from apps.accounts.models import APIToken
from apps.accounts.services import api_token_create, api_token_revoke
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _token_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "accounts_apitoken" in q["sql"]]


def _bookings(client: APIClient) -> tuple[int, list[str]]:
    response = client.get("/api/roi/bookings/")
    if response.status_code != 200:
        return response.status_code, [response.json()["error"]["code"]]
    return 200, [row["external_id"] for row in response.json()["results"]]


def test_a_remembered_token_is_not_looked_up_again(user_a: Any) -> None:
    BookingFactory(user=user_a, external_id="mine")
    client = _bearer(api_token_create(user=user_a, name="CRM").plaintext)
    with CaptureQueriesContext(connection) as first:
        assert _bookings(client) == (200, ["mine"])
    with CaptureQueriesContext(connection) as second:
        assert _bookings(client) == (200, ["mine"])
    assert len(_token_queries(first)) == 2  # the look-up and the last-used stamp
    assert _token_queries(second) == []


def test_two_tenants_tokens_each_answer_for_their_own_user(user_a: Any, user_b: Any) -> None:
    BookingFactory(user=user_a, external_id="alice's")
    BookingFactory(user=user_b, external_id="bob's")
    alice = _bearer(api_token_create(user=user_a, name="CRM").plaintext)
    bob = _bearer(api_token_create(user=user_b, name="CRM").plaintext)
    for _ in range(2):  # the second round is served from the cache
        assert _bookings(alice) == (200, ["alice's"])
        assert _bookings(bob) == (200, ["bob's"])


def test_revoking_through_the_service_refuses_the_next_request(user_a: Any) -> None:
    issued = api_token_create(user=user_a, name="CRM")
    client = _bearer(issued.plaintext)
    assert _bookings(client) == (200, [])
    assert api_token_revoke(user=user_a, token_id=issued.token.pk) is True
    assert _bookings(client) == (401, ["authentication_failed"])


def test_a_revocation_made_by_another_process_holds_within_the_bound(user_a: Any) -> None:
    issued = api_token_create(user=user_a, name="CRM")
    client = _bearer(issued.plaintext)
    with time_machine.travel(T0, tick=False) as clock:
        assert _bookings(client) == (200, [])
        # Another process revokes: the row changes, this process's cache is not told.
        APIToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now())
        clock.shift(TOKEN_CACHE_SECONDS - 0.5)
        assert _bookings(client) == (200, [])
        clock.shift(0.6)
        assert _bookings(client) == (401, ["authentication_failed"])


def test_deactivating_the_user_refuses_their_token_at_once(user_a: Any) -> None:
    client = _bearer(api_token_create(user=user_a, name="CRM").plaintext)
    assert _bookings(client) == (200, [])
    user_a.is_active = False
    user_a.save(update_fields=["is_active"])
    assert _bookings(client) == (401, ["authentication_failed"])


def test_deleting_the_token_in_admin_refuses_it_at_once(user_a: Any) -> None:
    issued = api_token_create(user=user_a, name="CRM")
    client = _bearer(issued.plaintext)
    assert _bookings(client) == (200, [])
    issued.token.delete()
    assert _bookings(client) == (401, ["authentication_failed"])


def test_last_used_is_still_stamped_at_most_once_a_minute(user_a: Any) -> None:
    issued = api_token_create(user=user_a, name="CRM")
    client = _bearer(issued.plaintext)
    with time_machine.travel(T0, tick=False) as clock:
        assert _bookings(client) == (200, [])
        assert APIToken.objects.get().last_used_at == T0
        clock.shift(3)
        assert _bookings(client) == (200, [])
        assert APIToken.objects.get().last_used_at == T0  # within the minute: no write
        clock.shift(58)
        assert _bookings(client) == (200, [])
        assert APIToken.objects.get().last_used_at == T0 + dt.timedelta(seconds=61)


def test_an_unknown_token_is_refused_every_time(user_a: Any) -> None:
    client = _bearer("orp_" + "x" * 43)
    assert _bookings(client) == (401, ["authentication_failed"])
    assert _bookings(client) == (401, ["authentication_failed"])


def test_anonymous_requests_are_refused(user_a: Any) -> None:
    assert _bookings(APIClient()) == (401, ["not_authenticated"])
