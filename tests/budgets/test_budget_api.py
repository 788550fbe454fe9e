"""GET|PUT /api/integrations/budget/: the caller's own budget, validated, with this month's status."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.integrations.models import Budget
from tests.factories import BudgetFactory, LedgerRowFactory

pytestmark = pytest.mark.django_db

URL = "/api/integrations/budget/"
MINI = "openai/gpt-4o-mini"


def test_get_without_a_budget(api_a: Any) -> None:
    body = api_a.get(URL).json()
    assert body["monthly_limit_sek"] is None
    assert body["status"] is None
    assert body["use_cases"] == {}


def test_put_then_get_with_status(api_a: Any, user_a: Any, emulator: Any) -> None:
    LedgerRowFactory(user=user_a, created_at=timezone.now(), cost_sek=Decimal("25"))
    response = api_a.put(
        URL,
        {
            "monthly_limit_sek": "100",
            "soft_threshold_percent": 75,
            "policy": "degrade",
            "fallback_model": MINI,
            "use_cases": {"chat": {"policy": "block", "monthly_limit_sek": "20.50"}},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = api_a.get(URL).json()
    assert body["monthly_limit_sek"] == "100.00"
    assert body["use_cases"] == {
        "chat": {"policy": "block", "fallback_model": "", "monthly_limit_sek": "20.50"}
    }
    assert body["status"]["spent_sek"] == "25.000000"
    assert body["status"]["state"] == "ok"
    assert Budget.objects.filter(user=user_a).count() == 2
    assert AuditEvent.objects.filter(user=user_a, target="budget").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"monthly_limit_sek": "-5"}, "monthly_limit_sek"),
        ({"monthly_limit_sek": "1e12"}, "monthly_limit_sek"),
        ({"monthly_limit_sek": "NaN"}, "monthly_limit_sek"),
        ({"monthly_limit_sek": "abc"}, "monthly_limit_sek"),
        ({"monthly_limit_sek": "100", "soft_threshold_percent": 150}, "soft_threshold_percent"),
        ({"monthly_limit_sek": "100", "soft_threshold_percent": 0}, "soft_threshold_percent"),
        ({"monthly_limit_sek": "100", "policy": "degrade"}, "fallback_model"),
        (
            {"monthly_limit_sek": "100", "policy": "degrade", "fallback_model": "acme/not-a-model"},
            "fallback_model",
        ),
        ({"monthly_limit_sek": "100", "policy": "maybe"}, "policy"),
        ({"monthly_limit_sek": "100", "base_url": "x"}, "base_url"),
        ({"monthly_limit_sek": "100", "use_cases": {"nope": {"policy": "block"}}}, "use_cases"),
        (
            {
                "monthly_limit_sek": "100",
                "use_cases": {"chat": {"policy": "degrade", "fallback_model": "x/y"}},
            },
            "use_cases",
        ),
    ],
)
def test_bad_input_is_a_clear_400_and_saves_nothing(api_a: Any, emulator: Any, body: Any, field: str) -> None:
    response = api_a.put(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"]
    assert error["message"]
    assert not Budget.objects.exists()


def test_another_users_budget_is_neither_read_nor_changed(api_a: Any, user_b: Any) -> None:
    BudgetFactory(user=user_b, monthly_limit_sek=Decimal("999"))
    assert api_a.get(URL).json()["monthly_limit_sek"] is None
    assert api_a.put(URL, {"monthly_limit_sek": "10"}, format="json").status_code == 200
    assert Budget.objects.get(user=user_b).monthly_limit_sek == Decimal("999")


def test_anonymous_is_refused(client: Any) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401


def test_messages_follow_accept_language(api_a: Any) -> None:
    body = {"monthly_limit_sek": "100", "soft_threshold_percent": 101}
    swedish = api_a.put(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="sv").json()["error"]
    english = api_a.put(URL, body, format="json").json()["error"]
    assert swedish["fields"]["soft_threshold_percent"] == ["Varningströskeln måste ligga mellan 1 och 100 %."]
    assert english["fields"]["soft_threshold_percent"] == ["The alert threshold must be between 1 and 100 %."]
