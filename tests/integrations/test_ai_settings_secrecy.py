"""No key material leaves the server: a canary key, and every 12+ character piece of it, is searched
for in every response, page, admin screen, log line, audit row and cache entry the AI tab produces."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.integrations.models import AISettings, CreditSnapshot
from tests.canary import CANARIES, CANARY_API, CANARY_MANAGEMENT, assert_no_canary
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def canaries(emulator: Any, account: Any) -> tuple[str, str]:
    emulator.add_key(account, kind="inference", name="canary", limit=Decimal(50), plaintext=CANARY_API)
    emulator.add_key(account, kind="management", name="canary-mgmt", plaintext=CANARY_MANAGEMENT)
    return CANARIES


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def _cache_text() -> str:
    """Every value in the cache, decoded: local memory in a plain run, Redis in CI."""
    store = getattr(cache, "_cache", None)
    if isinstance(store, dict):  # local memory
        return "\n".join(repr(pickle.loads(value)) for value in store.values())  # noqa: S301 (our own cache)
    client = store.get_client(write=False)  # type: ignore[union-attr]  # Django's Redis backend
    values = (client.get(key) for key in client.scan_iter())
    return "\n".join(repr(store._serializer.loads(v)) for v in values if v is not None)  # type: ignore[union-attr]


def test_the_canary_never_leaves_the_server(
    canaries: tuple[str, str], emulator: Any, all_logs: Any, user_b: Any
) -> None:
    user = UserFactory(username="canary-owner")
    seen: list[tuple[str, str]] = []

    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(user)
    htmx = {"HTTP_HX_REQUEST": "true"}

    def keep(where: str, response: Any) -> Any:
        assert response.status_code < 500, where
        seen.append((where, response.content.decode()))
        seen.append((f"{where} headers", str(dict(response.items()))))
        return response

    # Test before saving: entered keys, also in the wrong fields and mistyped.
    keep(
        "test entered",
        page.post(
            "/dashboard/integrations/ai/test/",
            {"api_key": CANARY_API, "management_key": CANARY_MANAGEMENT},
            **htmx,
        ),
    )
    keep(
        "test swapped",
        page.post(
            "/dashboard/integrations/ai/test/",
            {"api_key": CANARY_MANAGEMENT, "management_key": CANARY_API},
            **htmx,
        ),
    )
    keep(
        "test mistyped", page.post("/dashboard/integrations/ai/test/", {"api_key": CANARY_API + " x"}, **htmx)
    )
    keep(
        "save mistyped",
        page.post(
            "/dashboard/integrations/ai/configure/",
            {"api_key": CANARY_API[:-3] + "\n" + CANARY_API[-3:], "ai_provider": "openrouter"},
            **htmx,
        ),
    )
    # Save through the dialog, then look at everything the tab shows.
    keep(
        "save",
        page.post(
            "/dashboard/integrations/ai/configure/",
            {
                "api_key": CANARY_API,
                "management_key": CANARY_MANAGEMENT,
                "ai_provider": "openrouter",
                "default_model": "openai/gpt-4o-mini",
            },
            **htmx,
        ),
    )
    for url in (
        "/dashboard/integrations/?tab=ai",
        "/dashboard/integrations/ai/status/",
        "/dashboard/integrations/ai/account/",
        "/dashboard/integrations/ai/models/",
        "/dashboard/integrations/ai/configure/",
        "/dashboard/settings/?tab=roi",
    ):
        keep(url, page.get(url, **htmx))
    keep("test stored", page.post("/dashboard/integrations/ai/test/", **htmx))

    # The API, with the same user.
    api = APIClient()
    api.force_authenticate(user)
    base = "/api/integrations/openrouter/"
    for suffix in ("", "credits/", "key/", "models/", "activity/"):
        keep(f"API {suffix}", api.get(base + suffix))
    keep(
        "API test entered",
        api.post(f"{base}test/", {"api_key": CANARY_API, "management_key": CANARY_MANAGEMENT}, format="json"),
    )
    keep(
        "API put", api.put(base, {"api_key": CANARY_API, "management_key": CANARY_MANAGEMENT}, format="json")
    )
    keep(
        "API put bad",
        api.put(base, {"api_key": CANARY_API + "\r\n", "base_url": "http://evil.test"}, format="json"),
    )
    keep("schema", api.get("/api/schema/"))

    # Another tenant sees nothing of it.
    other = APIClient()
    other.force_authenticate(user_b)
    keep("other user API", other.get(base))

    # Admin, as staff.
    staff = UserFactory(username="canary-staff", is_staff=True, is_superuser=True)
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(staff)
    settings_pk = AISettings.objects.get(user=user).pk
    for url in (
        "/admin/integrations/aisettings/",
        f"/admin/integrations/aisettings/{settings_pk}/change/",
        "/admin/integrations/creditsnapshot/",
        "/admin/core/auditevent/",
        f"/admin/core/auditevent/{AuditEvent.objects.first().pk}/change/",  # type: ignore[union-attr]
    ):
        keep(url, admin.get(url))
    keep(
        "admin save",
        admin.post(
            f"/admin/integrations/aisettings/{settings_pk}/change/",
            {"ai_provider": "openrouter", "new_api_key": CANARY_API},
        ),
    )
    # Remove, which audits too.
    keep("remove", page.post("/dashboard/integrations/ai/keys/management/remove/", **htmx))

    for where, text in seen:
        assert_no_canary(text, where)
    assert_no_canary(_log_text(all_logs), "logs")
    audit = "\n".join(repr(row) for row in AuditEvent.objects.values())
    assert AuditEvent.objects.count() >= 4
    assert_no_canary(audit, "audit rows")
    assert_no_canary("\n".join(repr(row) for row in CreditSnapshot.objects.values()), "credit snapshots")
    assert_no_canary(_cache_text(), "cache")
    # At rest the columns hold ciphertext only.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM user_ai_settings")
        assert_no_canary(repr(cursor.fetchall()), "user_ai_settings table")
    # And the canaries really were used: OpenRouter (the emulator) saw both.
    used = {r.key_hash for r in emulator.requests}
    assert {emulator.key_hash(CANARY_API), emulator.key_hash(CANARY_MANAGEMENT)} <= used


def test_the_canary_helper_catches_a_leak() -> None:
    with pytest.raises(AssertionError):
        assert_no_canary(f"label: {CANARY_API[:12]}...{CANARY_API[-3:]}", "a label")
    assert_no_canary(f"…{CANARY_API[-4:]}", "last 4")
