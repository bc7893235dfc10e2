"""The sandbox browser in process (TestClient): escaping of untrusted values, headers, 404s,
media downloads, and that faults and limits never reach /sandbox/ui."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from akeneo_sandbox.app import create_app
from akeneo_sandbox.config import Settings
from akeneo_sandbox.faults import parse_faults
from akeneo_sandbox.load import parse_limits

from .conftest import CATALOG, get_token
from .http_api import extended_catalog

SCRIPT = "<script>alert('x')</script>"
TAG = '<img src=x onerror="alert(1)">'


def _client(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(settings), base_url="http://pim.test") as client:
        yield client, {"Authorization": f"Bearer {get_token(client)['access_token']}"}


@pytest.fixture
def demo() -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The built-in demo catalog (family variant, image attribute, association types)."""
    yield from _client(Settings())


def _write(client: TestClient, auth: dict[str, str], path: str, body: dict[str, Any]) -> None:
    response = client.post(f"/api/rest/v1/{path}", json=body, headers=auth)
    assert response.status_code == 201, response.text


def _hostile_catalog_content(client: TestClient, auth: dict[str, str]) -> str:
    """Markup in a category label, an option label, a model's and a product's values and the
    product's identifier; returns the product's uuid."""
    category = {"code": "evil", "parent": "master", "labels": {"en_US": TAG}}
    _write(client, auth, "categories", category)
    _write(client, auth, "attributes/color/options", {"code": "evil", "labels": {"en_US": SCRIPT}})
    values = {"name": [{"locale": "en_US", "scope": None, "data": SCRIPT}]}
    _write(
        client,
        auth,
        "product-models",
        {"code": "evil_model", "family_variant": "clothing_color_size", "values": values},
    )
    identifier = f"sku{TAG}"
    body = {
        "identifier": identifier,
        "family": "default",
        "categories": ["evil"],
        "values": {**values, "color": [{"locale": None, "scope": None, "data": "evil"}]},
    }
    _write(client, auth, "products", body)
    response = client.get(f"/api/rest/v1/products/{identifier}", headers=auth)
    assert response.status_code == 200, response.text
    uuid: str = response.json()["uuid"]
    return uuid


def test_values_with_markup_are_shown_as_text(demo: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = demo
    uuid = _hostile_catalog_content(client, auth)
    pages = {
        "grid": client.get("/sandbox/ui"),
        "filtered": client.get("/sandbox/ui", params={"q": SCRIPT}),
        "product": client.get(f"/sandbox/ui/products/{uuid}"),
        "model": client.get("/sandbox/ui/product-models/evil_model"),
        "categories": client.get("/sandbox/ui/categories"),
        "category": client.get("/sandbox/ui", params={"category": "evil"}),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        body = response.text
        assert "<script" not in body, name
        assert "<img src=x" not in body, name
        assert "onerror=" not in body.replace("onerror=&quot;", ""), name
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in pages["grid"].text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in pages["categories"].text
    assert "&lt;script&gt;" in pages["product"].text  # the option label
    assert "&lt;script&gt;" in pages["filtered"].text  # echoed in the search box, escaped


def test_pages_of_unknown_things_are_404_pages(demo: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = demo
    for path in (
        "/sandbox/ui/products/00000000-0000-0000-0000-000000000000",
        "/sandbox/ui/product-models/nope",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert "does not exist" in response.text
        assert response.headers["content-type"].startswith("text/html")
    assert client.get("/sandbox/ui/media/a/b/c/d/nope.png").status_code == 404


def test_odd_paging_parameters_fall_back_to_valid_pages(
    demo: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = demo
    for n in range(3):
        _write(client, auth, "products", {"identifier": f"p{n}", "family": "default"})
    beyond = client.get("/sandbox/ui", params={"page": "7", "limit": "2"}).text
    assert "Showing none of 3" in beyond
    assert "Page 7 of 2" in beyond
    clamped = client.get("/sandbox/ui", params={"page": "x", "limit": "0", "kind": "?"}).text
    assert "Showing 1–1 of 3" in clamped  # limit 0 → 1, page x → 1, kind ? → all
    only_models = client.get("/sandbox/ui", params={"kind": "models"}).text
    assert "Showing none of 0" in only_models


def test_media_files_are_inline_only_when_images(tmp_path: Path) -> None:
    catalog = extended_catalog(CATALOG, tmp_path)
    family = json.loads(CATALOG.read_text())["families"][0]["code"]
    for client, auth in _client(Settings(catalog=catalog)):
        _write(client, auth, "products", {"identifier": "doc-1", "family": family})
        target = {"identifier": "doc-1", "attribute": "manual", "locale": "en_US", "scope": None}
        pdf = b"%PDF-1.4\n% not really a manual\n"
        upload = client.post(
            "/api/rest/v1/media-files",
            data={"product": json.dumps(target)},
            files={"file": ("manual <1>.pdf", pdf)},
            headers=auth,
        )
        assert upload.status_code == 201, upload.text
        code = upload.headers["location"].rsplit("/media-files/", 1)[1]
        response = client.get(f"/sandbox/ui/media/{code}")
        assert response.status_code == 200
        assert response.content == pdf
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment;")
        product = client.get("/api/rest/v1/products/doc-1", headers=auth).json()
        page = client.get(f"/sandbox/ui/products/{product['uuid']}").text
        link = re.search(r'<a href="([^"]+)" class="media-link">([^<]*)</a>', page)
        assert link is not None
        assert link.groups() == (f"/sandbox/ui/media/{code}", "manual &lt;1&gt;.pdf")


def test_faults_and_limits_never_reach_the_browser() -> None:
    settings = Settings(faults=parse_faults("500=1"), limits=parse_limits("rate=1"))
    with TestClient(create_app(settings), base_url="http://pim.test") as client:
        for _ in range(3):
            assert client.get("/api/rest/v1/products").status_code in (429, 500)
            assert client.get("/sandbox/ui").status_code == 200
            assert client.get("/sandbox/ui/categories").status_code == 200
        stats = client.get("/sandbox/stats").json()
        assert stats["requests_total"] == 3  # the /api requests only


def test_text_filter_matches_keys_and_own_values_also_with_quotes(
    demo: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = demo
    names = {"tv-1": 'TV 55" screen', "tv-2": "TV 65 inch", "lamp_100%": "Lamp \\ desk"}
    for identifier, name in names.items():
        values = {"name": [{"locale": "en_US", "scope": None, "data": name}]}
        _write(client, auth, "products", {"identifier": identifier, "values": values})

    def found(text: str) -> set[str]:
        page = client.get("/sandbox/ui", params={"q": text}).text
        return set(re.findall(r'<td class="key"><a href="[^"]+">([^<]+)</a>', page))

    assert found("tv-") == {"tv-1", "tv-2"}
    assert found('55"') == {"tv-1"}  # a quote is escaped in the stored JSON
    assert found("\\ d") == {"lamp_100%"}  # so is a backslash
    assert found("0%") == {"lamp_100%"}  # % and _ are literal, not LIKE wildcards
    assert found("_") == {"lamp_100%"}
    assert found("INCH") == {"tv-2"}
    assert found("en_US") == set()  # keys of the document are not searched
