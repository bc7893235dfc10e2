"""Product writes and reads in process: batch and single PATCH, validation, merge rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from .conftest import ACCEPTANCE, COLLECTION

V1 = "/api/rest/v1"


def patch_lines(
    client: TestClient, auth: dict[str, str], lines: list[Any], path: str = "products"
) -> list[dict[str, Any]]:
    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    response = client.patch(
        f"{V1}/{path}", content=body, headers={**auth, "Content-Type": COLLECTION}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == COLLECTION
    assert not response.text.endswith("\n")
    return [json.loads(line) for line in response.text.split("\n")]


def one(client: TestClient, auth: dict[str, str], product: dict[str, Any]) -> dict[str, Any]:
    [result] = patch_lines(client, auth, [{"identifier": "P-1", **product}])
    return result


def value(data: Any, locale: str | None = None, scope: str | None = None) -> list[dict[str, Any]]:
    return [{"locale": locale, "scope": scope, "data": data}]


def get(client: TestClient, auth: dict[str, str], identifier: str) -> dict[str, Any]:
    response = client.get(f"{V1}/products/{identifier}", headers=auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_acceptance_products_are_stored_as_akeneo_returns_them(
    client: TestClient, auth: dict[str, str]
) -> None:
    expected = json.loads((ACCEPTANCE / "expected.json").read_text())
    lines = [{"identifier": k, **v} for k, v in expected.items() if not k.startswith("_")]
    results = patch_lines(client, auth, lines)
    assert [r["status_code"] for r in results] == [201] * len(lines)
    for identifier, product in expected.items():
        if identifier.startswith("_"):
            continue
        stored = get(client, auth, identifier)
        for key in ("family", "enabled", "categories", "values"):
            assert stored[key] == product[key], (identifier, key)
        assert stored["groups"] == []
        assert stored["parent"] is None
        assert stored["associations"] == {}
        assert stored["quantified_associations"] == {}
        assert stored["created"].endswith("+00:00")
        assert stored["uuid"]


def test_unknown_option_is_rejected_with_the_validation_shape(
    client: TestClient, auth: dict[str, str]
) -> None:
    line = {"identifier": "SKU-100237", "family": "shoes", "values": {"color": value("PURPLE")}}
    assert patch_lines(client, auth, [line]) == [
        {
            "line": 1,
            "identifier": "SKU-100237",
            "status_code": 422,
            "message": "Validation failed.",
            "errors": [
                {
                    "property": "values",
                    "message": "The PURPLE value is not in the color attribute option list.",
                    "attribute": "color",
                    "locale": None,
                    "scope": None,
                }
            ],
        }
    ]
    assert client.get(f"{V1}/products/SKU-100237", headers=auth).status_code == 404


def test_line_level_errors(client: TestClient, auth: dict[str, str]) -> None:
    results = patch_lines(
        client,
        auth,
        [
            "{not json",
            "",
            {"values": {}},
            {"identifier": "  "},
            {"identifier": 5},
            {"identifier": "A", "group": "x"},
            "x" * 1_000_001,
        ],
    )
    assert results[0] == {"line": 1, "status_code": 400, "message": "Invalid json message received"}
    assert results[1] == {"line": 2, "status_code": 400, "message": "Invalid json message received"}
    assert results[2] == {"line": 3, "status_code": 422, "message": "Identifier is missing."}
    assert results[3]["message"] == "Identifier is missing."
    assert results[4]["message"] == "identifier must be of type string."
    assert results[5] == {
        "line": 6,
        "identifier": "A",
        "status_code": 422,
        "message": 'Property "group" does not exist. Check the expected format on the API documentation.',  # noqa: E501
        "_links": {
            "documentation": {
                "href": "http://api.akeneo.com/api-reference.html#patch_products__code_"
            }
        },
    }
    assert results[6] == {"line": 7, "status_code": 413, "message": "Line is too long."}


def test_batch_limits_and_repeated_identifier(client: TestClient, auth: dict[str, str]) -> None:
    hundred = patch_lines(client, auth, [{"identifier": f"B-{i}"} for i in range(100)])
    assert len(hundred) == 100
    body = "\n".join(json.dumps({"identifier": f"C-{i}"}) for i in range(101))
    too_many = client.patch(
        f"{V1}/products", content=body, headers={**auth, "Content-Type": COLLECTION}
    )
    assert too_many.status_code == 413
    assert too_many.json() == {
        "code": 413,
        "message": "Too many resources to process, 100 is the maximum allowed.",
    }
    twice = patch_lines(client, auth, [{"identifier": "D"}, {"identifier": "D", "enabled": False}])
    assert [r["status_code"] for r in twice] == [201, 204]
    assert get(client, auth, "D")["enabled"] is False


def test_content_type_and_malformed_json(client: TestClient, auth: dict[str, str]) -> None:
    wrong = client.patch(
        f"{V1}/products", content="{}", headers={**auth, "Content-Type": "application/json"}
    )
    assert wrong.status_code == 415
    assert wrong.json()["message"] == (
        '"application/json" in "Content-Type" header is not valid. '
        'Only "application/vnd.akeneo.collection+json" is allowed.'
    )
    single = client.patch(
        f"{V1}/products/X", content="{}", headers={**auth, "Content-Type": "text/plain"}
    )
    assert single.status_code == 415
    broken = client.patch(
        f"{V1}/products/X", content="{", headers={**auth, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json() == {"code": 400, "message": "Invalid json message received"}


def test_single_patch_created_then_updated_with_location(
    client: TestClient, auth: dict[str, str]
) -> None:
    first = client.patch(f"{V1}/products/S-1", json={"family": "shoes"}, headers=auth)
    assert first.status_code == 201
    assert first.headers["location"] == "http://pim.test/api/rest/v1/products/S-1"
    second = client.patch(f"{V1}/products/S-1", json={"enabled": False}, headers=auth)
    assert second.status_code == 204
    assert second.headers["location"].endswith("/products/S-1")
    mismatch = client.patch(f"{V1}/products/S-1", json={"identifier": "S-2"}, headers=auth)
    assert mismatch.status_code == 422
    assert mismatch.json()["message"] == (
        'The identifier "S-2" provided in the request body must match '
        'the identifier "S-1" provided in the url.'
    )


def test_merge_rules(client: TestClient, auth: dict[str, str]) -> None:
    one(
        client,
        auth,
        {
            "categories": ["summer_2026"],
            "values": {"name": value("Shoe", "en_US") + value("Schuh", "de_DE"), "stock": value(3)},
        },
    )
    one(
        client,
        auth,
        {
            "categories": ["shoes_running"],
            "values": {
                "name": value("Chaussure", "fr_FR") + value(None, "de_DE"),
                "stock": value(None),
            },
        },
    )
    stored = get(client, auth, "P-1")
    assert stored["categories"] == ["shoes_running"]
    assert stored["values"]["name"] == value("Shoe", "en_US") + value("Chaussure", "fr_FR")
    assert "stock" not in stored["values"]


FORMAT_CASES = [
    (
        {"family": "boots"},
        'Property "family" expects a valid family code. The family does not exist, "boots" given.',
    ),
    (
        {"categories": ["nope"]},
        'Property "categories" expects a valid category code. The category does not exist, "nope" given.',  # noqa: E501
    ),
    ({"enabled": "yes"}, 'Property "enabled" expects a boolean as data, "string" given.'),
    ({"values": {"size": value("42")}}, "The size attribute does not exist in your PIM."),
    ({"values": {"name": value("x")}}, 'Attribute "name" expects a locale, none given.'),
    (
        {"values": {"ean": value("4006381333931", "en_US")}},
        'Attribute "ean" does not expect a locale, "en_US" given.',
    ),
    (
        {"values": {"name": value("x", "it_IT")}},
        'Attribute "name" expects an existing and activated locale, "it_IT" given.',
    ),
    (
        {"values": {"description": value("x", "en_US")}},
        'Attribute "description" expects a scope, none given.',
    ),
    (
        {"values": {"description": value("x", "en_US", "mobile")}},
        'Attribute "description" expects an existing scope, "mobile" given.',
    ),
    (
        {"values": {"color": value("red", None, "ecommerce")}},
        'Attribute "color" does not expect a scope, "ecommerce" given.',
    ),
    (
        {"values": {"waterproof": value("Y")}},
        'Property "waterproof" expects a boolean as data, "string" given.',
    ),
    (
        {"values": {"release_date": value("2026-13-01")}},
        'Property "release_date" expects a string with the format "yyyy-mm-dd" as data, "2026-13-01" given.',  # noqa: E501
    ),
    (
        {"values": {"weight": value({"amount": "1"})}},
        'Property "weight" expects an array with the key "unit" as data.',
    ),
    (
        {"values": {"price": value("12")}},
        'Property "price" expects an array as data, "string" given.',
    ),
    (
        {"values": {"name": value(["x"], "en_US")}},
        'Property "name" expects a string as data, "array" given.',
    ),
]


@pytest.mark.parametrize(("product", "message"), FORMAT_CASES)
def test_updater_format_errors(
    client: TestClient, auth: dict[str, str], product: dict[str, Any], message: str
) -> None:
    result = one(client, auth, product)
    assert result["status_code"] == 422
    assert result["message"] == message + " Check the expected format on the API documentation."
    assert "_links" in result


VALIDATION_CASES = [
    (
        {"ean": value("123")},
        "The ean attribute must match the following regular expression: ^[0-9]{13}$.",
    ),
    (
        {"ean": value("40063813339311")},
        "The ean attribute must not contain more than 13 characters. The submitted value is too long.",  # noqa: E501
    ),
    (
        {"name": value("x" * 256, "en_US")},
        "The name attribute must not contain more than 255 characters. The submitted value is too long.",  # noqa: E501
    ),
    (
        {"stock": value("2.5")},
        "The stock attribute requires a non-decimal value, and 2.5 is not a valid value.",
    ),
    ({"stock": value(-1)}, "This value should be greater than or equal to 0."),
    ({"stock": value("abc")}, "This value should be a valid number."),
    ({"weight": value({"amount": "1", "unit": "LITER"})}, "Please specify a valid metric unit"),
    (
        {"weight": value({"amount": "-1", "unit": "GRAM"})},
        "This value should be greater than or equal to 0.",
    ),
    (
        {"price": value([{"amount": "1.00", "currency": "GBP"}])},
        'The currency "GBP" has to be activated.',
    ),
]


@pytest.mark.parametrize(("values", "message"), VALIDATION_CASES)
def test_validation_errors(
    client: TestClient, auth: dict[str, str], values: dict[str, Any], message: str
) -> None:
    result = one(client, auth, {"family": "shoes", "values": values})
    assert result["status_code"] == 422
    assert result["message"] == "Validation failed."
    assert message in [e["message"] for e in result["errors"]]
    assert result["errors"][0]["attribute"] == next(iter(values))


def test_identifier_rules_and_unique_values(client: TestClient, auth: dict[str, str]) -> None:
    [comma] = patch_lines(client, auth, [{"identifier": "A,B"}])
    assert comma["errors"] == [
        {
            "property": "identifier",
            "message": "This field should not contain any comma or semicolon or surrounding space.",
        }
    ]
    ean = {"values": {"ean": value("4006381333931")}}
    first, second = patch_lines(
        client, auth, [{"identifier": "U-1", **ean}, {"identifier": "U-2", **ean}]
    )
    assert first["status_code"] == 201
    assert second["errors"][0]["message"] == (
        "The value 4006381333931 is already set on another product for the unique attribute ean"
    )


def test_option_codes_compare_case_insensitively(client: TestClient, auth: dict[str, str]) -> None:
    assert one(client, auth, {"values": {"color": value("RED")}})["status_code"] == 201


def test_uuid_routes(client: TestClient, auth: dict[str, str]) -> None:
    uuid = "3F0C1F46-1C5B-4E2B-9C47-6A1A1C1C1C1C"
    [created] = patch_lines(
        client, auth, [{"uuid": uuid, "values": {"sku": value("U-SKU")}}], "products-uuid"
    )
    assert created == {"line": 1, "uuid": uuid.lower(), "status_code": 201}
    got = client.get(f"{V1}/products-uuid/{uuid.lower()}", headers=auth).json()
    assert "identifier" not in got
    assert got["uuid"] == uuid.lower()
    assert get(client, auth, "U-SKU")["uuid"] == uuid.lower()
    rejected = client.patch(
        f"{V1}/products-uuid/{uuid.lower()}", json={"identifier": "x"}, headers=auth
    )
    assert rejected.status_code == 422
    [bad] = patch_lines(client, auth, [{"uuid": "nope"}], "products-uuid")
    assert (
        bad["message"]
        == "This is not a valid UUID. Check the expected format on the API documentation."
    )
    assert client.delete(f"{V1}/products-uuid/{uuid.lower()}", headers=auth).status_code == 204
    assert client.get(f"{V1}/products/U-SKU", headers=auth).status_code == 404


def test_not_found_and_method_not_allowed(client: TestClient, auth: dict[str, str]) -> None:
    missing = client.get(f"{V1}/products/none", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["code"] == 404
    route = client.get(f"{V1}/nothing-here", headers=auth)
    assert route.status_code == 404
    assert route.json()["code"] == 404
    put = client.put(f"{V1}/products", headers=auth)
    assert put.status_code == 405
    assert put.json()["code"] == 405
