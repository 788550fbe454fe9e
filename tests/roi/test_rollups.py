"""The bookings-per-day rollup the report reads stays equal to the bookings after every kind of write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Count, Sum
from django.test import Client
from rest_framework.test import APIClient

from apps.roi.models import Booking, BookingDay
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def _from_bookings() -> set[tuple[Any, ...]]:
    rows = Booking.objects.values("user_id", "date").annotate(n=Count("id"), total=Sum("value_sek"))
    return {(r["user_id"], r["date"], r["n"], r["total"]) for r in rows}


def _rollup() -> set[tuple[Any, ...]]:
    return set(BookingDay.objects.values_list("user_id", "date", "bookings", "revenue_sek"))


def test_every_api_write_keeps_the_rollup(api_a: APIClient, user_a: Any, user_b: Any) -> None:
    BookingFactory(user=user_b, date=dt.date(2026, 11, 2), value_sek=Decimal(7))
    created = api_a.post(
        "/api/roi/bookings/", {"date": "2026-11-02", "value_sek": "10"}, format="json"
    ).json()
    api_a.put("/api/roi/bookings/by-external-id/p1/", {"date": "2026-11-02", "value_sek": "5"}, format="json")
    api_a.post(
        "/api/roi/bookings/bulk/",
        {
            "bookings": [
                {"external_id": "p1", "date": "2026-11-04", "value_sek": "6"},
                {"external_id": "p2", "date": "2026-11-05", "value_sek": "1.5"},
            ]
        },
        format="json",
    )
    api_a.patch(f"/api/roi/bookings/{created['id']}/", {"date": "2026-11-03"}, format="json")
    assert _rollup() == _from_bookings()
    assert (user_a.pk, dt.date(2026, 11, 2), 1, Decimal(7)) not in _rollup()  # that is bob's day
    api_a.delete(f"/api/roi/bookings/{created['id']}/")
    assert (
        _rollup()
        == _from_bookings()
        == {
            (user_b.pk, dt.date(2026, 11, 2), 1, Decimal(7)),
            (user_a.pk, dt.date(2026, 11, 4), 1, Decimal(6)),
            (user_a.pk, dt.date(2026, 11, 5), 1, Decimal("1.5")),
        }
    )


def test_page_upload_and_admin_writes_keep_the_rollup(user_a: Any, admin_user: Any) -> None:
    page = Client()
    page.force_login(user_a)
    page.post("/dashboard/settings/", {"date": "2026-11-20", "value_sek": "100"})
    page.post(
        "/dashboard/settings/",
        {
            "form": "upload",
            "file": SimpleUploadedFile("b.csv", b"date,value_sek,external_id\n2026-11-20,50,u1\n"),
        },
    )
    assert _rollup() == _from_bookings() == {(user_a.pk, dt.date(2026, 11, 20), 2, Decimal(150))}
    staff = Client()
    staff.force_login(admin_user)
    booking = Booking.objects.get(external_id="u1")
    staff.post(
        f"/admin/roi/booking/{booking.pk}/change/",
        {"user": user_a.pk, "date": "2026-11-21", "value_sek": "55", "external_id": "u1", "description": ""},
    )
    assert (
        _rollup()
        == _from_bookings()
        == {
            (user_a.pk, dt.date(2026, 11, 20), 1, Decimal(100)),
            (user_a.pk, dt.date(2026, 11, 21), 1, Decimal(55)),
        }
    )
    staff.post(
        "/admin/roi/booking/",
        {
            "action": "delete_selected",
            "_selected_action": [b.pk for b in Booking.objects.all()],
            "post": "yes",
        },
    )
    assert Booking.objects.count() == 0
    assert _rollup() == set()


def test_rebuild_recomputes_and_running_it_twice_changes_nothing(user_a: Any) -> None:
    BookingFactory(user=user_a, date=dt.date(2026, 1, 1), value_sek=Decimal(3))
    BookingFactory(user=user_a, date=dt.date(2026, 1, 1), value_sek=Decimal(4))
    BookingDay.objects.all().update(revenue_sek=Decimal(999))  # drifted
    call_command("rebuild_roi_rollups", stdout=None)
    first = _rollup()
    call_command("rebuild_roi_rollups", user_id=user_a.pk)
    assert first == _rollup() == _from_bookings() == {(user_a.pk, dt.date(2026, 1, 1), 2, Decimal(7))}
