"""Codes of new options, attributes, categories and association types; category rules."""

from __future__ import annotations

import pytest

from .http_api import Api

pytestmark = pytest.mark.slow

CATEGORY_CODE = "Category code may contain only letters, numbers and underscores"
PATCH_CATEGORY_DOC = "http://api.akeneo.com/api-reference.html#patch_categories__code_"


def failed(*errors: tuple[str, str]) -> dict[str, object]:
    return {
        "code": 422,
        "message": "Validation failed.",
        "errors": [{"property": p, "message": m} for p, m in errors],
    }


def failed_line(line: int, code: str, *errors: tuple[str, str]) -> dict[str, object]:
    """A collection line refused by the validator: keyed by `code`, with `status_code`."""
    body = failed(*errors)
    del body["code"]
    return {"line": line, "code": code, "status_code": 422, **body}


def test_option_codes_are_letters_digits_and_underscores(api: Api) -> None:
    refused = api.post("attributes/color/options", {"code": "Movano Premium"})
    assert refused.status_code == 422
    assert refused.json() == failed(
        ("code", "Option code may contain only letters, numbers and underscores")
    )
    lines = api.collection(
        "attributes/color/options", [{"code": "foo,"}, {"code": "Movano_Premium_2"}]
    )
    assert lines == [
        failed_line(
            1, "foo,", ("code", "Option code may contain only letters, numbers and underscores")
        ),
        {"line": 2, "code": "Movano_Premium_2", "status_code": 201},
    ]
    single = api.patch("attributes/color/options/shoe%20size", {"labels": {"en_US": "Shoe size"}})
    assert single.status_code == 422
    options = api.get("attributes/color/options").json()["_embedded"]["items"]
    assert [o["code"] for o in options] == ["red", "blue", "green", "Movano_Premium_2"]


def test_attribute_codes_follow_akeneo_rules(api: Api) -> None:
    text = {"type": "pim_catalog_text", "group": "other"}
    cases = [
        ("foo,", [("code", "Attribute code may contain only letters, numbers and underscore")]),
        ("family", [("code", "This code is not available")]),
        ("spare_products", [("code", "This code is not available")]),
        ("ID", [("code", "This code is not available")]),
        ("a" * 256, [("code", "This value is too long. It should have 255 characters or less.")]),
    ]
    for code, errors in cases:
        response = api.post("attributes", {"code": code, **text})
        assert (response.status_code, response.json()) == (422, failed(*errors)), code
    assert api.post("attributes", {"code": "Family_name", **text}).status_code == 201
    assert api.post("attributes", {"code": "iD_number", **text}).status_code == 201
    codes = [a["code"] for a in api.get("attributes", limit=100).json()["_embedded"]["items"]]
    assert "Family_name" in codes
    assert "family" not in codes


def test_category_code_parent_and_labels(api: Api) -> None:
    bad_code = api.post("categories", {"code": "Shirts > Polos", "parent": "master"})
    assert bad_code.json() == failed(("code", CATEGORY_CODE))
    long_code = api.post("categories", {"code": "c" * 101, "parent": "master"})
    assert long_code.json() == failed(
        ("code", "This value is too long. It should have 100 characters or less.")
    )
    unknown_parent = api.post("categories", {"code": "polos", "parent": "shirts"})
    assert unknown_parent.status_code == 422
    assert unknown_parent.json() == {
        "code": 422,
        "message": 'Property "parent" expects a valid category code. The category does not '
        'exist, "shirts" given. Check the expected format on the API documentation.',
        "_links": {"documentation": {"href": PATCH_CATEGORY_DOC}},
    }
    labels = api.post(
        "categories", {"code": "polos", "parent": "master", "labels": {"xx_XX": "Polos"}}
    )
    assert labels.json() == failed(("labels", 'The locale "xx_XX" does not exist.'))
    assert api.get("categories/polos").status_code == 404

    created = api.post(
        "categories",
        {"code": "polos", "parent": "master", "labels": {"en_US": "Polos", "de_DE": ""}},
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith("/api/rest/v1/categories/polos")
    stored = api.get("categories/polos").json()
    assert (stored["parent"], stored["labels"]) == ("master", {"en_US": "Polos"})
    lines = api.collection(
        "categories",
        [
            {"code": "foo", "parent": "bar"},
            {"code": "foo,"},
            {"code": "polo_shirts", "parent": "polos", "labels": {"fr_FR": "Polos"}},
        ],
    )
    assert lines[0] == {
        "line": 1,
        "code": "foo",
        "status_code": 422,
        "message": 'Property "parent" expects a valid category code. The category does not '
        'exist, "bar" given. Check the expected format on the API documentation.',
        "_links": {"documentation": {"href": PATCH_CATEGORY_DOC}},
    }
    assert lines[1] == failed_line(2, "foo,", ("code", CATEGORY_CODE))
    assert lines[2] == {"line": 3, "code": "polo_shirts", "status_code": 201}
    assert api.get("categories/polo_shirts").json()["parent"] == "polos"
    moved = api.patch("categories/polo_shirts", {"parent": "nowhere"})
    assert moved.status_code == 422
    assert api.get("categories/polo_shirts").json()["parent"] == "polos"


def test_association_types_are_served_from_the_catalog(api: Api) -> None:
    listed = api.get("association-types", with_count="true").json()
    assert listed["items_count"] == 2
    assert [
        {k: v for k, v in item.items() if k != "_links"} for item in listed["_embedded"]["items"]
    ] == [
        {
            "code": "X_SELL",
            "labels": {"en_US": "Cross sell"},
            "is_quantified": False,
            "is_two_way": False,
        },
        {
            "code": "BUNDLE",
            "labels": {"en_US": "Bundle"},
            "is_quantified": True,
            "is_two_way": False,
        },
    ]
    one = api.get("association-types/BUNDLE")
    assert one.json()["is_quantified"] is True
    missing = api.get("association-types/NOPE")
    assert missing.json() == {"code": 404, "message": 'Association type "NOPE" does not exist.'}
    bad = api.post("association-types", {"code": "spare-parts"})
    assert bad.json() == failed(
        ("code", "Association type code may contain only letters, numbers and underscores")
    )
    immutable = api.patch("association-types/BUNDLE", {"is_quantified": False})
    assert immutable.status_code == 422
    assert api.post("association-types", {"code": "SPARE_PARTS"}).status_code == 201
    assert api.get("association-types/SPARE_PARTS").json()["is_quantified"] is False
