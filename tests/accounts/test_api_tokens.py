from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import APIToken
from apps.accounts.services import api_token_create
from apps.accounts.tokens import token_digest
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_tokens_are_stored_hashed(user_a: Any) -> None:
    issued = api_token_create(user=user_a, name="CRM")
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, prefix, name FROM accounts_apitoken")
        rows = cursor.fetchall()
    assert rows == [(token_digest(issued.plaintext), issued.plaintext[:10], "CRM")]
    assert issued.plaintext not in str(rows)
    audit = AuditEvent.objects.get()
    assert audit.action == "token_created"
    assert issued.plaintext not in str(audit.detail)


def test_a_token_authenticates_as_its_owner_only(user_a: Any, user_b: Any) -> None:
    from tests.factories import BookingFactory

    BookingFactory(user=user_a, external_id="mine")
    BookingFactory(user=user_b, external_id="theirs")
    issued = api_token_create(user=user_a, name="CRM")
    response = _bearer(issued.plaintext).get("/api/roi/bookings/")
    assert response.status_code == 200
    assert [r["external_id"] for r in response.json()["results"]] == ["mine"]
    assert APIToken.objects.get().last_used_at is not None


def test_revocation_takes_effect_on_the_next_request(user_a: Any) -> None:
    issued = api_token_create(user=user_a, name="CRM")
    client = _bearer(issued.plaintext)
    assert client.get("/api/roi/bookings/").status_code == 200
    page = Client()
    page.force_login(user_a)
    response = page.post(f"/accounts/tokens/{issued.token.pk}/revoke/")
    assert response.status_code == 302
    denied = client.get("/api/roi/bookings/")
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "authentication_failed"


def test_another_user_cannot_revoke_my_token(user_a: Any, user_b: Any) -> None:
    issued = api_token_create(user=user_a, name="CRM")
    page = Client()
    page.force_login(user_b)
    page.post(f"/accounts/tokens/{issued.token.pk}/revoke/")
    assert APIToken.objects.get().revoked_at is None
    assert _bearer(issued.plaintext).get("/api/roi/bookings/").status_code == 200


@pytest.mark.parametrize("param", ["token", "api_key", "access_token"])
def test_query_string_tokens_are_rejected(user_a: Any, param: str) -> None:
    issued = api_token_create(user=user_a, name="CRM")
    response = APIClient().get(f"/api/roi/bookings/?{param}={issued.plaintext}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    # Even with a valid header, a token in the URL is refused: it has already leaked into logs.
    response = _bearer(issued.plaintext).get(f"/api/roi/bookings/?{param}=x")
    assert response.status_code == 401


def test_unknown_token_is_401(db: Any) -> None:
    assert _bearer("orp_nonsense").get("/api/roi/bookings/").status_code == 401


def test_token_page_shows_the_token_once(user_a: Any) -> None:
    page = Client()
    page.force_login(user_a)
    created = page.post("/accounts/tokens/", {"name": "Webshop"})
    # Post/Redirect/Get: the POST answers with a redirect, so a reload cannot post again.
    assert created.status_code == 302
    assert created["Location"] == "/accounts/tokens/"
    token = APIToken.objects.get()
    shown = page.get("/accounts/tokens/")
    assert shown.status_code == 200
    assert shown["Cache-Control"] == "no-store"
    plaintext = shown.content.decode().split('id="issued-token">')[1].split("<")[0]
    assert token_digest(plaintext) == token.digest
    reloaded = page.get("/accounts/tokens/")
    assert plaintext not in reloaded.content.decode()
    assert 'id="issued-token"' not in reloaded.content.decode()
    assert "Webshop" in reloaded.content.decode()
    assert "Cache-Control" not in reloaded
    assert APIToken.objects.count() == 1


def test_token_page_reload_after_create_makes_no_second_token(user_a: Any) -> None:
    page = Client()
    page.force_login(user_a)
    followed = page.post("/accounts/tokens/", {"name": "Webshop"}, follow=True)
    assert followed.redirect_chain == [("/accounts/tokens/", 302)]
    # A browser's reload repeats the last request: the GET after the redirect.
    page.get(followed.redirect_chain[-1][0])
    page.get("/accounts/tokens/")
    assert list(APIToken.objects.values_list("name", flat=True)) == ["Webshop"]
    assert AuditEvent.objects.filter(action="token_created").count() == 1


def test_token_page_invalid_name_shows_the_form_again(user_a: Any) -> None:
    page = Client()
    page.force_login(user_a)
    response = page.post("/accounts/tokens/", {"name": ""})
    assert response.status_code == 400
    assert 'id="issued-token"' not in response.content.decode()
    assert response.context["form"].errors == {"name": ["Det här fältet är obligatoriskt."]}
    assert not APIToken.objects.exists()


def test_token_page_anonymous_is_sent_to_login(db: Any) -> None:
    response = Client().post("/accounts/tokens/", {"name": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not APIToken.objects.exists()


def test_issued_token_is_shown_only_to_the_session_that_made_it(user_a: Any) -> None:
    mine = Client()
    mine.force_login(user_a)
    other_session = Client()
    other_session.force_login(user_a)
    mine.post("/accounts/tokens/", {"name": "Webshop"})
    assert 'id="issued-token"' not in other_session.get("/accounts/tokens/").content.decode()
    assert 'id="issued-token"' in mine.get("/accounts/tokens/").content.decode()


def test_token_page_lists_only_my_tokens(user_a: Any, user_b: Any) -> None:
    api_token_create(user=user_b, name="Bobs secret integration")
    page = Client()
    page.force_login(user_a)
    assert "Bobs secret integration" not in page.get("/accounts/tokens/").content.decode()
