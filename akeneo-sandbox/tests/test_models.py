"""Family variants, product models and variant products, through a real sandbox process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from akeneo_sandbox.testing import SandboxProcess

from .conftest import COLLECTION

pytestmark = pytest.mark.slow

CATALOG = Path(__file__).parent / "data" / "models_catalog.json"
DOC = "http://api.akeneo.com/api-reference.html#"
HINT = " Check the expected format on the API documentation."
UUID_1 = "5a0bb6a5-0b0f-4a43-8b4b-6e8f3b2a4c01"
UUID_2 = "5a0bb6a5-0b0f-4a43-8b4b-6e8f3b2a4c02"


class Pim:
    """An authenticated client of the sandbox process."""

    def __init__(self, process: SandboxProcess) -> None:
        self.process = process
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {process.token()}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        url = f"{self.process.base_url}/api/rest/v1/{path}"
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return self.session.request(
            method, url, data=data, headers=headers, params=params or None, timeout=10
        )

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.call("GET", path, **params)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def write(self, path: str, body: Any, status: int = 201) -> requests.Response:
        response = self.call("PATCH", path, body)
        assert response.status_code == status, response.text
        return response

    def lines(self, path: str, lines: list[Any]) -> list[dict[str, Any]]:
        response = self.session.patch(
            f"{self.process.base_url}/api/rest/v1/{path}",
            data="\n".join(json.dumps(line) for line in lines),
            headers={"Content-Type": COLLECTION},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return [json.loads(line) for line in response.text.split("\n")]

    def error(self, method: str, path: str, body: Any) -> dict[str, Any]:
        response = self.call(method, path, body)
        assert response.status_code == 422, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture(scope="module")
def process() -> Iterator[SandboxProcess]:
    with SandboxProcess(catalog=CATALOG) as running:
        yield running


@pytest.fixture
def pim(process: SandboxProcess) -> Iterator[Pim]:
    process.reset()
    client = Pim(process)
    yield client
    client.session.close()


def value(data: Any, locale: str | None = None, scope: str | None = None) -> list[dict[str, Any]]:
    return [{"locale": locale, "scope": scope, "data": data}]


def format_error(message: str, anchor: str) -> dict[str, Any]:
    return {
        "code": 422,
        "message": message + HINT,
        "_links": {"documentation": {"href": DOC + anchor}},
    }


def failed(*errors: tuple[str, str]) -> dict[str, Any]:
    return {
        "code": 422,
        "message": "Validation failed.",
        "errors": [{"property": p, "message": m} for p, m in errors],
    }


def failed_line(line: int, code: str, *errors: tuple[str, str]) -> dict[str, Any]:
    """A collection line refused by the validator."""
    body = failed(*errors)
    return {"line": line, "code": code, "status_code": 422, "message": body["message"]} | {
        "errors": body["errors"]
    }


# What GET shows of `jacket-red-m`: its own values, then those of `jacket_red` and `jacket`.
JACKET_RED_M = {
    "sku": value("jacket-red-m"),
    "size": value("m"),
    "stock": value(3),
    "color": value("red"),
    "material": value("cotton"),
    "name": value("Jacket", "en_US"),
}


def jacket(pim: Pim) -> None:
    """Root `jacket` (by colour then size), sub model `jacket_red`, variant `jacket-red-m`."""
    pim.write(
        "product-models/jacket",
        {
            "family_variant": "clothing_color_size",
            "categories": ["men"],
            "values": {"name": value("Jacket", "en_US"), "material": value("wool")},
        },
    )
    pim.write(
        "product-models/jacket_red",
        {
            "parent": "jacket",
            "categories": ["summer"],
            "values": {"color": value("red"), "material": value("cotton")},
        },
    )
    pim.write(
        "products/jacket-red-m",
        {"parent": "jacket_red", "values": {"size": value("m"), "stock": value(3)}},
    )


# --- family variants -------------------------------------------------------------------------


def test_catalog_family_variants_are_listed_and_read(pim: Pim) -> None:
    page = pim.get("families/clothing/variants", limit=1, with_count="true")
    assert page["items_count"] == 2
    assert "next" in page["_links"]
    [item] = page["_embedded"]["items"]
    assert item["_links"]["self"]["href"].endswith(
        "/api/rest/v1/families/clothing/variants/clothing_color_size"
    )
    one = pim.get("families/clothing/variants/clothing_color_size")
    assert one == {
        "code": "clothing_color_size",
        "labels": {"en_US": "By color, then size"},
        "variant_attribute_sets": [
            {"level": 1, "axes": ["color"], "attributes": ["material", "color"]},
            {
                "level": 2,
                "axes": ["size"],
                "attributes": ["weight", "stock", "size", "sku", "ean"],
            },
        ],
    }
    unknown_family = pim.call("GET", "families/nope/variants")
    assert (unknown_family.status_code, unknown_family.json()["message"]) == (
        404,
        'Family "nope" does not exist.',
    )
    other_family = pim.call("GET", "families/clothing/variants/shoes_size")
    assert (other_family.status_code, other_family.json()["message"]) == (
        404,
        'Family variant "shoes_size" does not exist or is not a variant of the family "clothing".',
    )


def test_family_variant_writes_and_their_rules(pim: Pim) -> None:
    created = pim.call(
        "POST",
        "families/clothing/variants",
        {"code": "clothing_color", "variant_attribute_sets": [{"level": 1, "axes": ["color"]}]},
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith("/families/clothing/variants/clothing_color")
    assert pim.get("families/clothing/variants/clothing_color")["variant_attribute_sets"] == [
        {"level": 1, "axes": ["color"], "attributes": ["color", "sku", "ean"]}
    ]
    added = {"variant_attribute_sets": [{"level": 1, "attributes": ["weight"]}]}
    pim.write("families/clothing/variants/clothing_color", added, 204)
    assert pim.get("families/clothing/variants/clothing_color")["variant_attribute_sets"] == [
        {"level": 1, "axes": ["color"], "attributes": ["weight", "color", "sku", "ean"]}
    ]
    anchor = "patch_families__family_code__variants__code__"
    path = "families/clothing/variants/clothing_color"
    assert pim.error("PATCH", path, {"family": "clothing"}) == format_error(
        'Property "family" does not exist.', anchor
    )
    two_levels = [{"level": 1, "axes": ["color"]}, {"level": 2, "axes": ["size"]}]
    assert pim.error("PATCH", path, {"variant_attribute_sets": two_levels}) == format_error(
        "The number of variant attribute sets cannot be changed.", anchor
    )
    new_axes = [{"level": 1, "axes": ["size"]}]
    assert pim.error("PATCH", path, {"variant_attribute_sets": new_axes}) == failed(
        ("variant_attribute_sets", 'Variant axes cannot be modified for the level "1"')
    )
    bad = [{"level": 2, "axes": ["name"], "attributes": ["color"]}]
    assert pim.error("PATCH", "families/shoes/variants/bad", {"variant_attribute_sets": bad}) == (
        failed(
            ("variant_attribute_sets", 'There is no variant attribute set for level "1"'),
            (
                "variant_attribute_sets",
                'Variant axes "name" must be a boolean, a simple select, a simple reference '
                "data or a measurement",
            ),
            (
                "variant_attribute_sets",
                'Variant axes "name" cannot be localizable, not scopable and not locale specific',
            ),
        )
    )
    foreign = [{"level": 1, "axes": ["size"], "attributes": ["stock"]}]
    assert pim.error(
        "PATCH", "families/shoes/variants/bad", {"variant_attribute_sets": foreign}
    ) == failed(
        (
            "variant_attribute_sets",
            '"stock" attribute cannot be added to "bad" family variant, as it is not an '
            'attribute of the "shoes" family',
        )
    )
    assert pim.call("GET", "families/shoes/variants/bad").status_code == 404
    elsewhere = pim.call("PATCH", "families/shoes/variants/clothing_color", {"labels": {}})
    assert (elsewhere.status_code, elsewhere.json()["message"]) == (
        404,
        'Family variant "clothing_color" does not exist or is not a variant of the family "shoes".',
    )


def test_family_variant_collection_patch(pim: Pim) -> None:
    results = pim.lines(
        "families/shoes/variants",
        [
            {"code": "shoes_color", "variant_attribute_sets": [{"level": 1, "axes": ["color"]}]},
            {"code": "shoes_size", "labels": {"en_US": "By size"}},
            {"code": "foo,"},
            {"code": " "},
        ],
    )
    assert results == [
        {"line": 1, "code": "shoes_color", "status_code": 201},
        {"line": 2, "code": "shoes_size", "status_code": 204},
        failed_line(
            3,
            "foo,",
            (
                "variant_attribute_sets",
                "There should be at least one level defined in the family variant",
            ),
            ("code", "Family variant code may contain only letters, numbers and underscores"),
        ),
        {"line": 4, "status_code": 422, "message": "Code is missing."},
    ]
    assert pim.get("families/shoes/variants/shoes_size")["labels"] == {"en_US": "By size"}
    codes = [i["code"] for i in pim.get("families/shoes/variants")["_embedded"]["items"]]
    assert codes == ["shoes_size", "shoes_color"]


# --- happy paths -----------------------------------------------------------------------------


def test_two_level_models_and_variants_with_inherited_values(pim: Pim) -> None:
    jacket(pim)
    root = pim.get("product-models/jacket")
    assert {k: root[k] for k in ("code", "family", "family_variant", "parent", "categories")} == {
        "code": "jacket",
        "family": "clothing",
        "family_variant": "clothing_color_size",
        "parent": None,
        "categories": ["men"],
    }
    # `material` belongs to the sub-model level: Akeneo drops it from the root silently.
    assert root["values"] == {"name": value("Jacket", "en_US")}
    assert root["created"].endswith("+00:00")
    assert root["associations"] == {}
    sub = pim.get("product-models/jacket_red")
    assert (sub["parent"], sub["family_variant"], sub["family"]) == (
        "jacket",
        "clothing_color_size",
        "clothing",
    )
    assert sub["values"] == {
        "color": value("red"),
        "material": value("cotton"),
        "name": value("Jacket", "en_US"),
    }
    assert sub["categories"] == ["summer", "men"]
    variant = pim.get("products/jacket-red-m")
    assert (variant["parent"], variant["family"]) == ("jacket_red", "clothing")
    assert variant["values"] == JACKET_RED_M
    assert variant["categories"] == ["summer", "men"]
    # Parent-level values sent to a variant are dropped, as the sandbox stores them.
    pim.write("products/jacket-red-m", {"values": {"material": value("silk")}}, 204)
    assert pim.get("products/jacket-red-m")["values"]["material"] == value("cotton")
    # By uuid, with the identifier as an ordinary value.
    pim.write(
        f"products-uuid/{UUID_1}",
        {
            "parent": "jacket_red",
            "values": {"sku": value("jacket-red-l"), "size": value("l"), "name": value("X")},
        },
    )
    by_uuid = pim.get(f"products-uuid/{UUID_1}")
    assert (by_uuid["parent"], by_uuid["values"]["name"]) == (
        "jacket_red",
        value("Jacket", "en_US"),
    )
    listed = pim.get(
        "products", search=json.dumps({"parent": [{"operator": "=", "value": "jacket"}]})
    )
    assert [p["identifier"] for p in listed["_embedded"]["items"]] == [
        "jacket-red-l",
        "jacket-red-m",
    ]
    assert listed["_embedded"]["items"][1]["values"]["name"] == value("Jacket", "en_US")
    # Dropped: `material` on the root, `material` on jacket-red-m, `name` on jacket-red-l.
    assert pim.process.stats()["values_dropped"] == 3


def test_one_level_family_variant(pim: Pim) -> None:
    pim.write(
        "product-models/tee",
        {"family_variant": "clothing_size", "values": {"name": value("Tee", "en_US")}},
    )
    for size in ("s", "m"):
        pim.write(
            f"products/tee-{size}",
            {"parent": "tee", "values": {"size": value(size), "color": value("blue")}},
        )
    variant = pim.get("products/tee-s")
    assert variant["values"] == {
        "sku": value("tee-s"),
        "size": value("s"),
        "color": value("blue"),
        "name": value("Tee", "en_US"),
    }
    assert pim.error("PATCH", "product-models/tee_blue", {"parent": "tee"}) == failed(
        ("parent", 'The product model "tee_blue" cannot have a parent')
    )


def test_product_model_list_search_and_search_after(pim: Pim) -> None:
    jacket(pim)
    pim.write(
        "product-models/jacket_blue", {"parent": "jacket", "values": {"color": value("blue")}}
    )
    pim.write("product-models/tee", {"family_variant": "clothing_size"})

    def codes(**params: Any) -> list[str]:
        return [m["code"] for m in pim.get("product-models", **params)["_embedded"]["items"]]

    def search(field: str, operator: str, data: Any = None) -> str:
        return json.dumps({field: [{"operator": operator, "value": data}]})

    assert codes() == ["jacket", "jacket_blue", "jacket_red", "tee"]
    assert codes(search=search("parent", "IN", ["jacket"])) == ["jacket_blue", "jacket_red"]
    assert codes(search=search("parent", "EMPTY")) == ["jacket", "tee"]
    assert codes(search=search("parent", "NOT EMPTY")) == ["jacket_blue", "jacket_red"]
    assert codes(search=search("family_variant", "IN", ["clothing_size"])) == ["tee"]
    assert codes(search=search("family", "NOT IN", ["clothing"])) == []
    assert codes(search=search("identifier", "IN", ["tee", "jacket"])) == ["jacket", "tee"]
    assert codes(search=search("updated", ">", "2000-01-01 00:00:00")) == [
        "jacket",
        "jacket_blue",
        "jacket_red",
        "tee",
    ]
    assert codes(search=search("categories", "IN", ["men"])) == ["jacket"]
    first = pim.get("product-models", pagination_type="search_after", limit=3)
    assert [m["code"] for m in first["_embedded"]["items"]] == [
        "jacket",
        "jacket_blue",
        "jacket_red",
    ]
    assert first["_embedded"]["items"][2]["values"]["name"] == value("Jacket", "en_US")
    second = pim.process.api_get(first["_links"]["next"]["href"]).json()
    assert [m["code"] for m in second["_embedded"]["items"]] == ["tee"]
    assert "next" not in second["_links"]
    counted = pim.get("product-models", limit=2, with_count="true")
    assert (counted["items_count"], "next" in counted["_links"]) == (4, True)
    unsupported = pim.call("GET", "product-models", search=search("parent", "=", "jacket"))
    assert unsupported.json()["message"] == (
        'Filter on property "parent" is not supported or does not support operator "="'
    )
    direct = pim.get("products", search=search("parent", "IN", ["jacket_red"]))
    assert [p["identifier"] for p in direct["_embedded"]["items"]] == ["jacket-red-m"]
    pim.write("products/plain", {"family": "clothing"})
    simple = pim.get("products", search=search("parent", "EMPTY"))
    assert [p["identifier"] for p in simple["_embedded"]["items"]] == ["plain"]


def test_post_collection_patch_and_stats(pim: Pim) -> None:
    posted = pim.call("POST", "product-models", {"code": "cap", "family_variant": "clothing_size"})
    assert posted.status_code == 201, posted.text
    assert posted.headers["Location"].endswith("/api/rest/v1/product-models/cap")
    assert pim.error("POST", "product-models", {"code": "cap"}) == failed(
        ("code", "The same code is already set on another product model.")
    )
    assert pim.error("POST", "product-models", {"family_variant": "clothing_size"}) == failed(
        ("code", "The product model code must not be empty.")
    )
    results = pim.lines(
        "product-models",
        [
            {"code": "coat", "family_variant": "clothing_color_size"},
            {"code": "coat_red", "parent": "coat", "values": {"color": value("red")}},
            {"code": "coat_red_2", "parent": "coat", "values": {"color": value("RED")}},
            {"code": "coat", "values": {"name": value("Coat", "en_US")}},
            {"identifier": "coat"},
        ],
    )
    duplicate = (
        'Cannot set value "[RED]" for the attribute axis "color" on product model '
        '"coat_red_2", as the product model "coat_red" already has this value'
    )
    assert results == [
        {"line": 1, "code": "coat", "status_code": 201},
        {"line": 2, "code": "coat_red", "status_code": 201},
        failed_line(3, "coat_red_2", ("attribute", duplicate)),
        {"line": 4, "code": "coat", "status_code": 204},
        {"line": 5, "status_code": 422, "message": "Code is missing."},
    ]
    assert pim.get("product-models/coat")["values"] == {"name": value("Coat", "en_US")}
    assert pim.call("GET", "product-models/coat_red_2").status_code == 404
    too_many = pim.session.patch(
        f"{pim.process.base_url}/api/rest/v1/product-models",
        data="\n".join(json.dumps({"code": f"m{i}"}) for i in range(101)),
        headers={"Content-Type": COLLECTION},
        timeout=10,
    )
    assert (too_many.status_code, too_many.json()["message"]) == (
        413,
        "Too many resources to process, 100 is the maximum allowed.",
    )
    stats = pim.process.stats()
    assert (stats["product_models_written"], stats["product_models_total"]) == (4, 3)
    assert stats["products_written"] == 0
    assert [m["code"] for m in pim.process.all_product_models()] == ["cap", "coat", "coat_red"]
    assert pim.process.get_product_model("coat_red") == pim.get("product-models/coat_red")
    assert pim.process.get_product_model("coat_red_2") is None
    pim.process.reset()
    after = pim.process.stats()
    assert (after["product_models_written"], after["product_models_total"]) == (0, 0)
    assert pim.call("GET", "product-models/coat").status_code == 404


# --- rules -----------------------------------------------------------------------------------

PATCH = "patch_product_models__code_"


def test_family_variant_rules_of_a_model(pim: Pim) -> None:
    assert pim.error("PATCH", "product-models/x", {"family_variant": "nope"}) == format_error(
        'Property "family_variant" expects a valid family variant code. '
        'The family variant does not exist, "nope" given.',
        PATCH,
    )
    assert pim.error("PATCH", "product-models/x", {"family_variant": None}) == format_error(
        'Property "family_variant" does not expect an empty value.', PATCH
    )
    assert pim.error("PATCH", "product-models/x", {"values": {}}) == failed(
        ("family_variant", "The product model family variant must not be empty.")
    )
    jacket(pim)
    assert pim.error(
        "PATCH", "product-models/jacket", {"family_variant": "clothing_size"}
    ) == format_error('Property "family_variant" cannot be modified, "clothing_size" given.', PATCH)
    assert pim.error(
        "PATCH", "product-models/jacket_x", {"parent": "jacket", "family_variant": "clothing_size"}
    ) == format_error(
        'The parent is not a product model of the family variant "clothing_size" but belongs to '
        'the family "clothing_color_size".',
        PATCH,
    )
    assert pim.get("product-models/jacket")["family_variant"] == "clothing_color_size"


def test_parent_rules_of_a_model(pim: Pim) -> None:
    jacket(pim)
    assert pim.error("PATCH", "product-models/x", {"parent": "nope"}) == format_error(
        'Property "parent" expects a valid parent code. '
        'The product model does not exist, "nope" given.',
        PATCH,
    )
    assert pim.error(
        "PATCH", "product-models/x", {"parent": "jacket_red", "values": {"color": value("blue")}}
    ) == format_error(
        'Property "parent" expects a valid parent code. The new parent of the product model '
        'must be a root product model, "jacket_red" given.',
        PATCH,
    )
    pim.write("product-models/coat", {"family_variant": "clothing_color_size"})
    assert pim.error("PATCH", "product-models/coat", {"parent": "jacket"}) == format_error(
        'Property "parent" cannot be modified, "jacket" given.', PATCH
    )
    assert pim.error("PATCH", "product-models/jacket_red", {"parent": None}) == format_error(
        'Property "parent" cannot be modified, "NULL" given.', PATCH
    )
    pim.write("product-models/jacket", {"parent": None}, 204)
    assert pim.error("PATCH", "product-models/jacket_blue", {"parent": "jacket"}) == failed(
        (
            "attribute",
            'Attribute "color" cannot be empty, as it is defined as an axis for this entity',
        )
    )
    assert pim.error("PATCH", "product-models/jacket_red", {"code": "other"}) == {
        "code": 422,
        "message": 'The code "other" provided in the request body must match the code '
        '"jacket_red" provided in the url.',
    }
    assert pim.error("PATCH", "product-models/jacket", {"values": {"nope": value(1)}}) == (
        format_error('Property "nope" does not exist.', PATCH)
    )
    assert pim.error("PATCH", "product-models/jacket", {"groups": []}) == format_error(
        'Property "groups" does not exist.', PATCH
    )
    # A sub model moves to another root of the same family variant.
    pim.write("product-models/jacket_red", {"parent": "coat"}, 204)
    assert pim.get("product-models/jacket_red")["parent"] == "coat"


def test_rules_of_a_variant_product(pim: Pim) -> None:
    jacket(pim)
    anchor = "patch_products__code_"
    assert pim.error("PATCH", "products/v1", {"parent": "nope"}) == format_error(
        'Property "parent" expects a valid parent code. '
        'The parent product model does not exist, "nope" given.',
        anchor,
    )
    assert pim.error("PATCH", "products/v1", {"parent": "jacket_red"}) == failed(
        (
            "attribute",
            'Attribute "size" cannot be empty, as it is defined as an axis for this entity',
        )
    )
    assert pim.error(
        "PATCH", "products/v1", {"parent": "jacket_red", "values": {"size": value("M")}}
    ) == failed(
        (
            "attribute",
            'Cannot set value "[M]" for the attribute axis "size" on variant product "v1", as '
            'the variant product "jacket-red-m" already has this value',
        )
    )
    assert pim.error("PATCH", "products/v1", {"parent": "jacket"}) == failed(
        (
            "attribute",
            'Attribute "color" cannot be empty, as it is defined as an axis for this entity',
        ),
        (
            "parent",
            'The variant product cannot have product model "jacket" as parent, (this product '
            "model can only have other product models as children)",
        ),
        (
            "attribute",
            'Cannot set the property "sku" to this entity as it is not in the attribute set',
        ),
    )
    assert pim.error(
        "PATCH",
        "products/v1",
        {"parent": "jacket_red", "family": "shoes", "values": {"size": value("s")}},
    ) == failed(("family", "The variant product family must be the same than its parent"))
    assert pim.error("PATCH", "products/jacket-red-m", {"family": None}) == failed(
        (
            "family",
            'The family can\'t be "null" because your product with the identifier '
            '"jacket-red-m" is a variant product.',
        )
    )
    pim.write(
        f"products-uuid/{UUID_1}",
        {"parent": "jacket_red", "values": {"sku": value("a"), "size": value("s")}},
    )
    assert pim.error(
        "PATCH",
        f"products-uuid/{UUID_2}",
        {"parent": "jacket_red", "values": {"sku": value("b"), "size": value("s")}},
    ) == failed(
        (
            "attribute",
            f'Cannot set value "[s]" for the attribute axis "size" on variant product "{UUID_2}", '
            f'as the variant product "{UUID_1}" already has this value',
        )
    )
    assert pim.call("GET", "products/v1").status_code == 404


def test_simple_product_becomes_a_variant_and_back(pim: Pim) -> None:
    jacket(pim)
    pim.write("products/loose", {"family": "clothing", "values": {"name": value("Loose", "en_US")}})
    # `name` is stored on the product but belongs to the root level: Akeneo refuses the move.
    assert pim.error(
        "PATCH", "products/loose", {"parent": "jacket_red", "values": {"size": value("l")}}
    ) == failed(
        (
            "attribute",
            'Cannot set the property "name" to this entity as it is not in the attribute set',
        )
    )
    pim.write("products/loose", {"values": {"name": value(None, "en_US")}}, 204)
    pim.write("products/loose", {"parent": "jacket_red", "values": {"size": value("l")}}, 204)
    assert pim.get("products/loose")["parent"] == "jacket_red"
    # Variant to simple keeps every value and category it showed.
    pim.write("products/jacket-red-m", {"parent": None}, 204)
    simple = pim.get("products/jacket-red-m")
    assert simple["parent"] is None
    assert simple["values"] == JACKET_RED_M
    assert simple["categories"] == ["summer", "men"]
    assert pim.process.stats()["products_written"] == 5


def test_deleting_a_model_deletes_its_children(pim: Pim) -> None:
    jacket(pim)
    pim.write("products/other", {"family": "clothing"})
    assert pim.call("DELETE", "product-models/jacket").status_code == 204
    assert pim.call("GET", "product-models/jacket_red").status_code == 404
    assert pim.call("GET", "products/jacket-red-m").status_code == 404
    assert [p["identifier"] for p in pim.process.all_products()] == ["other"]
    again = pim.call("DELETE", "product-models/jacket")
    assert (again.status_code, again.json()["message"]) == (
        404,
        'Product model "jacket" does not exist or you do not have permission to access it.',
    )


def test_catalog_family_variants_are_checked_at_start(tmp_path: Path) -> None:
    catalog = json.loads(CATALOG.read_text())
    catalog["family_variants"] = [
        {
            "code": "by_name",
            "family": "clothing",
            "variant_attribute_sets": [{"level": 1, "axes": ["ean"]}],
        }
    ]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    with pytest.raises(RuntimeError) as error:
        SandboxProcess(catalog=path).start()
    assert (
        f"akeneo-sandbox: error: {path}: family_variants[1] (by_name): "
        'Variant axes "ean" must be a boolean, a simple select, a simple reference data or a '
        "measurement"
    ) in str(error.value)


def test_demo_catalog_has_a_two_level_family_variant() -> None:
    with SandboxProcess() as demo:
        response = demo.api_get("families/clothing/variants/clothing_color_size")
        assert response.status_code == 200
        sets = response.json()["variant_attribute_sets"]
        assert [(s["level"], s["axes"]) for s in sets] == [(1, ["color"]), (2, ["size"])]


def test_a_variant_matches_updated_when_an_ancestor_was_updated(pim: Pim) -> None:
    jacket(pim)
    pim.write("products/plain", {"family": "clothing"})
    cutoff = pim.get("products/plain")["updated"]  # written last: nothing is newer
    time.sleep(1.1)  # timestamps have a one-second resolution
    pim.write("product-models/jacket", {"values": {"name": value("Coat", "en_US")}}, 204)
    since = json.dumps({"updated": [{"operator": ">", "value": cutoff}]})
    listed = pim.get("products", search=since)
    assert [p["identifier"] for p in listed["_embedded"]["items"]] == ["jacket-red-m"]
    models = pim.get("product-models", search=since)
    assert [m["code"] for m in models["_embedded"]["items"]] == ["jacket"]


def test_models_and_created_family_variants_survive_a_restart(tmp_path: Path) -> None:
    with SandboxProcess(catalog=CATALOG, db=str(tmp_path / "pim.db")) as running:
        pim = Pim(running)
        sets = [{"level": 1, "axes": ["size"]}]
        pim.write("families/shoes/variants/shoes_by_size", {"variant_attribute_sets": sets})
        pim.write("product-models/boot", {"family_variant": "shoes_by_size"})
        pim.write("products/boot-42", {"parent": "boot", "values": {"size": value("m")}})
        running.restart()
        assert running.get_product_model("boot") is not None
        variant = running.get_product("boot-42")
        assert variant is not None
        assert variant["parent"] == "boot"
        shown = running.api_get("families/shoes/variants/shoes_by_size")
        assert shown.status_code == 200
        assert running.stats()["product_models_total"] == 1


def test_variant_products_in_one_batch_are_checked_line_by_line(pim: Pim) -> None:
    jacket(pim)
    results = pim.lines(
        "products",
        [
            {"identifier": "jacket-red-s", "parent": "jacket_red", "values": {"size": value("s")}},
            {"identifier": "jacket-red-s2", "parent": "jacket_red", "values": {"size": value("s")}},
            {"identifier": "jacket-red-m", "values": {"size": value("l")}},
        ],
    )
    duplicate = (
        'Cannot set value "[s]" for the attribute axis "size" on variant product '
        '"jacket-red-s2", as the variant product "jacket-red-s" already has this value'
    )
    assert results == [
        {"line": 1, "identifier": "jacket-red-s", "status_code": 201},
        {
            "line": 2,
            "identifier": "jacket-red-s2",
            "status_code": 422,
            "message": "Validation failed.",
            "errors": [{"property": "attribute", "message": duplicate}],
        },
        {"line": 3, "identifier": "jacket-red-m", "status_code": 204},
    ]
    assert pim.get("products/jacket-red-m")["values"]["size"] == value("l")
    assert pim.call("GET", "products/jacket-red-s2").status_code == 404
