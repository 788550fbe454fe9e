"""schemathesis over the whole OpenAPI schema, in-process, three ways: as a user with data, as that
user aiming at another tenant's ids, and anonymous, with every check schemathesis has.

Rules: no input a client can send produces a 5xx; every response matches the documented schema
(status, content type, headers, body); input valid by the schema is accepted and input the schema
rules out is refused (400, or 401/403/404/405/409/415/422/429 as documented); another tenant's
object answers 404, the same as a missing one; anonymous requests answer 401 in the one error shape
(schemathesis' generated credentials are empty). Deterministic (derandomized, no example database)
and bounded (a few examples per operation), so CI gives the same answer on every run. Operations
added to the API are covered without changes here. The number of requests the app answered is
written at the end of the run.

Two allowances, each because JSON Schema cannot say the rule, never to hide a bug:
- No NUL characters are generated: the API refuses NUL anywhere in a JSON body (PostgreSQL cannot
  store it), property names and free-form values included, which a schema cannot express for
  those (tests/core/test_hostile_input.py and test_strict_input.py hold that refusal to account;
  the API description says it).
- Valid-looking input may get a 400 for the rules in ``SCHEMA_CANNOT_SAY`` (relations between two
  parameters, days relative to today, OpenRouter's changing model list, an opaque page cursor),
  or the documented 422 for an Idempotency-Key the run reuses with another body, and only with the
  error those rules give; any other refusal of valid input fails the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import translation
from hypothesis import HealthCheck, settings
from schemathesis import checks

from apps.accounts.services import api_token_create
from apps.integrations.account import model_ids_known
from apps.integrations.openrouter.errors import InvalidRequestError
from apps.usage.models import AIUsageLog, SyncRun
from tests.factories import AISettingsFactory, BookingFactory, UserFactory

SENT: dict[str, int] = {}
_WHO = ["setup"]


def _counting(app: Callable[..., Any]) -> Callable[..., Any]:
    """The WSGI app, counting every request it answers (the checks' own follow-up requests too)."""

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        SENT[_WHO[0]] = SENT.get(_WHO[0], 0) + 1
        return app(environ, start_response)

    return counted


schema = schemathesis.openapi.from_wsgi("/api/schema/", _counting(get_wsgi_application()))
schema.config.generation.update(allow_x00=False)  # see the module docstring
SENT.clear()  # loading the schema is not part of the run

FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))

_PERIOD_FIELDS = {"start", "end", "date"}
Rule = Callable[[dict[str, Any], Any], bool]  # (the error body's "error", the case) -> excused?


def _period_rule(error: dict[str, Any], case: Any) -> bool:
    fields = error.get("fields") or {}
    return bool(fields) and set(fields) <= _PERIOD_FIELDS


def _logs_rule(error: dict[str, Any], case: Any) -> bool:
    fields = error.get("fields") or {}
    return bool(fields) and set(fields) <= _PERIOD_FIELDS | {"cursor"}


def _live_days_rule(error: dict[str, Any], case: Any) -> bool:
    return "completed UTC days" in error.get("message", "") or _period_rule(error, case)


def _unlisted_models(case: Any) -> set[str]:
    """The model ids in the request body that OpenRouter's (the emulator's) catalogue lacks."""
    body = case.body if isinstance(case.body, dict) else {}
    asked = [body.get("model"), *(body.get("models") or [])]
    return {m for m in asked if isinstance(m, str) and m} - (model_ids_known() or set())


def _catalogue_rule(error: dict[str, Any], case: Any) -> bool:
    fields = error.get("fields") or {}
    if fields:
        return set(fields) <= {"default_model", "models"} and "not in OpenRouter's model list" in str(fields)
    # OpenRouter's own refusal of a model it does not list, passed on by the gateway.
    with translation.override("en"):  # the API answers in English without Accept-Language
        refused = str(InvalidRequestError.default_message)
    return (
        error.get("code") == "invalid_request"
        and refused in error.get("message", "")
        and bool(_unlisted_models(case))
    )


