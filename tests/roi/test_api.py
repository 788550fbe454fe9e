"""The ROI API: settings, idempotent booking pushes, bulk, filters, the report and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.core.models import AuditAction, AuditEvent
from apps.roi.models import Booking, ROISettings
from tests.factories import BookingFactory, LedgerRowFactory, ROISettingsFactory

pytestmark = pytest.mark.django_db

D = Decimal
SETTINGS_ZERO = {
    "telephony_sek": "0.00",
    "sms_sek": "0.00",
    "email_sek": "0.00",
    "support_sek": "0.00",
    "integration_cost_sek": "0.00",
    "integration_start": None,
    "updated_at": None,
}


@pytest.fixture(autouse=True)
def _english(api_a: APIClient, api_b: APIClient) -> None:
    """Messages in English (the product's default language is Swedish)."""
    api_a.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    api_b.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


# --- settings -----------------------------------------------------------------------------------


def test_settings_default_to_zero_before_anything_is_saved(api_a: APIClient) -> None:
    response = api_a.get("/api/roi/settings/")
    assert response.status_code == 200
    body = response.json()
    assert {**body, "updated_at": None} == SETTINGS_ZERO
    assert ROISettings.objects.count() == 0


def test_put_settings_saves_and_audits_each_real_change_once(api_a: APIClient, user_a: Any) -> None:
    values = {"telephony_sek": "1200.50", "support_sek": "990", "integration_start": "2026-03-05"}
    first = api_a.put("/api/roi/settings/", values, format="json")
    again = api_a.put("/api/roi/settings/", values, format="json")
    assert (first.status_code, again.status_code) == (200, 200)
    body = first.json()
    assert body["updated_at"]
    assert {**body, "updated_at": None} == {
        **SETTINGS_ZERO,
        "telephony_sek": "1200.50",
        "support_sek": "990.00",
        "integration_start": "2026-03-05",
    }
    row = ROISettings.objects.get()
    assert (row.user_id, row.telephony_sek, row.support_sek) == (user_a.pk, D("1200.50"), D(990))
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_id, event.user_id, event.target) == (
        AuditAction.SETTINGS_CHANGED,
        user_a.pk,
        user_a.pk,
        "roi_settings",
    )
    assert event.detail == {
        "changed": {
            "telephony_sek": ["0.00", "1200.50"],
            "support_sek": ["0.00", "990.00"],
            "integration_start": [None, "2026-03-05"],
        }
    }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sms_sek": "-1"}, "sms_sek"),
        ({"email_sek": "10000000.01"}, "email_sek"),
        ({"integration_cost_sek": "1e12"}, "integration_cost_sek"),
        ({"support_sek": "abc"}, "support_sek"),
        ({"integration_start": "2026-02-30"}, "integration_start"),
        ({"integration_start": "9999-12-31"}, "integration_start"),
    ],
)
def test_bad_settings_are_a_400_and_change_nothing(
    api_a: APIClient, values: dict[str, str], field: str
) -> None:
    response = api_a.put("/api/roi/settings/", values, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert body["error"]["message"] == "Invalid input."
    assert list(body["error"]["fields"]) == [field]
    assert ROISettings.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_settings_are_per_user(api_a: APIClient, api_b: APIClient, user_b: Any) -> None:
    ROISettingsFactory(user=user_b, telephony_sek=D(500))
    assert api_a.get("/api/roi/settings/").json()["telephony_sek"] == "0.00"
    api_a.put("/api/roi/settings/", {"telephony_sek": "1"}, format="json")
    assert api_b.get("/api/roi/settings/").json()["telephony_sek"] == "500.00"
    assert ROISettings.objects.get(user=user_b).telephony_sek == D(500)


# --- bookings -----------------------------------------------------------------------------------


def test_pushing_the_same_external_id_twice_leaves_one_booking(api_a: APIClient, user_a: Any) -> None:
    url = "/api/roi/bookings/by-external-id/crm-42/"
    body = {"date": "2026-11-20", "value_sek": "1500.00", "description": "Färg"}
    first = api_a.put(url, body, format="json")
    second = api_a.put(url, body, format="json")
    changed = api_a.put(url, {**body, "value_sek": "1750"}, format="json")
    assert (first.status_code, second.status_code, changed.status_code) == (201, 200, 200)
    booking = Booking.objects.get()
    assert first.json() == {
        "id": booking.pk,
        "date": "2026-11-20",
        "value_sek": "1500.00",
        "external_id": "crm-42",
        "description": "Färg",
        "created_at": first.json()["created_at"],
        "updated_at": first.json()["updated_at"],
    }
    assert second.json()["value_sek"] == "1500.00"
    assert changed.json()["value_sek"] == "1750.00"
    assert (booking.user_id, booking.external_id, booking.value_sek) == (user_a.pk, "crm-42", D(1750))


def test_another_users_external_id_is_a_separate_booking(api_a: APIClient, user_b: Any) -> None:
    theirs = BookingFactory(user=user_b, external_id="same", value_sek=D(1))
    response = api_a.put(
        "/api/roi/bookings/by-external-id/same/", {"date": "2026-11-20", "value_sek": "9"}, format="json"
    )
    assert response.status_code == 201
    theirs.refresh_from_db()
    assert theirs.value_sek == D(1)
    assert Booking.objects.filter(external_id="same").count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2026-11-20", "value_sek": "-1"},
        {"date": "2026-11-20", "value_sek": "100000000.01"},
        {"date": "20-11-2026", "value_sek": "1"},
        {"date": "9999-12-31", "value_sek": "1"},
        {"value_sek": "1"},
        [],
    ],
)
def test_bad_pushes_are_a_400(api_a: APIClient, body: Any) -> None:
    response = api_a.put("/api/roi/bookings/by-external-id/x/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("external_id", ["%20%20", "x" * 101, "a%00b"])
def test_a_bad_external_id_in_the_url_is_a_400(api_a: APIClient, external_id: str) -> None:
    response = api_a.put(
        f"/api/roi/bookings/by-external-id/{external_id}/",
        {"date": "2026-11-20", "value_sek": "1"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert list(body["error"]["fields"]) == ["external_id"]
    assert Booking.objects.count() == 0


def test_posting_a_used_external_id_points_to_the_idempotent_put(api_a: APIClient, user_a: Any) -> None:
    BookingFactory(user=user_a, external_id="dup")
    response = api_a.post(
        "/api/roi/bookings/", {"date": "2026-11-20", "value_sek": "1", "external_id": "dup"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Invalid input.",
            "fields": {
                "external_id": [
                    "A booking with this external id already exists: use PUT /api/roi/bookings/by-external-id/."
                ]
            },
        }
    }


def test_bulk_reports_per_item_and_saves_the_valid_ones(api_a: APIClient, user_a: Any) -> None:
    existing = BookingFactory(user=user_a, external_id="b", date=dt.date(2026, 11, 1), value_sek=D(10))
    unchanged = BookingFactory(user=user_a, external_id="c", date=dt.date(2026, 11, 1), value_sek=D(5))
    items = [
        {"external_id": "a", "date": "2026-11-02", "value_sek": "100"},
        {"external_id": "b", "date": "2026-11-01", "value_sek": "20"},
        {"external_id": "c", "date": "2026-11-01", "value_sek": "5.00", "description": ""},
        {"external_id": "d", "date": "2026-11-02", "value_sek": "-3"},
        {"external_id": "a", "date": "2026-11-03", "value_sek": "1"},
        "not an object",
    ]
    response = api_a.post("/api/roi/bookings/bulk/", {"bookings": items}, format="json")
    assert response.status_code == 200
    created = Booking.objects.get(external_id="a")
    assert response.json() == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "rejected": 3,
        "items": [
            {"index": 0, "external_id": "a", "status": "created", "id": created.pk},
            {"index": 1, "external_id": "b", "status": "updated", "id": existing.pk},
            {"index": 2, "external_id": "c", "status": "unchanged", "id": unchanged.pk},
            {
                "index": 3,
                "external_id": "d",
                "status": "rejected",
                "errors": {"value_sek": ["Ensure this value is greater than or equal to 0."]},
            },
            {
                "index": 4,
                "external_id": "a",
                "status": "rejected",
                "errors": {"external_id": ["This external id appears earlier in the same request."]},
            },
            {
                "index": 5,
                "external_id": None,
                "status": "rejected",
                "errors": {"non_field_errors": ["Each booking must be a JSON object."]},
            },
        ],
    }
    assert sorted(Booking.objects.values_list("external_id", "value_sek")) == [
        ("a", D(100)),
        ("b", D(20)),
        ("c", D(5)),
    ]


def test_bulk_of_a_thousand_takes_a_few_queries_and_over_a_thousand_is_refused(api_a: APIClient) -> None:
    items = [{"external_id": f"e{n}", "date": "2026-11-02", "value_sek": "1"} for n in range(1000)]
    with CaptureQueriesContext(connection) as queries:
        response = api_a.post("/api/roi/bookings/bulk/", {"bookings": items}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 1000
    # The tenant lock, one read, one bulk insert (which SQLite splits by its parameter limit,
    # PostgreSQL does not) and the rollup of the one touched day: not one query per booking.
    assert len(queries) <= 16
    too_many = api_a.post("/api/roi/bookings/bulk/", {"bookings": [*items, items[0]]}, format="json")
    assert too_many.status_code == 400
    assert list(too_many.json()["error"]["fields"]) == ["bookings"]
    assert Booking.objects.count() == 1000


def test_list_filters_by_date_and_shows_only_my_bookings(api_a: APIClient, user_a: Any, user_b: Any) -> None:
    for day in (1, 5, 9):
        BookingFactory(user=user_a, date=dt.date(2026, 11, day), external_id=f"m{day}")
    BookingFactory(user=user_b, date=dt.date(2026, 11, 5), external_id="theirs")
    response = api_a.get("/api/roi/bookings/", {"start": "2026-11-02", "end": "2026-11-09"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [b["external_id"] for b in body["results"]] == ["m9", "m5"]


@pytest.mark.parametrize(
    "query", [{"start": "2026-11-09", "end": "2026-11-01"}, {"start": "nope"}, {"end": "9999-12-31"}]
)
def test_bad_list_filters_are_a_400(api_a: APIClient, query: dict[str, str]) -> None:
    response = api_a.get("/api/roi/bookings/", query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_another_users_booking_is_a_404(api_a: APIClient, user_b: Any) -> None:
    theirs = BookingFactory(user=user_b)
    assert api_a.get(f"/api/roi/bookings/{theirs.pk}/").status_code == 404
    assert api_a.delete(f"/api/roi/bookings/{theirs.pk}/").status_code == 404
    assert Booking.objects.filter(pk=theirs.pk).exists()


# --- report -------------------------------------------------------------------------------------


def _guide_example(user: Any) -> None:
    """The guide's row: 5 bookings, revenue 25 000, costs 3 500 of which AI 250 (all OpenRouter)."""
    ROISettingsFactory(
        user=user, telephony_sek=D(31000), sms_sek=D(15500), email_sek=D(15500), support_sek=D(38750)
    )
    for n in range(5):
        BookingFactory(user=user, date=dt.date(2025, 1, 1), value_sek=D(5000), external_id=f"g{n}")
    LedgerRowFactory(user=user, created_at=dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC), cost_sek=D(250))


def test_the_report_for_the_guides_example(api_a: APIClient, user_a: Any, user_b: Any) -> None:
    _guide_example(user_a)
    BookingFactory(user=user_b, date=dt.date(2025, 1, 1), value_sek=D(999))
    response = api_a.get("/api/roi/report/", {"start": "2025-01-01", "end": "2025-01-01"})
    assert response.status_code == 200
    assert response.json() == {
        "start": "2025-01-01",
        "end": "2025-01-01",
        "days": 1,
        "bookings": 5,
        "revenue": "25000.00",
        "fixed": {
            "telephony": "1000.00",
            "sms": "500.00",
            "email": "500.00",
            "support": "1250.00",
            "integration": "0.00",
            "total": "3250.00",
        },
        "ai_cost": "250.00",
        "openrouter_cost": "250.00",
        "unpriced_calls": 0,
        "total_cost": "3500.00",
        "profit": "21500.00",
        "roi_percent": "614.29",
        "ai_share_percent": "7.14",
        "ai_by_use_case": [{"use_case": "chat", "total_sek": "250.00", "calls": 1, "unpriced": 0}],
        "months": [
            {
                "month": "2025-01-01",
                "revenue": "25000.00",
                "fixed_cost": "3250.00",
                "ai_cost": "250.00",
                "total_cost": "3500.00",
                "profit": "21500.00",
            }
        ],
        "break_even": {"reached": True, "month": "2025-01-01", "months": 1},
        "projections": [
            {
                "months": 12,
                "revenue": "9125000.00",
                "costs": "1277500.00",
                "profit": "7847500.00",
                "roi_percent": "614.29",
            },
            {
                "months": 24,
                "revenue": "18250000.00",
                "costs": "2555000.00",
                "profit": "15695000.00",
                "roi_percent": "614.29",
            },
            {
                "months": 36,
                "revenue": "27375000.00",
                "costs": "3832500.00",
                "profit": "23542500.00",
                "roi_percent": "614.29",
            },
        ],
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-02-01", "end": "2026-01-01"}, "start"),
        ({"start": "2010-01-01", "end": "2020-01-02"}, "end"),
        ({"start": "2026-13-01"}, "start"),
        ({"start": "1999-12-31", "end": "2000-01-01"}, "start"),
        ({"preset": "forever"}, "preset"),
    ],
)
def test_bad_periods_are_a_400_on_report_and_export(
    api_a: APIClient, query: dict[str, str], field: str
) -> None:
    for url, accept in (("/api/roi/report/", "application/json"), ("/api/roi/export.csv", "text/csv")):
        response = api_a.get(url, query, HTTP_ACCEPT=accept)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["error"]["code"] == "invalid"
        assert list(body["error"]["fields"]) == [field]


def test_ten_years_is_allowed(api_a: APIClient) -> None:
    response = api_a.get("/api/roi/report/", {"start": "2016-01-01", "end": "2025-12-31"})
    assert response.status_code == 200
    assert response.json()["days"] == 3653


# --- export -------------------------------------------------------------------------------------

SV_HEADER = [
    "Datum",
    "Bokningar",
    "Intäkter (SEK)",
    "Kostnader (SEK)",
    "AI-kostnad (SEK)",
    "OpenRouter-kostnad (SEK)",
    "Vinst (SEK)",
    "ROI (%)",
]


def _csv(response: Any) -> tuple[str, list[list[str]]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_export_streams_the_guides_row_with_swedish_headers(api_a: APIClient, user_a: Any) -> None:
    _guide_example(user_a)
    response = api_a.get(
        "/api/roi/export.csv", {"start": "2025-01-01", "end": "2025-01-02"}, HTTP_ACCEPT_LANGUAGE="sv"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="roi-2025-01-01-2025-01-02.csv"'
    assert response.streaming
    text, rows = _csv(response)
    assert text.startswith("\ufeffDatum,")
    assert rows == [
        SV_HEADER,
        ["2025-01-01", "5", "25000.00", "3500.00", "250.00", "250.00", "21500.00", "614.29"],
        ["2025-01-02", "0", "0.00", "3250.00", "0.00", "0.00", "-3250.00", "-100.00"],
    ]


def test_the_export_has_english_headers_in_english(api_a: APIClient) -> None:
    response = api_a.get(
        "/api/roi/export.csv", {"start": "2025-01-01", "end": "2025-01-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    _, rows = _csv(response)
    assert rows == [
        [
            "Date",
            "Bookings",
            "Revenue (SEK)",
            "Costs (SEK)",
            "AI cost (SEK)",
            "OpenRouter cost (SEK)",
            "Profit (SEK)",
            "ROI (%)",
        ],
        ["2025-01-01", "0", "0.00", "0.00", "0.00", "0.00", "0.00", ""],
    ]


def test_a_three_year_export_sums_to_the_report(api_a: APIClient, user_a: Any, user_b: Any) -> None:
    ROISettingsFactory(
        user=user_a,
        telephony_sek=D("999.99"),
        sms_sek=D("333.33"),
        email_sek=D(7),
        support_sek=D("1234.56"),
        integration_cost_sek=D(25000),
        integration_start=dt.date(2024, 2, 29),
    )
    for n, day in enumerate([dt.date(2023, 1, 1), dt.date(2024, 2, 29), dt.date(2025, 12, 31)]):
        BookingFactory(user=user_a, date=day, value_sek=D("1234.57") * (n + 1), external_id=f"x{n}")
        LedgerRowFactory(
            user=user_a, created_at=dt.datetime.combine(day, dt.time(8), dt.UTC), cost_sek=D("0.123456")
        )
        LedgerRowFactory(
            user=user_a,
            created_at=dt.datetime.combine(day, dt.time(9), dt.UTC),
            cost_sek=D("1.5"),
            provider="system",
        )
    BookingFactory(user=user_b, date=dt.date(2024, 1, 1), value_sek=D(1000000))
    query = {"start": "2023-01-01", "end": "2025-12-31"}
    report = api_a.get("/api/roi/report/", query).json()
    _, rows = _csv(api_a.get("/api/roi/export.csv", query))
    body = rows[1:]
    assert len(body) == 1096
    column = {name: sum(D(r[i]) for r in body) for i, name in enumerate(SV_HEADER) if i >= 2}
    assert sum(int(r[1]) for r in body) == report["bookings"] == 3
    assert str(column["Intäkter (SEK)"]) == report["revenue"]
    assert str(column["Kostnader (SEK)"]) == report["total_cost"]
    assert str(column["AI-kostnad (SEK)"]) == report["ai_cost"] == "4.87"
    assert str(column["OpenRouter-kostnad (SEK)"]) == report["openrouter_cost"] == "0.37"
    assert str(column["Vinst (SEK)"]) == report["profit"]
    leap = next(r for r in body if r[0] == "2024-02-29")
    assert D(leap[3]) > D(25000)  # the integration cost falls on its start date


def test_the_export_body_is_a_lazy_generator(api_a: APIClient, user_a: Any) -> None:
    response = api_a.get("/api/roi/export.csv", {"start": "2016-01-01", "end": "2025-12-31"})
    content = response.streaming_content
    with CaptureQueriesContext(connection) as queries:
        first = next(iter(content))
    assert first.startswith("\ufeff".encode())
    assert len(queries) <= 1  # the header comes before any month is read


@pytest.mark.parametrize(
    "url", ["/api/roi/settings/", "/api/roi/report/", "/api/roi/export.csv", "/api/roi/bookings/"]
)
def test_anonymous_is_401(db: Any, url: str) -> None:
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert APIClient().put("/api/roi/settings/", {"sms_sek": 1}, format="json").status_code == 401
    assert APIClient().post("/api/roi/bookings/bulk/", {"bookings": []}, format="json").status_code == 401
    assert APIClient().put("/api/roi/bookings/by-external-id/x/", {}, format="json").status_code == 401
