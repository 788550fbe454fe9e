from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.api.viewsets import ScopedModelViewSet
from apps.roi.models import Booking
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_list_holds_only_the_users_rows(api_a: Any, user_a: Any, user_b: Any) -> None:
    mine = BookingFactory(user=user_a, external_id="a-1")
    BookingFactory(user=user_b, external_id="b-1")
    response = api_a.get("/api/roi/bookings/", {"user": user_b.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["external_id"] == "a-1"


def test_another_users_object_is_404_for_every_method(api_a: Any, user_b: Any) -> None:
    theirs = BookingFactory(user=user_b, value_sek="10.00")
    url = f"/api/roi/bookings/{theirs.pk}/"
    for method, payload in [
        ("get", None),
        ("put", {"date": "2026-01-01", "value_sek": "1"}),
        ("patch", {"value_sek": "1"}),
        ("delete", None),
    ]:
        response = getattr(api_a, method)(url, payload, format="json")
        assert response.status_code == 404, method
        error = response.json()["error"]
        assert error["code"] == "not_found"
        assert error["message"]
    theirs.refresh_from_db()
    assert str(theirs.value_sek) == "10.00"


def test_missing_and_foreign_ids_answer_the_same(api_a: Any, user_b: Any) -> None:
    theirs = BookingFactory(user=user_b)
    assert (
        api_a.get(f"/api/roi/bookings/{theirs.pk}/").json() == api_a.get("/api/roi/bookings/999999/").json()
    )


def test_owner_cannot_be_set_from_the_body(api_a: Any, user_a: Any, user_b: Any) -> None:
    response = api_a.post(
        "/api/roi/bookings/",
        {
            "date": "2026-11-02",
            "value_sek": "499.50",
            "external_id": "x-1",
            "user": user_b.pk,
            "user_id": user_b.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])
    assert booking.user_id == user_a.pk
    assert Booking.objects.filter(user=user_b).count() == 0


def test_update_cannot_move_a_row_to_another_owner(api_a: Any, user_a: Any, user_b: Any) -> None:
    mine = BookingFactory(user=user_a)
    response = api_a.patch(
        f"/api/roi/bookings/{mine.pk}/", {"user": user_b.pk, "value_sek": "5"}, format="json"
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.user_id == user_a.pk
    assert str(mine.value_sek) == "5.00"


def test_duplicate_external_id_is_a_clear_400(api_a: Any, user_a: Any, user_b: Any) -> None:
    BookingFactory(user=user_a, external_id="dup")
    BookingFactory(user=user_b, external_id="other")
    response = api_a.post(
        "/api/roi/bookings/", {"date": "2026-11-02", "value_sek": "1", "external_id": "dup"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "external_id" in response.json()["error"]["fields"]
    # Another tenant's external id is no clash.
    ok = api_a.post(
        "/api/roi/bookings/", {"date": "2026-11-02", "value_sek": "1", "external_id": "other"}, format="json"
    )
    assert ok.status_code == 201


def test_a_subclass_cannot_drop_the_filter() -> None:
    with pytest.raises(TypeError, match="bypass tenant scoping"):

        class Leaky(ScopedModelViewSet):  # pragma: no cover - the class statement itself must fail
            model = Booking

            def get_queryset(self) -> Any:
                return Booking.objects.all()

    with pytest.raises(TypeError, match="perform_create"):

        class OwnerFromBody(ScopedModelViewSet):  # pragma: no cover
            model = Booking

            def perform_create(self, serializer: Any) -> None:
                serializer.save()


def test_list_query_count_is_pinned(api_a: Any, user_a: Any) -> None:
    BookingFactory.create_batch(5, user=user_a)
    with CaptureQueriesContext(connection) as small:
        api_a.get("/api/roi/bookings/")
    BookingFactory.create_batch(20, user=user_a)
    with CaptureQueriesContext(connection) as large:
        response = api_a.get("/api/roi/bookings/")
    assert response.json()["count"] == 25
    assert len(large) == len(small) <= 3


def test_anonymous_is_401(db: Any) -> None:
    from rest_framework.test import APIClient

    response = APIClient().get("/api/roi/bookings/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
