"""Associations and quantified associations on products, through the real process."""

from __future__ import annotations

from typing import Any

import pytest

from .http_api import Api

pytestmark = pytest.mark.slow

PATCH_DOC = "http://api.akeneo.com/api-reference.html#patch_products__code_"
UUID_DOC = "http://api.akeneo.com/api-reference.html#patch_products_uuid__uuid_"
HINT = " Check the expected format on the API documentation."


def updater_error(message: str, doc: str = PATCH_DOC) -> dict[str, Any]:
    return {"code": 422, "message": message + HINT, "_links": {"documentation": {"href": doc}}}


def seed(api: Api, *identifiers: str) -> dict[str, str]:
    """Create products; their uuids by identifier."""
    lines = api.collection("products", [{"identifier": i} for i in identifiers])
    assert [line["status_code"] for line in lines] == [201] * len(identifiers)
    return {i: api.product(i)["uuid"] for i in identifiers}


def test_associations_are_stored_and_shown_per_route_family(api: Api) -> None:
    uuids = seed(api, "CHAIR", "TABLE", "CUSHION")
    body = {
        "associations": {"X_SELL": {"products": ["CHAIR", "CUSHION"]}},
        "quantified_associations": {
            "BUNDLE": {"products": [{"identifier": "CHAIR", "quantity": 4}]}
        },
    }
    assert api.patch("products/TABLE", body).status_code == 204
    table = api.product("TABLE")
    assert table["associations"] == {
        "X_SELL": {"products": ["CHAIR", "CUSHION"], "product_models": [], "groups": []}
    }
    assert table["quantified_associations"] == {
        "BUNDLE": {"products": [{"identifier": "CHAIR", "quantity": 4}], "product_models": []}
    }
    by_uuid = api.get(f"products-uuid/{uuids['TABLE']}").json()
    assert by_uuid["associations"]["X_SELL"]["products"] == [uuids["CHAIR"], uuids["CUSHION"]]
    assert by_uuid["quantified_associations"]["BUNDLE"]["products"] == [
        {"uuid": uuids["CHAIR"], "quantity": 4}
    ]
    # Only the lists sent are replaced; other types and keys stay.
    assert (
        api.patch("products/TABLE", {"associations": {"X_SELL": {"groups": []}}}).status_code == 204
    )
    assert api.product("TABLE")["associations"]["X_SELL"]["products"] == ["CHAIR", "CUSHION"]
    listed = api.get("products", search='{"identifier":[{"operator":"IN","value":["CHAIR"]}]}')
    assert listed.json()["_embedded"]["items"][0]["associations"] == {
        "X_SELL": {"products": [], "product_models": [], "groups": []}
    }


def test_uuid_routes_take_uuids_in_associations(api: Api) -> None:
    uuids = seed(api, "CHAIR", "TABLE")
    path = f"products-uuid/{uuids['TABLE']}"
    by_identifier = api.patch(path, {"associations": {"X_SELL": {"products": ["CHAIR"]}}})
    assert by_identifier.json() == updater_error(
        'Property "associations" expects a valid product uuid. The product does not exist, '
        '"CHAIR" given.',
        UUID_DOC,
    )
    quantified = {"BUNDLE": {"products": [{"uuid": uuids["CHAIR"], "quantity": 2}]}}
    body = {
        "associations": {"X_SELL": {"products": [uuids["CHAIR"]]}},
        "quantified_associations": quantified,
    }
    assert api.patch(path, body).status_code == 204
    table = api.product("TABLE")
    assert table["associations"]["X_SELL"]["products"] == ["CHAIR"]
    assert table["quantified_associations"]["BUNDLE"]["products"] == [
        {"identifier": "CHAIR", "quantity": 2}
    ]


