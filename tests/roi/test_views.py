"""ROI pages: the settings tab (fixed costs, bookings, CSV upload) and the ROI report."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.core.models import AuditEvent
from apps.roi.models import Booking, ROISettings
from tests.factories import BookingFactory, LedgerRowFactory, ROISettingsFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def page_a(user_a: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(user_a)
    return client


def _upload(client: Client, content: bytes, name: str = "bookings.csv") -> Any:
    return client.post(
        "/dashboard/settings/", {"form": "upload", "file": SimpleUploadedFile(name, content, "text/csv")}
    )


# --- settings tab -------------------------------------------------------------------------------


def test_the_settings_form_takes_a_swedish_decimal_comma(page_a: Client, user_a: Any) -> None:
    response = page_a.post(
        "/dashboard/settings/",
        {
            "form": "settings",
            "telephony_sek": "1 250,50",
            "sms_sek": "99,9",
            "email_sek": "0",
            "support_sek": "1500.25",
            "integration_cost_sek": "25\u00a0000",
            "integration_start": "2026-03-05",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/settings/?tab=roi"
    row = ROISettings.objects.get()
    assert (row.user_id, row.telephony_sek, row.sms_sek, row.support_sek, row.integration_cost_sek) == (
        user_a.pk,
        D("1250.50"),
        D("99.90"),
        D("1500.25"),
        D(25000),
    )
    assert row.integration_start == dt.date(2026, 3, 5)
    assert AuditEvent.objects.get().detail["changed"]["telephony_sek"] == ["0.00", "1250.50"]
    html = page_a.get("/dashboard/settings/?tab=roi").content.decode()
    assert 'value="1250,50"' in html  # shown back with the Swedish decimal comma


@pytest.mark.parametrize("amount", ["-1", "10000000,01", "tolv", "1,234,5"])
def test_bad_amounts_are_refused_with_a_field_error(page_a: Client, amount: str) -> None:
    response = page_a.post(
        "/dashboard/settings/",
        {
            "form": "settings",
            "telephony_sek": amount,
            "sms_sek": "0",
            "email_sek": "0",
            "support_sek": "0",
            "integration_cost_sek": "0",
        },
    )
    assert response.status_code == 200
    assert response.content.decode().count('class="errorlist') == 1
    assert ROISettings.objects.count() == 0


def test_the_tab_says_openrouter_costs_are_included_and_links_the_dashboard(
    page_a: Client, user_a: Any
) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), tick=False):
        LedgerRowFactory(user=user_a, created_at=dt.datetime(2026, 11, 3, tzinfo=dt.UTC), cost_sek=D("12.50"))
        html = page_a.get("/dashboard/settings/?tab=roi").content.decode()
    assert "OpenRouter-kostnader ingår automatiskt" in html
    assert 'href="/dashboard/openrouter/"' in html
    assert '<dd id="ai-cost-month">12,50\u00a0kr</dd>' in html


def test_bookings_are_paged_and_only_mine(page_a: Client, user_a: Any, user_b: Any) -> None:
    for n in range(30):
        BookingFactory(
            user=user_a, date=dt.date(2026, 1, 1) + dt.timedelta(days=n), description=f"mine-{n:02d}"
        )
    BookingFactory(user=user_b, description="bobs secret booking")
    first = page_a.get("/dashboard/settings/?tab=roi").content.decode()
    second = page_a.get("/dashboard/settings/?tab=roi&page=2").content.decode()
    assert "mine-29" in first
    assert "mine-05" in first
    assert "mine-04" not in first
    assert "mine-04" in second
    assert "mine-00" in second
    assert "mine-05" not in second
    assert "Sida 1 av 2" in first
    assert "bobs secret booking" not in first + second


def test_an_upload_imports_every_line_and_again_changes_nothing(page_a: Client, user_a: Any) -> None:
    content = (
        "datum;värde;externt id;beskrivning\n2026-11-02;1 500,50;crm-1;Färg\n2026-11-03;200;;Klipp\n"
    ).encode()
    first = _upload(page_a, content)
    assert first.status_code == 302
    again = _upload(page_a, b"date,value_sek,external_id\n2026-11-02,1500.50,crm-1\n")
    assert again.status_code == 302
    rows = sorted(Booking.objects.values_list("user_id", "date", "value_sek", "external_id", "description"))
    assert rows == [
        (user_a.pk, dt.date(2026, 11, 2), D("1500.50"), "crm-1", ""),
        (user_a.pk, dt.date(2026, 11, 3), D(200), None, "Klipp"),
    ]


def test_an_upload_with_bad_lines_imports_nothing_and_reports_each_line(page_a: Client) -> None:
    content = (
        b"date,value_sek,external_id\n"
        b"2026-11-02,100,a\n"
        b"2026-02-30,100,b\n"
        b"2026-11-02,-5,c\n"
        b"2026-11-02,1.234,d\n"
        b"2026-11-02,7,a\n"
    )
    response = _upload(page_a, content)
    assert response.status_code == 400
    html = response.content.decode()
    assert "4 rader avvisades; ingenting importerades." in html
    for line, reason in [
        (3, "”2026-02-30” är inget datum (ÅÅÅÅ-MM-DD)."),
        (4, "Beloppet måste ligga mellan 0 och 100000000 SEK."),
        (5, "Ett belopp har högst två decimaler."),
        (6, "Det externa id:t finns också på rad 2."),
    ]:
        assert f'<td class="num">{line}</td>\n                  <td>{reason}</td>' in html
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("date,value_sek\n2026-11-02,100\n".encode("utf-16"), "Filen är inte UTF-8-text."),
        ("datum,värde\n2026-11-02,100\n".encode("latin-1"), "Filen är inte UTF-8-text."),
        (b"when,amount\n2026-11-02,100\n", "Kolumner saknas: date, value_sek."),
        (b"date,value_sek\n", "Filen har inga bokningar under rubrikraden."),
        (b"date,value_sek\n" + b"2026-11-02,1\n" * 100_000, "Filen har fler än 10000 rader: dela upp den."),
        (b'date,value_sek\n2026-11-02,"' + b"x" * 200_000 + b'"\n', "Filen är inte giltig CSV"),
    ],
)
def test_unreadable_uploads_are_a_400_with_a_clear_message(
    page_a: Client, content: bytes, message: str
) -> None:
    response = _upload(page_a, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Booking.objects.count() == 0


def test_an_upload_over_two_megabytes_is_refused(page_a: Client) -> None:
    response = _upload(page_a, b"date,value_sek\n" + b"2026-11-02,1," + b"x" * (2 * 1024 * 1024) + b"\n")
    assert response.status_code == 400
    assert "Filen är för stor (högst 2 MB)." in response.content.decode()
    assert Booking.objects.count() == 0


# --- the report page ----------------------------------------------------------------------------


def test_the_report_page_shows_the_guides_example(page_a: Client, user_a: Any, user_b: Any) -> None:
    ROISettingsFactory(
        user=user_a, telephony_sek=D(31000), sms_sek=D(15500), email_sek=D(15500), support_sek=D(38750)
    )
    for n in range(5):
        BookingFactory(user=user_a, date=dt.date(2025, 1, 1), value_sek=D(5000), external_id=f"g{n}")
    LedgerRowFactory(user=user_a, created_at=dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC), cost_sek=D(250))
    BookingFactory(user=user_b, date=dt.date(2025, 1, 1), value_sek=D(777777))
    response = page_a.get("/dashboard/roi/", {"start": "2025-01-01", "end": "2025-01-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="stat" id="roi-revenue">25\xa0000,00\xa0kr</div>' in html
    assert '<div class="stat" id="roi-cost">3\xa0500,00\xa0kr</div>' in html
    assert '<div class="stat" id="roi-profit">21\xa0500,00\xa0kr</div>' in html
    assert "614,29 %" in html
    assert '<td class="num" id="roi-ai">250,00\xa0kr</td>' in html
    assert '<td class="num muted" id="roi-openrouter">250,00\xa0kr</td>' in html
    assert "7,14 % av driftkostnaden" in html
    assert 'href="/api/roi/export.csv?start=2025-01-01&amp;end=2025-01-01"' in html
    assert "777" not in html
    assert '"revenue": [25000.0]' in html
    assert '"ai": [250.0]' in html


def test_the_report_is_in_the_navigation_and_presets_pick_the_period(page_a: Client) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        html = page_a.get("/dashboard/roi/", {"preset": "last_month"}).content.decode()
    assert 'href="/dashboard/roi/"' in html
    assert "ROI-rapport" in html
    assert 'name="start" value="2026-02-01"' in html
    assert 'name="end" value="2026-02-28"' in html
    assert 'href="?preset=this_year"' in html
    landing = page_a.get("/dashboard/").content.decode()
    assert '<a class="card" href="/dashboard/roi/">' in landing
    assert "Nås inte" not in html  # no integration cost: break-even is immediate


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-03-01", "end": "2026-02-01"},
        {"start": "2000-01-01", "end": "2026-01-01"},
        {"start": "x"},
    ],
)
def test_a_bad_period_is_a_400_with_the_reason_beside_the_picker(
    page_a: Client, query: dict[str, str]
) -> None:
    response = page_a.get("/dashboard/roi/", query)
    assert response.status_code == 400
    assert 'id="period-error"' in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(db: Any) -> None:
    for url in ("/dashboard/roi/", "/dashboard/settings/?tab=roi"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    response = Client().post("/dashboard/settings/", {"form": "settings", "telephony_sek": "1"})
    assert response.status_code == 302
    assert ROISettings.objects.count() == 0


# --- sync adjustments are spend, not calls --------------------------------------------------------


def _synced(user: Any, days: list[dt.date], usd: Decimal) -> None:
    """Sync adjustments (spend OpenRouter billed outside the gateway), written by the sync's service."""
    from apps.usage.services import Adjustment, TokenCounts, usage_adjustments_write

    for day in days:
        usage_adjustments_write(
            user=user,
            day=day,
            adjustments={
                "openai/gpt-4o-mini": Adjustment(usd, TokenCounts(prompt=10, completion=5)),
                "outside/model": Adjustment(usd, TokenCounts(prompt=10, completion=5)),
            },
        )


