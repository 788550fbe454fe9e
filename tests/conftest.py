from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user_a(db: Any) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def user_b(db: Any) -> Any:
    return UserFactory(username="bob")


@pytest.fixture
def user_c(db: Any) -> Any:
    return UserFactory(username="carol")


@pytest.fixture
def api_a(user_a: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user_a)
    return client


@pytest.fixture
def api_b(user_b: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user_b)
    return client