def test_association_updater_errors(api: Api) -> None:
    seed(api, "TABLE")
    cases = [
        ({"NOPE": {"products": []}}, 'Property "associations" expects a valid association type '
         'code. The association type does not exist or is quantified, "NOPE" given.'),
        ({"BUNDLE": {"products": []}}, 'Property "associations" expects a valid association type '
         'code. The association type does not exist or is quantified, "BUNDLE" given.'),
        ({"X_SELL": {"products": ["GHOST"]}}, 'Property "associations" expects a valid product '
         'identifier. The product does not exist, "GHOST" given.'),
        ({"X_SELL": {"product_models": ["amor"]}}, 'Property "associations" expects a valid '
         'product model identifier. The product model does not exist, "amor" given.'),
        ({"X_SELL": {"groups": ["promo"]}}, 'Property "associations" expects a valid group code. '
         'The group does not exist, "promo" given.'),
        ({"X_SELL": {"variants": []}}, 'Property "associations" does not expect the key '
         '"variants".'),
    ]  # fmt: skip
    for associations, message in cases:
        response = api.patch("products/TABLE", {"associations": associations})
        assert response.json() == updater_error(message), associations
    assert api.product("TABLE")["associations"] == {
        "X_SELL": {"products": [], "product_models": [], "groups": []}
    }


def test_quantified_association_rules(api: Api) -> None:
    seed(api, "CHAIR", "TABLE")
    structure = 'Property "quantified_associations" expects an array with valid data, '
    cases: list[tuple[Any, dict[str, Any]]] = [
        ([{"identifier": "CHAIR", "quantity": 4}],
         updater_error(structure + "association type code should be a string.")),
        ({"BUNDLE": {"products": [{"identifier": "CHAIR", "quantity": "4"}]}},
         updater_error(structure + "a quantified association should contain a valid quantity.")),
        ({"BUNDLE": {"products": [{"identifier": "CHAIR"}]}},
         updater_error(structure + 'a quantified association should contain the key "quantity".')),
        ({"BUNDLE": {"product_models": [{"code": "amor", "quantity": 1}]}},
         updater_error(structure + 'a quantified association should contain the key '
                       '"identifier".')),
        ({"GHOST_TYPE": {"products": []}},
         {"code": 422, "message": "Validation failed.", "errors": [
             {"property": "quantifiedAssociations.GHOST_TYPE",
              "message": "This association type doesn't exist. Please make sure it hasn't been "
                         "deleted in the meantime."}]}),
        ({"X_SELL": {"products": [{"identifier": "CHAIR", "quantity": 1}]}},
         {"code": 422, "message": "Validation failed.", "errors": [
             {"property": "quantifiedAssociations.X_SELL",
              "message": '"X_SELL" can’t be used for associations with quantities. Please, '
                         "choose a different association type with quantities or use the "
                         '"associations" property.'}]}),
        ({"BUNDLE": {"products": [{"identifier": "GHOST", "quantity": 0},
                                  {"identifier": "CHAIR", "quantity": 2147483648}]}},
         {"code": 422, "message": "Validation failed.", "errors": [
             {"property": "quantifiedAssociations.BUNDLE.products[0].quantity",
              "message": '"0" is an invalid quantity. Please, write a value between 1 and '
                         "2147483647."},
             {"property": "quantifiedAssociations.BUNDLE.products[1].quantity",
              "message": '"2147483648" is an invalid quantity. Please, write a value between 1 '
                         "and 2147483647."},
             {"property": "quantifiedAssociations.BUNDLE.products",
              "message": "The following products don't exist: GHOST. Please make sure the "
                         "products haven't been deleted in the meantime."}]}),
    ]  # fmt: skip
    for quantified, expected in cases:
        response = api.patch("products/TABLE", {"quantified_associations": quantified})
        assert (response.status_code, response.json()) == (422, expected), quantified
    many = [{"identifier": "CHAIR", "quantity": 1}] * 101
    too_many = api.patch(
        "products/TABLE", {"quantified_associations": {"BUNDLE": {"products": many}}}
    )
    assert too_many.json()["errors"] == [
        {
            "property": "quantifiedAssociations.BUNDLE",
            "message": "You've reached the limit of 100 associations. Please, delete some "
            "existing associations before adding new ones.",
        }
    ]
    assert api.product("TABLE")["quantified_associations"] == {}
    assert api.patch("products/TABLE", {"quantified_associations": []}).status_code == 204
