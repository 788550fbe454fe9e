"""The schema documents the errors every request can get, and the code answers them as documented."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.django_db


def _schema(api: Any) -> dict[str, Any]:
    response = api.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_operations_with_a_body_document_413_and_415_in_the_error_shape(api_a: Any) -> None:
    paths = _schema(api_a)["paths"]
    with_body = [op for ops in paths.values() for op in ops.values() if "requestBody" in op]
    assert with_body
    for operation in with_body:
        for code in ("413", "415"):
            content = operation["responses"][code]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}
    without_body = paths["/api/usage/summary/"]["get"]["responses"]
    assert "415" not in without_body


def test_a_body_in_another_content_type_gets_the_documented_415(api_a: Any) -> None:
    response = api_a.post("/api/roi/bookings/", b"<x/>", content_type="application/xml")
    assert response.status_code == 415
    assert response.json() == {
        "error": {"code": "unsupported_media_type", "message": response.json()["error"]["message"]}
    }
    assert "application/xml" in response.json()["error"]["message"]


def test_anonymous_gets_401_before_the_content_type_is_looked_at(client: Any) -> None:
    response = client.post("/api/roi/bookings/", b"<x/>", content_type="application/xml")
    assert response.status_code == 401
