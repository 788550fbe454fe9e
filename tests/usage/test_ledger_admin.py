from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tests.factories import AIUsageLogFactory

pytestmark = pytest.mark.django_db


# $0.00000885 at 10.5 SEK/USD: 0.0000929250 SEK, the long forms the admin must not print.
COST_USD = Decimal("0.00000885")


def test_ledger_admin_is_read_only_with_filters_and_search(
    staff_page: Client, user_a: Any, user_b: Any
) -> None:
    a = AIUsageLogFactory(user=user_a, generation_id="gen-1-aaaaaaaaaaaaaaaaaaaa", cost_usd=COST_USD)
    AIUsageLogFactory(user=user_b, generation_id="gen-2-bbbbbbbbbbbbbbbbbbbb", cost_usd=COST_USD)
    listing = staff_page.get("/admin/usage/aiusagelog/")
    assert listing.status_code == 200
    html = listing.content.decode()
    for name in ("provider", "status", "source", "cost_source", "use_case", "user"):
        assert f"{name}" in html
    found = staff_page.get("/admin/usage/aiusagelog/", {"q": "gen-1-aaaaaaaaaaaaaaaaaaaa"}).content.decode()
    assert "1 result" in found or "1 resultat" in found
    assert staff_page.get("/admin/usage/aiusagelog/add/").status_code == 403
    change = staff_page.post(f"/admin/usage/aiusagelog/{a.pk}/change/", {"cost_usd": "0"})
    assert change.status_code == 403
    assert staff_page.post(f"/admin/usage/aiusagelog/{a.pk}/delete/", {"post": "yes"}).status_code == 403
    a.refresh_from_db()
    assert a.cost_usd == COST_USD


def test_csv_export_has_every_selected_row_exactly(staff_page: Client, user_a: Any) -> None:
    rows = [
        AIUsageLogFactory(user=user_a, generation_id=f"gen-{n}-cccccccccccccccccccc", cost_usd=COST_USD)
        for n in range(3)
    ]
    response = staff_page.post(
        "/admin/usage/aiusagelog/",
        {
            "action": "export_csv",
            "_selected_action": [r.pk for r in rows[:2]],
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    data = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [d["generation_id"] for d in data] == ["gen-0-cccccccccccccccccccc", "gen-1-cccccccccccccccccccc"]
    assert data[0]["cost_usd"] == "0.000008850000"
    assert data[0]["cost_sek"].startswith("0.00009292500")


def test_ordinary_users_cannot_reach_the_ledger_admin(user_a: Any) -> None:
    client = Client()
    client.force_login(user_a)
    response = client.get("/admin/usage/aiusagelog/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_ledger_admin_shows_money_in_the_short_shared_form(staff_page: Client, user_a: Any) -> None:
    row = AIUsageLogFactory(user=user_a, generation_id="gen-3-dddddddddddddddddddd", cost_usd=COST_USD)
    listing = staff_page.get("/admin/usage/aiusagelog/", HTTP_ACCEPT_LANGUAGE="sv")
    detail = staff_page.get(f"/admin/usage/aiusagelog/{row.pk}/change/", HTTP_ACCEPT_LANGUAGE="sv")
    for response in (listing, detail):
        assert response.status_code == 200
        html = response.content.decode()
        assert "$0,0000089" in html
        assert "0,000093\u00a0kr" in html
        assert "0.0000929250" not in html
        assert "0,0000929250" not in html
        assert "0.000008850000" not in html
        assert "0,000008850000" not in html
    english = staff_page.get(
        f"/admin/usage/aiusagelog/{row.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "$0.0000089" in english
    assert "0.000093\u00a0kr" in english
