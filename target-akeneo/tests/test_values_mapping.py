"""Unit tests: value shaping, mapping parsing, validation against the PIM, compilation."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest

from target_akeneo import values
from target_akeneo.errors import MappingError, ValueShapeError
from target_akeneo.mapping import compile_mapping, parse_mapping, validate_mapping
from target_akeneo.testing import (
    ACCEPTANCE_RECORDS,
    acceptance_mapping,
    expected,
    structure_from_catalog,
)


def compiled(mapping: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    streams = parse_mapping(mapping or acceptance_mapping(), "mapping.yml")
    pim = structure_from_catalog()
    validate_mapping(streams, pim, **kwargs)
    return compile_mapping(streams["products"], pim)


@pytest.mark.parametrize(
    ("raw", "shortest", "money"),
    [
        (0.82, "0.82", "0.82"),
        (180.0, "180", "180.00"),
        (decimal.Decimal("129.90"), "129.9", "129.90"),
        (129.9, "129.9", "129.90"),
        (49, "49", "49.00"),
        ("12.345", "12.345", "12.345"),
        (decimal.Decimal("1E+2"), "100", "100.00"),
    ],
)
def test_number_formats(raw: Any, shortest: str, money: str) -> None:
    assert values.shortest_decimal(raw) == shortest
    assert values.money(raw) == money


def test_integer_rejects_fraction_and_bool() -> None:
    assert values.integer(decimal.Decimal("180.0")) == 180
    with pytest.raises(ValueShapeError, match="integer"):
        values.integer(1.5)
    with pytest.raises(ValueShapeError):
        values.to_decimal(True)


def test_dates_and_booleans() -> None:
    assert values.date("2026-03-01") == "2026-03-01T00:00:00+00:00"
    assert values.date(datetime.date(2026, 3, 1)) == "2026-03-01T00:00:00+00:00"
    assert values.boolean("Y") is True
    assert values.boolean(0) is False
    with pytest.raises(ValueShapeError):
        values.date("01/03/2026")
    with pytest.raises(ValueShapeError):
        values.boolean("maybe")


def _as_pim(payload: dict[str, Any]) -> dict[str, Any]:
    """What the PIM stores for a payload sent by identifier: the identifier value is added."""
    product = {k: v for k, v in payload.items() if k != "identifier"}
    product["values"] = {
        "sku": [{"locale": None, "scope": None, "data": payload["identifier"]}],
        **payload.get("values", {}),
    }
    return product


def test_acceptance_records_compile_to_expected_payloads() -> None:
    build = compiled().build
    want = expected()
    for record in ACCEPTANCE_RECORDS[:3]:
        identifier, payload = build(record)
        assert _as_pim(payload) == want[identifier]


def test_empty_categories_are_sent_and_absent_fields_are_not() -> None:
    _, payload = compiled().build(ACCEPTANCE_RECORDS[2])
    assert payload["categories"] == []
    assert "ean" not in payload["values"]
    assert "description" not in payload["values"]
    assert payload["family"] == "accessories"


def test_value_missing_from_map_without_default_passes_through() -> None:
    _, payload = compiled().build(ACCEPTANCE_RECORDS[3])
    assert payload["values"]["color"][0]["data"] == "PURPLE"


def test_sdk_parsed_dates_and_decimals_are_shaped() -> None:
    record = dict(ACCEPTANCE_RECORDS[0])
    record["release_date"] = datetime.date(2026, 3, 1)
    record["weight"] = decimal.Decimal("0.82")
    record["prices"] = [{"amount": decimal.Decimal("129.90"), "currency": "EUR"}]
    _, payload = compiled().build(record)
    assert payload["values"]["release_date"][0]["data"] == "2026-03-01T00:00:00+00:00"
    assert payload["values"]["weight"][0]["data"] == {"amount": "0.82", "unit": "KILOGRAM"}
    assert payload["values"]["price"][0]["data"] == [{"amount": "129.90", "currency": "EUR"}]


def test_unshapeable_value_names_attribute_and_field() -> None:
    record = dict(ACCEPTANCE_RECORDS[0], weight="heavy")
    with pytest.raises(ValueShapeError, match=r"values\.weight \(field 'weight'\)"):
        compiled().build(record)


def test_missing_identifier_is_a_record_error() -> None:
    record = dict(ACCEPTANCE_RECORDS[0], sku=None)
    with pytest.raises(ValueShapeError, match="identifier"):
        compiled().build(record)


def test_bad_mapping_reports_every_problem() -> None:
    mapping = acceptance_mapping()
    product = mapping["products"]
    product["values"]["colour"] = product["values"].pop("color")
    product["values"]["name"] = {"field": "name", "locales": {"en": "en_US", "it": "it_IT"}}
    product["values"]["ean"] = {"field": "ean", "locale": "en_US"}
    product["values"]["description"] = {"field": "description", "locales": {"en": "en_US"}}
    product["values"]["weight"] = {"field": "weight", "unit": "LITER"}
    product["values"]["release_date"] = {"field": "release_date", "scope": "print"}
    product["family"]["map"]["SHOES"] = "shoez"
    with pytest.raises(MappingError) as caught:
        compiled(mapping)
    problems = caught.value.messages
    text = "\n".join(problems)
    assert "attribute 'colour' does not exist in the PIM (did you mean 'color'?)" in text
    assert "locale 'it_IT' is not activated" in text
    assert "attribute 'ean' is not localizable" in text
    assert "attribute 'description' is scopable" in text
    assert "unit 'LITER' is not in the measurement family 'Weight'" in text
    assert "attribute 'release_date' is not scopable" in text
    assert "channel 'print' does not exist" in text
    assert "family 'shoez' does not exist" in text
    assert len(problems) == 8
    assert all(
        "\n" not in problem and problem.startswith("mapping.yml: products") for problem in problems
    )


def test_syntax_problems_are_reported_before_any_pim_check() -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping({"products": {"values": {"name": {"fieldd": "x"}}}}, "m.yml")
    text = "\n".join(caught.value.messages)
    assert "m.yml: products.identifier: required" in text
    assert "unknown key(s) fieldd" in text


def test_unknown_option_in_map_is_a_problem_unless_options_are_created() -> None:
    mapping = acceptance_mapping()
    mapping["products"]["values"]["color"]["map"]["PU"] = "purple"
    with pytest.raises(MappingError, match="option 'purple' does not exist"):
        compiled(mapping)
    assert compiled(mapping, create_options=True).select_attributes == (("color", False),)


def test_plain_amount_with_a_constant_currency() -> None:
    mapping = acceptance_mapping()
    mapping["products"]["values"]["price"] = {"field": "price_eur", "currency": {"value": "EUR"}}
    record = dict(ACCEPTANCE_RECORDS[0], price_eur=114.9)
    _, payload = compiled(mapping).build(record)
    assert payload["values"]["price"][0]["data"] == [{"amount": "114.90", "currency": "EUR"}]


def test_constant_currency_must_be_activated() -> None:
    mapping = acceptance_mapping()
    mapping["products"]["values"]["price"] = {"field": "price_gbp", "currency": {"value": "GBP"}}
    with pytest.raises(MappingError, match="currency 'GBP' is not an activated currency"):
        compiled(mapping)
