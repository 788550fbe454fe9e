"""Keys never leave the server: a canary key used by the gateway appears in no response, page,
admin screen, log line, task argument or ledger row."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.usage.models import AIUsageLog
from tests.canary import CANARY_API, assert_no_canary
from tests.factories import AISettingsFactory, APITokenFactory
from tests.integrations.test_ai_settings_secrecy import _log_text

pytestmark = pytest.mark.django_db


def test_the_key_is_in_no_response_row_log_or_admin_page(
    user_a: Any,
    emulator: Any,
    account: Any,
    caplog: pytest.LogCaptureFixture,
    admin_user: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    emulator.add_key(account, kind="inference", name="canary", plaintext=CANARY_API)
    AISettingsFactory(user=user_a, openrouter_api_key=CANARY_API, use_system_fallback=True)
    token = APITokenFactory(user=user_a, name="partner").plaintext
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    page = Client()
    page.force_login(user_a)
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hej"}]}
    texts = [
        api.post("/api/v1/chat/completions", body, format="json").content.decode(),
        b"".join(
            api.post("/api/v1/chat/completions", {**body, "stream": True}, format="json").streaming_content
        ).decode(),
        api.post("/api/ai/enrich-lead/", {"company": "X"}, format="json").content.decode(),
        page.post("/dashboard/ai/prompt/", {"prompt": "Hej"}).content.decode(),
        page.get("/dashboard/ai/").content.decode(),
    ]
    for fault in (
        {"kind": "status", "status": 400},
        {"kind": "read_timeout"},
        {"kind": "html", "status": 502},
        {"kind": "error_200"},
    ):
        emulator.inject(fault.pop("kind"), **fault)
        texts.append(api.post("/api/v1/chat/completions", body, format="json").content.decode())
    emulator.inject("rate_limit", times=10)
    texts.append(api.post("/api/v1/chat/completions", body, format="json").content.decode())  # falls back
    staff = Client()
    staff.force_login(admin_user)
    texts.append(staff.get("/admin/usage/aiusagelog/").content.decode())
    for row in AIUsageLog.objects.all():
        texts.append(json.dumps(row.__dict__, default=str))
        texts.append(staff.get(f"/admin/usage/aiusagelog/{row.pk}/change/").content.decode())
    texts.append(_log_text(caplog))
    for number, text in enumerate(texts):
        assert_no_canary(text, f"output #{number}")
    assert AIUsageLog.objects.filter(user=user_a).count() == 9
    # The key did reach OpenRouter (hashed in the emulator's ledger), and only there.
    assert emulator.key_hash(CANARY_API) in {r.key_hash for r in emulator.requests}


def test_task_arguments_carry_ids_not_keys(
    user_a: Any,
    emulator: Any,
    account: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    from apps.usage import tasks

    sent: list[dict[str, Any]] = []
    original = tasks.settle_cost.delay
    monkeypatch.setattr(tasks.settle_cost, "delay", lambda **kw: (sent.append(kw), original(**kw))[1])
    emulator.add_key(account, kind="inference", name="canary", plaintext=CANARY_API)
    AISettingsFactory(user=user_a, openrouter_api_key=CANARY_API)
    emulator.inject("missing_usage")
    with django_capture_on_commit_callbacks(execute=True):
        client = APIClient()
        client.force_authenticate(user_a)
        client.post("/api/ai/prompt/", {"prompt": "x"}, format="json")
    assert sent == [{"log_id": AIUsageLog.objects.get().pk}]
