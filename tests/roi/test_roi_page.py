from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.roi.models import Booking
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_adding_a_booking_stores_it_for_me(page_a: Client, user_a: Any) -> None:
    response = page_a.post(
        "/dashboard/settings/",
        {
            "date": "2026-11-20",
            "value_sek": "1500.00",
            "description": "Klippning + färg",
            "external_id": "b-1",
        },
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.user_id, str(booking.value_sek), booking.external_id) == (user_a.pk, "1500.00", "b-1")
    html = page_a.get("/dashboard/settings/?tab=roi").content.decode()
    assert "Klippning + färg" in html


def test_the_page_lists_only_my_bookings(page_a: Client, user_a: Any, user_b: Any) -> None:
    BookingFactory(user=user_a, description="mine")
    BookingFactory(user=user_b, description="bobs secret booking")
    html = page_a.get("/dashboard/settings/").content.decode()
    assert "mine" in html
    assert "bobs secret booking" not in html


def test_invalid_bookings_are_refused_with_field_errors(page_a: Client, user_a: Any) -> None:
    BookingFactory(user=user_a, external_id="dup")
    response = page_a.post("/dashboard/settings/", {"date": "", "value_sek": "-5", "external_id": "dup"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="errorlist') >= 3
    assert Booking.objects.count() == 1


def test_another_users_external_id_is_no_clash(page_a: Client, user_b: Any) -> None:
    BookingFactory(user=user_b, external_id="shared")
    response = page_a.post(
        "/dashboard/settings/", {"date": "2026-11-20", "value_sek": "1", "external_id": "shared"}
    )
    assert response.status_code == 302
    assert Booking.objects.filter(external_id="shared").count() == 2
