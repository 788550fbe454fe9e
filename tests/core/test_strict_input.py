"""The API accepts what its schema calls valid and refuses the rest (issue 14, schemathesis with
every check): JSON types as documented, days as YYYY-MM-DD in 2000..2099, money as decimal text,
strict paging, no silent blanks in query strings, and the /v1 body exactly as documented.

Each test here is a regression for a mismatch schemathesis found (valid input refused or invalid
input accepted)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.core.api.fields import DAY_PATTERN
from apps.core.api.schema import decimal_pattern
from apps.integrations.validators import KEY_PATTERN, MODEL_ID_PATTERN, is_model_id, openrouter_key_clean
from apps.roi.models import Booking
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user_a: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user_a, name='t').plaintext}")
    return client


def _fields(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] == "invalid"
    return dict(error["fields"])


# ------------------------------------------------------------------ JSON types


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2026-11-01", "value_sek": 1250}, "value_sek"),  # a float is not money
        ({"date": "2026-11-01", "value_sek": "1e3"}, "value_sek"),
        ({"date": "2026-11-01", "value_sek": "+5"}, "value_sek"),
        ({"date": "2026-11-01", "value_sek": "5", "description": 0}, "description"),
        ({"date": 20261101, "value_sek": "5"}, "date"),
        ({"date": "20261101", "value_sek": "5"}, "date"),  # ISO basic format: not YYYY-MM-DD
        ({"date": "1999-12-31", "value_sek": "5"}, "date"),
    ],
)
def test_a_booking_with_a_value_of_the_wrong_type_is_a_400_naming_it(
    api: APIClient, body: dict[str, Any], field: str
) -> None:
    assert field in _fields(api.post("/api/roi/bookings/", body, format="json"))
    assert not Booking.objects.exists()


def test_money_as_decimal_text_is_accepted(api: APIClient) -> None:
    response = api.post("/api/roi/bookings/", {"date": "2026-11-01", "value_sek": ".5"}, format="json")
    assert response.status_code == 201, response.content
    assert Booking.objects.get().value_sek == Decimal("0.50")


def test_text_number_and_boolean_fields_refuse_other_json_types(api: APIClient) -> None:
    assert "notes" in _fields(
        api.post("/api/ai/enrich-lead/", {"company": "Acme", "notes": 0}, format="json")
    )
    assert "conversation_id" in _fields(
        api.post("/api/ai/chat/", {"message": "hi", "conversation_id": "5"}, format="json")
    )
    assert "use_system_fallback" in _fields(
        api.put("/api/integrations/openrouter/", {"use_system_fallback": "true"}, format="json")
    )
    fields = _fields(
        api.post("/api/ai/classify-sms/", {"text": "hej", "categories": [0, "a"]}, format="json")
    )
    assert set(fields["categories"]) == {"0"}


def test_a_bulk_push_rejects_any_non_object_item_on_its_own(api: APIClient) -> None:
    response = api.post("/api/roi/bookings/bulk/", {"bookings": [None, "x"]}, format="json")
    assert response.status_code == 200, response.content
    assert [item["status"] for item in response.json()["items"]] == ["rejected", "rejected"]
    assert "bookings" in _fields(api.post("/api/roi/bookings/bulk/", {"bookings": []}, format="json"))


def test_a_nul_in_a_property_name_is_refused_like_one_in_a_value(api: APIClient) -> None:
    response = api.post("/api/ai/chat/", b'{"message": "hi", "x\\u0000": 1}', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "parse_error",
        "message": "The body contains a NUL character.",
    }


# ------------------------------------------------------------------ query strings


def test_an_empty_query_value_is_refused_where_the_field_takes_no_blank(api: APIClient) -> None:
    assert "use_case" in _fields(api.get("/api/usage/logs/?use_case="))
    assert "start" in _fields(api.get("/api/roi/bookings/?start="))
    assert "live" in _fields(api.get("/api/integrations/openrouter/activity/?live="))
    # The period's start and end are documented as "" or a day: "" is "not given".
    assert api.get("/api/usage/summary/?start=&end=").status_code == 200


@pytest.mark.parametrize("size", ["abc", "0", "-1", "501", "1.5", ""])
def test_page_size_outside_1_to_500_is_a_400(api: APIClient, size: str) -> None:
    assert "page_size" in _fields(api.get(f"/api/roi/bookings/?page_size={size}"))
    assert "page_size" in _fields(api.get(f"/api/usage/logs/?page_size={size}"))


def test_page_size_within_bounds_pages_and_page_last_is_not_a_page(api: APIClient, user_a: Any) -> None:
    BookingFactory.create_batch(3, user=user_a)
    response = api.get("/api/roi/bookings/?page_size=2")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    assert api.get("/api/roi/bookings/?page_size=500").status_code == 200
    assert api.get("/api/roi/bookings/?page=last").status_code == 404


def test_a_period_day_must_be_yyyy_mm_dd(api: APIClient) -> None:
    assert "start" in _fields(api.get("/api/usage/summary/?start=20261101"))
    assert "end" in _fields(api.get("/api/roi/report/?end=2026-W01-1"))


def test_the_csv_export_refuses_an_unknown_format(api: APIClient) -> None:
    assert "format" in _fields(api.get("/api/roi/export.csv?format=xml"))
    assert api.get("/api/roi/export.csv?format=csv&preset=today").status_code == 200


# ------------------------------------------------------------------ the OpenAI-compatible door


@pytest.mark.parametrize(
    ("message", "options"),
    [
        ({"role": "user", "content": ["text"]}, {}),  # parts must be objects
        ({"role": "user", "content": "hi", "name": 5}, {}),
        ({"role": "user", "content": "hi", "tool_call_id": 5}, {}),
        ({"role": "assistant", "tool_calls": "call"}, {}),
        ({"role": "user", "content": "hi"}, {"max_tokens": 0, "max_completion_tokens": 5}),
    ],
)
def test_the_openai_door_refuses_what_its_schema_rules_out(
    api: APIClient, configured_a: Any, message: dict[str, Any], options: dict[str, Any]
) -> None:
    response = api.post("/api/v1/chat/completions", {"messages": [message], **options}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_request"


def test_an_idempotency_key_must_be_printable_ascii(api: APIClient, configured_a: Any) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    response = api.post("/api/v1/chat/completions", body, format="json", HTTP_IDEMPOTENCY_KEY="nyckel-ö")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["message"]


# ------------------------------------------------------------------ the schema says the same


def _schema(api: APIClient) -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(api.get("/api/schema/").content))


def test_request_schemas_refuse_unknown_fields_where_the_code_does(api: APIClient) -> None:
    components = _schema(api)["components"]["schemas"]
    for name in ("CreateChatCompletionRequest", "AISettingsUpdateRequest", "ConnectionTestRequestRequest"):
        assert components[name]["additionalProperties"] is False, name
    messages = components["CreateChatCompletionRequest"]["properties"]["messages"]
    assert (messages["minItems"], messages["maxItems"]) == (1, 200)
    assert components["ChatMessageInputRequest"]["anyOf"] == [
        {"required": ["content"]},
        {"required": ["tool_calls"]},
    ]


def test_paging_parameters_are_documented_with_their_bounds(api: APIClient) -> None:
    for path in ("/api/roi/bookings/", "/api/usage/logs/", "/api/integrations/openrouter/models/"):
        parameters = {p["name"]: p["schema"] for p in _schema(api)["paths"][path]["get"]["parameters"]}
        assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 500}, path


def test_the_decimal_pattern_is_the_field_s_digits_sign_and_maximum() -> None:
    field = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal(0), max_value=Decimal("100000000")
    )
    pattern = re.compile(decimal_pattern(field))
    for good in ("0", "100000000", "100000000.00", "99999999.99", ".5", "12."):
        assert pattern.fullmatch(good), good
        assert field.run_validation(good) is not None
    for bad in ("", ".", "-1", "100000000.01", "123456789", "1e3", "1.234"):
        assert not pattern.fullmatch(bad), bad
    signed = serializers.DecimalField(max_digits=5, decimal_places=0)
    assert re.fullmatch(decimal_pattern(signed), "-12345")


@pytest.mark.parametrize(
    "text",
    [
        "sk-or-" + "a" * 14,
        "sk-or-" + "a" * 13,
        "sk-or-" + "a" * 194,
        "sk-or-" + "a" * 195,
        "  sk-or-v1-abcdefghijklmnop\n",
        "pk-or-v1-abcdefghijklmnop",
        "sk-or-v1-abc def ghijklmnop",
    ],
)
def test_the_key_pattern_matches_exactly_the_keys_the_validator_takes(text: str) -> None:
    try:
        openrouter_key_clean(text)
        valid = True
    except Exception:
        valid = False
    assert bool(re.fullmatch(KEY_PATTERN, text)) == valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("openai/gpt-4o-mini", True),
        ("openai/gpt-oss-120b:free", True),
        ("~anthropic/claude-sonnet-latest", True),
        ("a./b.", True),
        ("a..b/c", False),
        ("a/b..", False),
        ("openai/", False),
        ("/gpt", False),
    ],
)
def test_the_model_id_pattern_has_no_look_arounds_and_keeps_the_rule(text: str, valid: bool) -> None:
    assert "(?" not in MODEL_ID_PATTERN.replace("(?:", "")
    assert is_model_id(text) is valid
    assert bool(re.fullmatch(MODEL_ID_PATTERN, text)) is valid


def test_the_day_pattern_is_2000_to_2099() -> None:
    assert re.fullmatch(DAY_PATTERN, "2000-01-01")
    assert re.fullmatch(DAY_PATTERN, "2099-12-31")
    assert not re.fullmatch(DAY_PATTERN, "1999-12-31")
    assert not re.fullmatch(DAY_PATTERN, "2100-01-01")


def test_the_budget_takes_its_limit_as_decimal_text_or_null_and_its_threshold_as_a_number(
    api: APIClient,
) -> None:
    url = "/api/integrations/budget/"
    assert "monthly_limit_sek" in _fields(api.put(url, {"monthly_limit_sek": 100}, format="json"))
    assert "soft_threshold_percent" in _fields(
        api.put(url, {"monthly_limit_sek": "100", "soft_threshold_percent": "80"}, format="json")
    )
    assert api.put(url, {"monthly_limit_sek": None}, format="json").status_code == 200
    body = _schema(api)["components"]["schemas"]["BudgetRequest"]["properties"]["use_cases"]
    assert body["additionalProperties"] is False
    assert "chat" in body["properties"]


def test_a_blank_model_choice_matches_exactly_one_documented_branch(api: APIClient) -> None:
    branches = _schema(api)["components"]["schemas"]["AISettingsUpdateRequest"]["properties"]["default_model"]
    patterned, blank = branches["oneOf"]
    assert blank == {"type": "string", "maxLength": 0}
    assert not re.fullmatch(patterned["pattern"], "")
    assert re.fullmatch(patterned["pattern"], "  ")
    assert re.fullmatch(patterned["pattern"], " openai/gpt-4o ")
