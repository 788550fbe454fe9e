"""Every route needs a login unless it is on the explicit allow-list below."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

# Route names (or admin's namespace) that anonymous users may reach, and why.
PUBLIC_ROUTES = {
    "accounts:login",  # the way in
    "accounts:logout",  # harmless for anonymous users
    "health",  # load-balancer liveness, no data
    "set_language",  # language choice before login
    "api-schema",  # API documentation holds no data
    "api-docs",
}
SAMPLE_ARGS = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "path": "x",
}


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}{p.namespace}:"
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name or ''}"


def _concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\.", ".")
    route = re.sub(r"\(\?P<\w+>[^)]+\)", "1", route)
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS.get(m.group(1) or "str", "1"), route)
    route = re.sub(r"\(\?:[^)]*\)\??", "", route)
    return "/" + route.replace("^", "").replace("$", "").replace("?", "")


def _routes() -> list[tuple[str, str]]:
    return sorted({(_concrete(r), name) for r, name in _walk(get_resolver().url_patterns)})


@pytest.mark.django_db
def test_every_route_requires_login_unless_allow_listed() -> None:
    client = APIClient()
    checked = 0
    for url, name in _routes():
        if name in PUBLIC_ROUTES or name.startswith("admin:") or "(?P" in url:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if url.startswith("/api/"):
                assert response.status_code in (401, 403, 405), (
                    f"{method.upper()} {url} ({name}) -> {response.status_code}"
                )
                if response.status_code != 405:
                    assert set(response.json()) == {"error"}
            elif response.status_code != 405:
                assert response.status_code == 302, (
                    f"{method.upper()} {url} ({name}) -> {response.status_code}"
                )
                assert response["Location"].startswith("/accounts/login/"), f"{url} -> {response['Location']}"
            checked += 1
    assert checked > 10


@pytest.mark.django_db
def test_admin_sends_anonymous_users_to_the_admin_login() -> None:
    response = APIClient().get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_public_routes_answer_anonymous_users() -> None:
    client = APIClient()
    assert client.get("/health/").json() == {"status": "ok"}
    assert client.get("/accounts/login/").status_code == 200
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
