"""List endpoints: pagination links, limits, search filters; structure writes."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from .conftest import COLLECTION, Clock, get_token

V1 = "/api/rest/v1"


def seed(client: TestClient, auth: dict[str, str], lines: list[dict[str, Any]]) -> None:
    body = "\n".join(json.dumps(line) for line in lines)
    response = client.patch(
        f"{V1}/products", content=body, headers={**auth, "Content-Type": COLLECTION}
    )
    assert all(json.loads(r)["status_code"] in (201, 204) for r in response.text.split("\n"))


def identifiers(page: dict[str, Any]) -> list[str]:
    return [item["identifier"] for item in page["_embedded"]["items"]]


def test_structure_lists_paginate_with_absolute_links(
    client: TestClient, auth: dict[str, str]
) -> None:
    page = client.get(
        f"{V1}/attributes", params={"limit": 4, "with_count": "true"}, headers=auth
    ).json()
    assert page["items_count"] == 10
    assert page["current_page"] == 1
    assert [i["code"] for i in page["_embedded"]["items"]] == ["sku", "ean", "name", "description"]
    assert page["_links"]["next"]["href"].startswith(
        "http://pim.test/api/rest/v1/attributes?page=2"
    )
    assert "previous" not in page["_links"]
    item = page["_embedded"]["items"][0]
    assert item["_links"]["self"]["href"] == "http://pim.test/api/rest/v1/attributes/sku"
    last = client.get(f"{V1}/attributes", params={"limit": 4, "page": 3}, headers=auth).json()
    assert "next" not in last["_links"]
    assert "previous" in last["_links"]
    too_big = client.get(f"{V1}/families", params={"limit": 101}, headers=auth)
    assert too_big.status_code == 422
    assert too_big.json() == {"code": 422, "message": "You cannot request more than 100 items."}


def test_structure_search_and_read_only_kinds(client: TestClient, auth: dict[str, str]) -> None:
    search = json.dumps({"code": [{"operator": "IN", "value": ["shoes", "tshirts"]}]})
    families = client.get(f"{V1}/families", params={"search": search}, headers=auth).json()
    assert [i["code"] for i in families["_embedded"]["items"]] == ["shoes", "tshirts"]
    broken = client.get(f"{V1}/families", params={"search": "{"}, headers=auth)
    assert broken.status_code == 400
    assert client.patch(f"{V1}/locales/en_US", json={}, headers=auth).status_code == 405
    weights = client.get(f"{V1}/measurement-families", headers=auth).json()
    weight = next(f for f in weights if f["code"] == "Weight")
    assert {"MILLIGRAM", "GRAM", "KILOGRAM", "TON", "OUNCE", "POUND"} <= set(weight["units"])


def test_new_option_makes_the_product_valid(client: TestClient, auth: dict[str, str]) -> None:
    option = {"code": "purple", "attribute": "color", "labels": {"en_US": "Purple"}}
    created = client.patch(f"{V1}/attributes/color/options/purple", json=option, headers=auth)
    assert created.status_code == 201
    assert created.headers["location"].endswith("/attributes/color/options/purple")
    body = "\n".join([json.dumps({"code": "teal"}), json.dumps({"code": "purple", "label": "x"})])
    lines = client.patch(
        f"{V1}/attributes/color/options", content=body, headers={**auth, "Content-Type": COLLECTION}
    )
    results = [json.loads(line) for line in lines.text.split("\n")]
    assert results[0] == {"line": 1, "code": "teal", "status_code": 201}
    assert results[1]["status_code"] == 422
    assert results[1]["code"] == "purple"
    product = {
        "identifier": "P",
        "values": {"color": [{"locale": None, "scope": None, "data": "purple"}]},
    }
    seed(client, auth, [product])
    assert client.post("/sandbox/reset").status_code == 204
    options = client.get(f"{V1}/attributes/color/options", headers=auth).json()
    assert [o["code"] for o in options["_embedded"]["items"]] == ["red", "blue", "green"]


def test_structure_writes_check_references_and_immutables(
    client: TestClient, auth: dict[str, str]
) -> None:
    family = {"attributes": ["sku", "size"], "attribute_as_label": "sku"}
    bad = client.patch(f"{V1}/families/new", json=family, headers=auth)
    assert bad.status_code == 422
    changed = client.patch(
        f"{V1}/attributes/color", json={"type": "pim_catalog_text"}, headers=auth
    )
    assert changed.status_code == 422
    labels = client.patch(
        f"{V1}/categories/master", json={"labels": {"de_DE": "Haupt"}}, headers=auth
    )
    assert labels.status_code == 204
    master = client.get(f"{V1}/categories/master", headers=auth).json()
    assert master["labels"] == {"en_US": "Master catalog", "de_DE": "Haupt"}


def test_product_search_filters(client: TestClient, auth: dict[str, str], clock: Clock) -> None:
    seed(
        client,
        auth,
        [
            {"identifier": "A", "family": "shoes", "categories": ["summer_2026"]},
            {"identifier": "B", "family": "tshirts", "enabled": False},
        ],
    )
    clock.now += 3600
    auth = {"Authorization": f"Bearer {get_token(client)['access_token']}"}
    seed(client, auth, [{"identifier": "C", "family": "shoes", "categories": ["shoes_running"]}])

    def search(filters: dict[str, Any]) -> list[str]:
        response = client.get(
            f"{V1}/products", params={"search": json.dumps(filters)}, headers=auth
        )
        assert response.status_code == 200, response.text
        return identifiers(response.json())

    assert search({"identifier": [{"operator": "IN", "value": ["A", "C"]}]}) == ["A", "C"]
    assert search({"family": [{"operator": "NOT IN", "value": ["shoes"]}]}) == ["B"]
    assert search({"enabled": [{"operator": "=", "value": False}]}) == ["B"]
    assert search({"categories": [{"operator": "IN", "value": ["summer_2026"]}]}) == ["A"]
    assert search({"categories": [{"operator": "NOT IN", "value": ["summer_2026"]}]}) == ["B", "C"]
    since = "2027-01-15 08:30:00"
    assert search({"updated": [{"operator": ">", "value": since}]}) == ["C"]
    assert search({"updated": [{"operator": "<", "value": since}]}) == ["A", "B"]
    bad = client.get(
        f"{V1}/products",
        params={"search": json.dumps({"color": [{"operator": "IN", "value": []}]})},
        headers=auth,
    )
    assert bad.status_code == 422


def test_search_after_pagination_visits_every_product(
    client: TestClient, auth: dict[str, str]
) -> None:
    seed(client, auth, [{"identifier": f"P{i:02d}"} for i in range(25)])
    seen: list[str] = []
    url = f"{V1}/products?pagination_type=search_after&limit=10"
    while url:
        page = client.get(url, headers=auth).json()
        seen += identifiers(page)
        url = page["_links"].get("next", {}).get("href")
    assert seen == [f"P{i:02d}" for i in range(25)]
    paged = client.get(
        f"{V1}/products", params={"page": 3, "limit": 10, "with_count": "true"}, headers=auth
    ).json()
    assert identifiers(paged) == [f"P{i:02d}" for i in range(20, 25)]
    assert paged["items_count"] == 25


def test_stats_count_route_templates_and_reset(client: TestClient, auth: dict[str, str]) -> None:
    client.patch(f"{V1}/products/S1", json={}, headers=auth)
    client.patch(f"{V1}/products/S2", json={}, headers=auth)
    stats = client.get("/sandbox/stats").json()
    assert {
        "method": "PATCH",
        "route": "/api/rest/v1/products/{code}",
        "status": 201,
        "count": 2,
    } in stats["requests"]
    assert stats["products_written"] == 2
    assert stats["products_total"] == 2
    assert stats["requests_total"] == 3
    assert stats["in_flight_peak"] == 1
    assert client.post("/sandbox/reset").status_code == 204
    after = client.get("/sandbox/stats").json()
    assert after == {
        "requests_total": 0,
        "requests": [],
        "served_seconds": [],
        "products_written": 0,
        "products_total": 0,
        "product_models_written": 0,
        "product_models_total": 0,
        "values_dropped": 0,
        "faults_injected": {},
        "limits_rejected": {},
        "in_flight_peak": 0,
        "latency_added": {"requests": 0, "lines": 0, "seconds": 0.0},
    }