def _budget_rule(error: dict[str, Any], case: Any) -> bool:
    def fallback_only(fields: Any) -> bool:
        if not isinstance(fields, dict) or not fields:
            return False
        return all(
            name == "fallback_model"
            or (name == "use_cases" and all(fallback_only(f) for f in value.values()))
            for name, value in fields.items()
        )

    return fallback_only(error.get("fields"))


def _openai_door_rule(error: dict[str, Any], case: Any) -> bool:
    message = error.get("message", "")
    return (
        _catalogue_rule(error, case)
        or "“stream_options” is only allowed when “stream” is true" in message
        or "“metadata” takes at most" in message
        # Provider routing options (provider.only/ignore/order…) that no provider of the model
        # satisfies: OpenRouter's current providers, known only at run time.
        or error.get("code") == "no_endpoints"
        # The run reuses generated Idempotency-Keys across different bodies: the documented 422.
        or error.get("code") == "idempotency_key_reused"
    )


# Valid by the schema, refused with a 400 by a rule the schema cannot state. Operation -> (the
# error the rule gives, why JSON Schema cannot say it).
SCHEMA_CANNOT_SAY: dict[str, tuple[Rule, str]] = {
    "GET /api/roi/report/": (_period_rule, "start <= end and at most N days: two parameters"),
    "GET /api/roi/export.csv": (_period_rule, "start <= end and at most N days: two parameters"),
    "GET /api/usage/summary/": (_period_rule, "start <= end and at most N days: two parameters"),
    "GET /api/usage/logs/": (
        _logs_rule,
        "start <= end: two parameters; a cursor is an opaque token from an earlier page",
    ),
    "GET /api/roi/bookings/": (_period_rule, "start <= end: two parameters"),
    "GET /api/integrations/openrouter/activity/": (
        _live_days_rule,
        "start <= end; with live=true, a day among the last 30 completed UTC days: relative to today",
    ),
    "POST /api/usage/sync/": (_period_rule, "the last 30 completed UTC days: relative to today"),
    "PUT /api/integrations/openrouter/": (
        _catalogue_rule,
        "a model must be in OpenRouter's current model list, which changes at run time",
    ),
    "POST /api/ai/prompt/": (_catalogue_rule, "OpenRouter refuses a model id it does not list"),
    "PUT /api/integrations/budget/": (
        _budget_rule,
        "a fallback model must be in OpenRouter's current model list (run time), and degrade "
        "needs one (two fields)",
    ),
    "POST /api/v1/chat/completions": (
        _openai_door_rule,
        "OpenRouter refuses a model id it does not list; stream_options needs stream=true (two "
        "fields); metadata keys are at most 64 characters (OpenAPI 3.0 has no propertyNames); "
        "an Idempotency-Key reused with another body is a 422 (state across generated requests); "
        "provider routing no current provider satisfies (no_endpoints)",
    ),
}


def _call_and_validate(case: Any, headers: dict[str, str] | None = None) -> Any:
    """Every check; positive_data_acceptance with the allowances of ``SCHEMA_CANNOT_SAY``."""
    response = case.call_and_validate(headers=headers, excluded_checks=[checks.positive_data_acceptance])
    try:
        case.validate_response(response, checks=[checks.positive_data_acceptance], headers=headers)
    except (AssertionError, BaseExceptionGroup):  # one failure, or schemathesis' group of them
        rule = SCHEMA_CANNOT_SAY.get(f"{case.operation.method.upper()} {case.operation.path}")
        if (
            response.status_code not in (400, 422)
            or rule is None
            or not rule[0](response.json().get("error", {}), case)
        ):
            raise
    return response


