"""Concurrent partner calls through the cached hot path: one ledger row per call, each tenant's own."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.usage.models import AIUsageLog
from tests.ai_gateway.conftest import chat_requests
from tests.factories import AISettingsFactory

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_calls_of_two_tenants_give_one_row_each_with_their_own_key(
    user_a: Any,
    user_b: Any,
    configured_a: Any,
    emulator: Any,
    account: Any,
) -> None:
    AISettingsFactory(user=user_b, openrouter_api_key=emulator.add_key(account, kind="inference", name="bob"))
    tokens = {
        user_a.pk: api_token_create(user=user_a, name="a").plaintext,
        user_b.pk: api_token_create(user=user_b, name="b").plaintext,
    }
    # The caches start cold, so the first calls of both tenants fill them at the same time.
    barrier = threading.Barrier(16)
    problems: list[Any] = []

    def worker(n: int) -> None:
        user_id = (user_a.pk, user_b.pk)[n % 2]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[user_id]}", HTTP_X_USE_CASE="chat")
        try:
            if n < 16:
                barrier.wait()
            response = client.post(
                "/api/v1/chat/completions",
                {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": f"Fråga {n}"}]},
                format="json",
            )
            if response.status_code != 200:
                problems.append((n, response.status_code, response.content))
        except BaseException as exc:
            problems.append((n, exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    rows = list(AIUsageLog.objects.all())
    assert len(rows) == 40
    assert {r.status for r in rows} == {"success"}
    assert sum(1 for r in rows if r.user_id == user_a.pk) == 20
    generations = emulator.generations
    assert len({r.generation_id for r in rows}) == 40
    assert {r.generation_id for r in rows} == {g.id for g in generations}
    assert sum((r.cost_usd for r in rows), Decimal(0)) == sum((g.cost for g in generations), Decimal(0))
    # Each row's generation was billed to the key of the row's own tenant.
    key_of = {g.id: g.key_hash for g in generations}
    hashes = {user_id: {key_of[r.generation_id] for r in rows if r.user_id == user_id} for user_id in tokens}
    assert len(hashes[user_a.pk]) == len(hashes[user_b.pk]) == 1
    assert hashes[user_a.pk] != hashes[user_b.pk]
    assert len(chat_requests(emulator)) == 40
