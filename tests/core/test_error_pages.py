from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_api_paths_answer_in_the_api_error_shape(api_a: Any) -> None:
    response = api_a.get("/api/roi/bookings/0.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_pages_get_an_html_404(client: Any, user_a: Any) -> None:
    client.force_login(user_a)
    response = client.get("/dashboard/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_schema_documents_common_errors_with_the_error_shape(db: Any) -> None:
    from rest_framework.test import APIClient

    schema = (
        APIClient()
        .get("/api/schema/", {"format": "json"}, HTTP_ACCEPT="application/vnd.oai.openapi+json")
        .json()
    )
    operation = schema["paths"]["/api/roi/bookings/{id}/"]["get"]
    for code in ("401", "404", "429"):
        assert operation["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