@pytest.fixture(scope="module", autouse=True)
def _report_request_count(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    figures = ", ".join(f"{who} {n}" for who, n in SENT.items())
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # type: ignore[union-attr]
        print(f"\nschemathesis: {sum(SENT.values())} requests ({figures})")


def _count(who: str) -> None:
    _WHO[0] = who


@pytest.fixture
def high_rate_limits(settings: Any) -> None:
    """Throttles far above what the run sends, so every operation is reached (the cache, which
    holds the counters, is cleared before each test)."""
    rates = {"anon": "100000/min", "user": "100000/min", "ai": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def tenants(db: Any, emulator: Any, inference_key: str, high_rate_limits: None) -> Any:
    """The owner has a key, bookings and ledger rows; the other tenant has its own of each."""
    owner = UserFactory(username="fuzz-owner")
    AISettingsFactory(user=owner, openrouter_api_key=inference_key)
    BookingFactory.create_batch(2, user=owner)
    other = UserFactory(username="fuzz-other")
    theirs = {"/api/roi/bookings/{id}/": BookingFactory(user=other).pk}
    _ledger_row(owner)
    theirs["/api/usage/logs/{id}/"] = _ledger_row(other).pk
    theirs["/api/usage/sync/{id}/"] = SyncRun.objects.create(
        user=other, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 1), trigger="api"
    ).pk
    token = api_token_create(user=owner, name="fuzz").plaintext
    return {"header": {"Authorization": f"Bearer {token}"}, "theirs": theirs, "other": other}


def _ledger_row(user: Any) -> AIUsageLog:
    return AIUsageLog.objects.create(
        user=user,
        provider="openrouter",
        model="openai/gpt-4o-mini",
        use_case="chat",
        status="success",
        prompt_tokens=10,
        completion_tokens=5,
        total_tokens=15,
        cost_usd=Decimal("0.001"),
        cost_sek=Decimal("0.0105"),
        cost_source="provider_reported",
    )


@pytest.mark.django_db
@schema.parametrize()
@settings(FUZZ, max_examples=8)
def test_as_a_user_with_data_every_answer_is_documented_and_no_5xx(
    case: Any, tenants: dict[str, Any], keep_test_connection: None
) -> None:
    _count("owner")
    _call_and_validate(case, tenants["header"])


@pytest.mark.django_db
@schema.include(path_regex=r"\{id\}").parametrize()
@settings(FUZZ, max_examples=5)
def test_another_tenants_ids_answer_404_and_stay_unchanged(
    case: Any, tenants: dict[str, Any], keep_test_connection: None
) -> None:
    theirs = tenants["theirs"][case.operation.path]
    case.path_parameters = {**(case.path_parameters or {}), "id": theirs}
    _count("other tenant's ids")
    before = _their_rows(tenants["other"])
    response = _call_and_validate(case, tenants["header"])
    if case.method.upper() == case.operation.method.upper():  # not the coverage phase's TRACE etc.
        assert response.status_code == 404, (response.status_code, response.text[:200])
        assert response.json()["error"]["code"] == "not_found"
    assert _their_rows(tenants["other"]) == before


def _their_rows(user: Any) -> list[Any]:
    from apps.roi.models import Booking

    bookings = list(Booking.objects.filter(user=user).order_by("pk").values())
    return [
        bookings,
        list(AIUsageLog.objects.filter(user=user).order_by("pk").values()),
        list(SyncRun.objects.filter(user=user).order_by("pk").values()),
    ]


@pytest.mark.django_db
@schema.parametrize()
@settings(FUZZ, max_examples=3)
def test_anonymous_requests_answer_401_in_the_error_shape(
    case: Any, tenants: dict[str, Any], keep_test_connection: None
) -> None:
    _count("anonymous")
    response = _call_and_validate(case)
    # 401; an id that is not a number routes nowhere, which is 404 for everyone.
    allowed = {401, 404} if "{id}" in case.operation.path else {401}
    assert response.status_code in allowed, (response.status_code, response.text[:200])
    assert set(response.json()["error"]) >= {"code", "message"}
