"""The mapping against the stream's schema: misspelled and dotted fields, map keys, categories."""

from __future__ import annotations

from typing import Any

import yaml

from target_akeneo.mapping import (
    category_codes,
    check_against_schema,
    parse_mapping,
)
from target_akeneo.testing import SCHEMA, acceptance_mapping


def problems(products: dict[str, Any], schema: dict[str, Any] = SCHEMA) -> list[str]:
    streams = parse_mapping({"products": products}, "mapping.yml")
    return check_against_schema(streams["products"], schema)


def test_the_acceptance_mapping_fits_the_acceptance_schema() -> None:
    streams = parse_mapping(acceptance_mapping(), "mapping.yml")
    assert check_against_schema(streams["products"], SCHEMA) == []


def test_a_misspelled_field_is_named_with_a_suggestion() -> None:
    found = problems({"identifier": "sku", "values": {"name": {"field": "nmae", "locale": "x"}}})
    assert found == [
        "mapping.yml: products.values.name: field 'nmae' is not in the stream's schema"
        " (did you mean 'name'?)"
    ]


def test_dotted_paths_are_checked_through_nested_objects() -> None:
    schema = {
        "properties": {
            "sku": {"type": "string"},
            "dimensions": {"type": "object", "properties": {"weight": {"type": "number"}}},
            "description": {"type": "object", "additionalProperties": {"type": "string"}},
        }
    }
    ok = {"identifier": "sku", "values": {"w": "dimensions.weight", "d": "description.EN"}}
    assert problems(ok, schema) == []
    bad = {"identifier": "sku", "values": {"w": "dimensions.wieght", "t": "description.EN.text"}}
    assert problems(bad, schema) == [
        "mapping.yml: products.values.w: field 'dimensions.wieght': 'wieght' is not a key of "
        "'dimensions' in the stream's schema (did you mean 'dimensions.weight'?)",
    ]


def test_a_dotted_path_reads_the_nested_value() -> None:
    streams = parse_mapping({"products": {"identifier": "ids.sku"}}, "mapping.yml")
    assert streams["products"].identifier.read({"ids": {"sku": "A-1"}}) == "A-1"
    assert streams["products"].identifier.read({"ids": "flat"}) is None


def test_yaml_number_and_boolean_keys_match_the_values_text() -> None:
    raw = yaml.safe_load(
        "products: {identifier: sku, categories: {field: gpc, map: {276: gpc_276}},"
        " enabled: {field: flag, map: {true: true, 0: false}}}"
    )
    mapping = parse_mapping(raw, "mapping.yml")["products"]
    assert mapping.categories is not None
    assert mapping.enabled is not None
    assert mapping.categories.read({"gpc": "276"}) == "gpc_276"
    assert mapping.categories.read({"gpc": 276}) == "gpc_276"
    assert mapping.categories.read({"gpc": ["276", "999"]}) == ["gpc_276", "999"]
    assert mapping.enabled.read({"flag": True}) is True
    assert mapping.enabled.read({"flag": "0"}) is False


def test_map_keys_that_can_never_match_are_reported() -> None:
    schema = {
        "properties": {
            "sku": {"type": "string"},
            "flag": {"type": ["boolean", "null"]},
            "count": {"type": "integer"},
            "state": {"type": "string", "enum": ["A", "B"]},
        }
    }
    found = problems(
        {
            "identifier": "sku",
            "enabled": {"field": "flag", "map": {"yes": True, "true": True}},
            "family": {"field": "count", "map": {"1": "one", "1.5": "odd", "x": "no"}},
            "categories": {"field": "state", "map": {"A": "a", "C": "c"}},
        },
        schema,
    )
    assert found == [
        "mapping.yml: products.family.map: key '1.5' can never match: field 'count' is integer",
        "mapping.yml: products.family.map: key 'x' can never match: field 'count' is integer",
        "mapping.yml: products.categories.map: key 'C' can never match: field 'state' is "
        "string with values ['A', 'B']",
        "mapping.yml: products.enabled.map: key 'yes' can never match: field 'flag' is boolean",
    ]


def test_price_keys_are_checked_against_the_items_schema() -> None:
    found = problems(
        {"identifier": "sku", "values": {"price": {"field": "prices", "amount": "amout"}}}
    )
    assert found == [
        "mapping.yml: products.values.price.amount: 'amout' is not a key of field 'prices' "
        "in the stream's schema"
    ]


def test_category_codes_named_by_the_mapping() -> None:
    streams = parse_mapping(
        {"products": {"identifier": "sku", "categories": {"field": "c", "map": {"1": "one"},
                                                         "default": "misc"}}},
        "mapping.yml",
    )  # fmt: skip
    assert category_codes(streams["products"]) == {"one", "misc"}
    constant = parse_mapping(
        {"products": {"identifier": "sku", "categories": {"value": ["a", "b"]}}}, "mapping.yml"
    )
    assert category_codes(constant["products"]) == {"a", "b"}
