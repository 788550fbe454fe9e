from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tests.factories import BookingFactory, ROISettingsFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


def test_staff_see_every_tenants_settings_and_bookings(staff: Client, user_a: Any, user_b: Any) -> None:
    ROISettingsFactory(user=user_a, telephony_sek=Decimal("1234.50"))
    ROISettingsFactory(user=user_b, telephony_sek=Decimal("987.00"))
    BookingFactory(user=user_a, external_id="crm-alice")
    settings_page = staff.get("/admin/roi/roisettings/")
    bookings_page = staff.get("/admin/roi/booking/", {"q": "crm-alice"})
    assert (settings_page.status_code, bookings_page.status_code) == (200, 200)
    html = settings_page.content.decode()
    assert "alice" in html
    assert "bob" in html
    assert "1234.50" in html
    assert "0 of 1 selected" in bookings_page.content.decode()


def test_tenants_cannot_open_the_admin(user_a: Any) -> None:
    client = Client()
    client.force_login(user_a)
    response = client.get("/admin/roi/roisettings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
