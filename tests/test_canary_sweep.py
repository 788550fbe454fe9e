"""The canary sweep catches key material in each channel it watches (and only the canary's)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from apps.core.models import AuditAction, AuditEvent
from tests.canary import CANARY_API, CANARY_MANAGEMENT, Sweep, found_in

pytestmark = pytest.mark.django_db


def test_any_twelve_character_piece_is_found_and_last_four_is_not() -> None:
    assert found_in(f"label {CANARY_API[20:32]} end") == [CANARY_API[20:32]]
    assert found_in(f"…{CANARY_API[-4:]} and sk-or-v1-0123456789abcdef") == []
    assert found_in(CANARY_MANAGEMENT[-12:]) == [CANARY_MANAGEMENT[-12:]]


def test_a_debug_log_line_is_caught(canary_sweep: Sweep) -> None:
    logging.getLogger("apps.anything.new").debug("calling with %s", CANARY_API[5:40])
    assert [channel for channel, _ in canary_sweep.take()] == ["log apps.anything.new"]


def test_an_error_report_with_the_key_in_a_frame_local_is_caught(canary_sweep: Sweep) -> None:
    def call_upstream() -> None:
        headers = {"Authorization": f"Bearer {CANARY_MANAGEMENT}"}  # a local a client would hold
        raise RuntimeError(f"upstream failed ({len(headers)} headers)")

    try:
        call_upstream()
    except RuntimeError:
        logging.getLogger("django.request").exception("Internal Server Error")
    assert [channel for channel, _ in canary_sweep.take()] == ["log django.request"]


def test_a_page_and_its_headers_are_caught(canary_sweep: Sweep) -> None:
    response = Client().get("/accounts/login/", {"next": "/" + CANARY_API})
    assert response.status_code == 200
    assert {channel for channel, _ in canary_sweep.take()} == {"response GET /accounts/login/"}


def test_a_stored_row_is_caught(canary_sweep: Sweep, user_a: Any) -> None:
    AuditEvent.objects.create(actor=user_a, action=AuditAction.choices[0][0], detail={"key": CANARY_API})
    assert [channel for channel, _ in canary_sweep.take()] == ["row core.AuditEvent"]


def test_an_email_is_caught(canary_sweep: Sweep) -> None:
    mail.send_mail("Your key", f"It is {CANARY_API}", "app@example.com", ["owner@example.com"])
    assert [channel for channel, _ in canary_sweep.take()] == ["e-mail"]


def test_a_task_argument_is_caught(canary_sweep: Sweep) -> None:
    from celery import shared_task

    @shared_task(name="tests.canary_probe")
    def probe(key: str) -> int:
        return len(key)

    probe.delay(CANARY_API)
    # Celery's own trace log repeats the arguments: a second channel, caught as well.
    assert "task tests.canary_probe" in {channel for channel, _ in canary_sweep.take()}
