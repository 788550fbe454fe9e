"""Brute-force protection: login lockout per user and IP, anonymous API throttling (item 11)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from apps.core.api.throttling import AnonThrottle
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "rätt-lösenord-42"


@pytest.fixture
def axes_on(settings: Any) -> None:
    settings.AXES_ENABLED = True


def _login(client: Client, username: str, password: str, ip: str = "203.0.113.7") -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_item11_thirty_wrong_passwords_lock_the_account_for_that_ip(axes_on: None) -> None:
    UserFactory(username="ida", password=PASSWORD)
    client = Client()
    with time_machine.travel("2026-11-26 12:00:00Z", tick=False):
        codes = [_login(client, "ida", f"fel-{n}").status_code for n in range(30)]
        right = _login(client, "ida", PASSWORD)
        other_ip = _login(Client(), "ida", PASSWORD, ip="198.51.100.9")
    assert codes[:4] == [200] * 4  # the form again, with an error
    assert set(codes[4:]) == {429}  # the fifth failure locks
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert other_ip.status_code == 302  # the lockout is per user and IP: the owner elsewhere gets in
    with time_machine.travel("2026-11-26 12:16:00Z", tick=False):
        assert _login(Client(), "ida", PASSWORD).status_code == 302  # cooled off


def test_item11_a_success_resets_the_count(axes_on: None) -> None:
    UserFactory(username="ida", password=PASSWORD)
    for _ in range(4):
        _login(Client(), "ida", "fel")
    assert _login(Client(), "ida", PASSWORD).status_code == 302
    assert [_login(Client(), "ida", "fel").status_code for _ in range(4)] == [200] * 4


def test_item11_anonymous_api_requests_are_throttled(monkeypatch: Any) -> None:
    monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": "60/min"})
    client = APIClient()
    with time_machine.travel("2026-11-26 12:00:10Z", tick=False):
        codes = [client.get("/api/usage/logs/").status_code for _ in range(60)]
        bad_token = client.get("/api/usage/logs/", HTTP_AUTHORIZATION="Bearer orp_guess")
        anonymous = client.get("/api/v1/models")
    assert codes == [401] * 60
    assert bad_token.status_code == anonymous.status_code == 429
    assert anonymous.json()["error"]["code"] == "throttled"
    assert 49 <= int(anonymous["Retry-After"]) <= 51
    with time_machine.travel("2026-11-26 12:01:01Z", tick=False):
        assert client.get("/api/usage/logs/").status_code == 401
