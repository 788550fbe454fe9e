"""GET /models (public, filtered, paged) and the two kinds of 404."""

from __future__ import annotations

import httpx
import pytest

from apps.emulator import Emulator

from .test_emulator_helpers import client, example

CATALOGUE = example("models.json")["data"]


@pytest.fixture
def anonymous() -> httpx.Client:
    return client(Emulator())


def test_full_list_without_paging(anonymous: httpx.Client) -> None:
    body = anonymous.get("/models").json()

    assert body == {"data": CATALOGUE, "total_count": 10, "links": {"next": None}}


def test_prices_are_strings(anonymous: httpx.Client) -> None:
    text = anonymous.get("/models").text

    assert '"prompt":"0.00000015"' in text
    assert '"input_cache_write":"0.00000008333333333333334"' in text


@pytest.mark.parametrize(
    ("modalities", "count"), [("text", 10), ("image", 0), ("all", 10), ("image,text", 10)]
)
def test_output_modalities_filter(anonymous: httpx.Client, modalities: str, count: int) -> None:
    body = anonymous.get("/models", params={"output_modalities": modalities}).json()

    assert (len(body["data"]), body["total_count"]) == (count, count)


def test_supported_parameters_filter_needs_every_parameter(anonymous: httpx.Client) -> None:
    wanted = {"tools", "reasoning", "top_k"}

    body = anonymous.get("/models", params={"supported_parameters": ",".join(sorted(wanted))}).json()

    expected = [m["id"] for m in CATALOGUE if wanted <= set(m["supported_parameters"])]
    assert [m["id"] for m in body["data"]] == expected
    assert 0 < body["total_count"] == len(expected) < 10


def test_paging_follows_links_next_to_the_end(anonymous: httpx.Client) -> None:
    first = anonymous.get("/models", params={"offset": 0, "limit": 4}).json()
    seen, link, pages = [m["id"] for m in first["data"]], first["links"]["next"], 1
    while link:
        page = anonymous.get(link.removeprefix("/api/v1")).json()
        seen += [m["id"] for m in page["data"]]
        link, pages = page["links"]["next"], pages + 1

    assert first["links"]["next"] == "/api/v1/models?offset=4&limit=4"
    assert first["total_count"] == 10
    assert pages == 3
    assert seen == [m["id"] for m in CATALOGUE]


def test_paging_keeps_the_filters_in_the_next_link(anonymous: httpx.Client) -> None:
    body = anonymous.get("/models", params={"limit": 2, "supported_parameters": "tools"}).json()

    assert body["links"]["next"] == "/api/v1/models?offset=2&limit=2&supported_parameters=tools"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "ten"}])
def test_bad_paging_is_400(anonymous: httpx.Client, params: dict[str, object]) -> None:
    response = anonymous.get("/models", params=params)

    assert response.status_code == 400
    assert list(response.json()["error"]) == ["message", "code"]


@pytest.mark.parametrize("path", ["/models/openai/gpt-4o-mini/endpoints", "/models/unknown", "/models/user"])
def test_unknown_route_under_models_is_json_404(anonymous: httpx.Client, path: str) -> None:
    response = anonymous.get(path)

    assert response.status_code == 404
    assert response.text == '{"error":{"message":"Not Found","code":404}}'


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "http://openrouter.test/nope"),
        ("GET", "http://openrouter.test/api/v1/nope"),
        ("GET", "http://openrouter.test/api/v1/chat/completions"),
        ("PUT", "http://openrouter.test/api/v1/keys"),
    ],
)
def test_unknown_paths_are_an_html_404_page(anonymous: httpx.Client, method: str, url: str) -> None:
    response = anonymous.request(method, url)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "404" in response.text


def test_control_endpoints_are_off_by_default(anonymous: httpx.Client) -> None:
    response = anonymous.get("http://openrouter.test/_emulator/ledger")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