def test_synced_spend_is_its_own_use_case_with_no_calls(page_a: Client, user_a: Any, user_b: Any) -> None:
    """Two real generic calls and ten days of adjustments: "Generic prompt: 2 calls", the synced
    spend beside it under its own label, every krona of it in the AI cost; another tenant's none."""
    from apps.usage.models import AIUsageLog

    when = dt.datetime(2025, 1, 5, 9, tzinfo=dt.UTC)
    LedgerRowFactory(user=user_a, created_at=when, cost_sek=D(3), use_case="generic")
    LedgerRowFactory(user=user_a, created_at=when, cost_sek=D(4), use_case="generic")
    days = [dt.date(2025, 1, n) for n in range(1, 11)]
    _synced(user_a, days, D("0.5"))
    _synced(user_b, days, D("99"))
    synced_sek = sum(
        (r.cost_sek for r in AIUsageLog.objects.filter(user=user_a, source="activity_sync")), D(0)
    )
    assert AIUsageLog.objects.filter(user=user_a, source="activity_sync").count() == 20
    html = page_a.get("/dashboard/roi/", {"start": "2025-01-01", "end": "2025-01-31"}).content.decode()
    table = html.split('id="roi-use-cases"')[1].split("</table>")[0]
    rows = [
        (label.strip(), calls, cost.replace("\xa0", " "))
        for label, calls, cost in re.findall(
            r"<td>([^<]+)</td>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"num\">([^<]+)</td>", table
        )
    ]
    synced_text = f"{synced_sek:.2f}".replace(".", ",")
    assert rows == [
        ("Synkat från OpenRouter (utanför gatewayen)", "0", f"{synced_text} kr"),
        ("Fri prompt", "2", "7,00 kr"),
    ]
    total = (synced_sek + D(7)).quantize(D("0.01"))
    assert f'id="roi-ai">{total}'.replace(".", ",") in html


def test_ai_calls_this_month_counts_gateway_calls_only(page_a: Client, user_a: Any) -> None:
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        for hour in range(7):
            LedgerRowFactory(user=user_a, created_at=now.replace(hour=hour), cost_sek=D(1))
        _synced(user_a, [dt.date(2026, 11, n) for n in range(1, 11)], D("0.1"))
        html = page_a.get("/dashboard/settings/").content.decode()
    assert "<dd>7</dd>" in html
